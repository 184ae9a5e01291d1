"""Every CSV loader, fed generated broken files, returns a correct typed table or a clear error.

Covered: the seed tables (:mod:`analysis.loaders`), the budget pressures stated in the text
(:func:`analysis.loaders.load_text_pressures`), the council's monthly extracts
(:mod:`analysis.localdata`) and the optional post-level establishment
(:func:`analysis.costs.load_establishment`). Each starts from a real valid file and is broken
by drawn mutations (wrong types, missing, extra and repeated columns, blank and padded cells,
huge, negative, NaN and infinite numbers, repeated keys, years and months out of range, ragged
rows), written in a drawn encoding (UTF-8 with or without BOM, UTF-16, cp1252, Mac Roman) and
line ending (LF, CRLF, CR), or replaced by random bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fuzzing import assert_contract, assert_typed_table, broken_file, read_rows, write_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import costs, loaders, localdata
from analysis.paths import project_root, seed_dir
from analysis.tables import TableSpec

TEMPLATES = project_root() / "docs" / "templates"


@dataclass(frozen=True)
class Case:
    name: str
    load: Callable[[Path], pd.DataFrame]
    spec: TableSpec
    rows: list[list[str]]


def _first_months(rows: list[list[str]], months: int) -> list[list[str]]:
    """The header and the rows of the first ``months`` months: a small, still valid extract."""
    kept = sorted({r[0] for r in rows[1:]})[:months]
    return [rows[0], *(r for r in rows[1:] if r[0] in kept)]


CASES = (
    Case(
        "tom_structures",
        loaders.load_tom_structures,
        loaders.TOM_STRUCTURES,
        read_rows(seed_dir() / "tom_structures.csv"),
    ),
    Case(
        "budget_trajectory",
        loaders.load_budget_trajectory,
        loaders.BUDGET_TRAJECTORY,
        read_rows(seed_dir() / "budget_trajectory.csv"),
    ),
    Case(
        "published_assumptions",
        loaders.load_published_assumptions,
        loaders.PUBLISHED_ASSUMPTIONS,
        read_rows(seed_dir() / "published_assumptions.csv"),
    ),
    Case(
        "budget_text_pressures",
        loaders.load_text_pressures,
        loaders.TEXT_PRESSURES,
        read_rows(seed_dir() / "budget_text_pressures.csv"),
    ),
    Case(
        "demand_monthly",
        localdata.load_demand_extract,
        localdata.DEMAND_EXTRACT,
        _first_months(read_rows(TEMPLATES / "demand_monthly.csv"), 2),
    ),
    Case(
        "workforce_monthly",
        localdata.load_workforce_extract,
        localdata.WORKFORCE_EXTRACT,
        read_rows(TEMPLATES / "workforce_monthly.csv"),
    ),
    Case(
        "establishment",
        costs.load_establishment,
        costs.ESTABLISHMENT,
        read_rows(TEMPLATES / "establishment.csv"),
    ),
)


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_starting_files_are_valid(case: Case, folder: Path) -> None:
    path = folder / f"{case.name}.csv"
    path.write_text(write_rows(case.rows), encoding="utf-8")
    assert_typed_table(case.load(path), case.spec)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=60)
@given(data=st.data())
def test_a_broken_file_gives_a_typed_table_or_a_clear_error(
    case: Case, folder: Path, data: st.DataObject
) -> None:
    path = folder / f"{case.name}.csv"
    path.write_bytes(data.draw(broken_file(case.rows), label="file"))
    outcome = assert_contract(lambda: case.load(path), path)
    if outcome.table is not None:
        assert_typed_table(outcome.table, case.spec)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=20)
@given(data=st.data())
def test_random_bytes_after_a_valid_header_give_a_clear_error_or_a_table(
    case: Case, folder: Path, data: st.DataObject
) -> None:
    header = write_rows(case.rows[:1]).encode() if data.draw(st.booleans()) else b""
    path = folder / f"{case.name}.csv"
    path.write_bytes(header + data.draw(st.binary(max_size=300), label="bytes"))
    outcome = assert_contract(lambda: case.load(path), path)
    if outcome.table is not None:
        assert_typed_table(outcome.table, case.spec)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=15)
@given(data=st.data())
def test_a_valid_file_reads_the_same_whatever_its_bom_line_ending_quoting_padding_or_order(
    case: Case, folder: Path, data: st.DataObject
) -> None:
    """Saving the same table another way (Excel's BOM, Windows or old Mac line endings, every
    cell quoted, cells padded with spaces, columns in another order) changes nothing read."""
    reference = folder / f"{case.name}_reference.csv"
    reference.write_text(write_rows(case.rows), encoding="utf-8")
    expected = case.load(reference)
    order = data.draw(st.permutations(range(len(case.rows[0]))), label="column order")
    pad = data.draw(st.sampled_from(("", " ", "  ")), label="padding")
    rows = [[pad + row[i] + pad if row[i] else "" for i in order] for row in case.rows]
    text = write_rows(
        rows,
        line_ending=data.draw(st.sampled_from(("\n", "\r\n", "\r")), label="line ending"),
        quote_all=data.draw(st.booleans(), label="quote all"),
    )
    path = folder / f"{case.name}.csv"
    path.write_bytes(text.encode(data.draw(st.sampled_from(("utf-8", "utf-8-sig")))))
    pd.testing.assert_frame_equal(case.load(path), expected)
