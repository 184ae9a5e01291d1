"""The readers of published statistics, fed generated broken files in each publisher's layout.

Each case starts from an excerpt of a real bundled file: DfE explore-education-statistics
(EES) files in the wide and long layouts and with filters, the 2010-2017 SFR underlying data,
and MHCLG's RA and RSX worksheets saved as CSV (title rows above an ``E-code`` header). The
excerpt is broken by drawn mutations and encodings (see ``fuzzing.py``) and read through
:func:`analysis.external.load_source`: the result is the tidy table, correctly typed, or an
:class:`~analysis.errors.InputError` naming the file in every paragraph.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from fuzzing import assert_contract, broken_file, write_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import external
from analysis.external import SOURCES, TIDY_COLUMNS, Source, decode_text, load_source
from analysis.paths import external_dir


def _source(name: str) -> Source:
    return next(s for s in SOURCES if Path(s.path).name == name)


def _excerpt(source: Source, rows: int, wanted: tuple[str, ...] = ()) -> list[list[str]]:
    """The title and header rows of a real file and a few of its data rows.

    An EES file keeps its national rows of the first year (every category a long layout needs)
    that contain a ``wanted`` text, and one LA row; other files keep their first ``rows`` rows
    and the first rows containing each ``wanted`` text.
    """
    text = decode_text((external_dir() / source.path).read_bytes())
    records = list(csv.reader(io.StringIO(text, newline="")))
    header_at = next((i for i, r in enumerate(records) if r and r[0].strip() == "E-code"), 0)
    header, body = records[header_at], records[header_at + 1 :]
    if "geographic_level" in header:
        year, level = header.index("time_period"), header.index("geographic_level")
        first = [r for r in body if r[year] == body[0][year]]
        chosen = [
            r
            for r in first
            if r[level] == "National" and (not wanted or any(w in r for w in wanted))
        ]
        chosen += [r for r in first if r[level] == "Local authority"][:1]
    else:
        chosen = body[:rows]
        for text in wanted:
            chosen += [r for r in body if text in r and r not in chosen][:2]
    return records[: header_at + 1] + chosen


CASES = {
    "ees_wide_children_in_need": (_source("b1_children_in_need_2013_to_2025.csv"), ()),
    "ees_long_cla_rates": (_source("cla_number_and_rate_per_10k_children.csv"), ()),
    "ees_long_care_leavers_filtered": (
        _source("la_care_leavers_activity.csv"),
        (
            "Total",
            "Total in education, employment or training",
            "Total not in education, employment or training",
        ),
    ),
    "ees_long_placements_no_measure_map": (
        _source("national_cla_on_31_march_by_characteristics.csv"),
        ("Placement",),
    ),
    "ees_wide_population_filtered": (
        _source("ons_mid-year_population_estimates_2012_to_2024.csv"),
        ("Children aged 0 to 17 years",),
    ),
    "sfr_2010_march": (_source("SFR27_2010_March.csv"), ("LA",)),
    "sfr_2015_admissions": (_source("SFR34_ADM2015.csv"), ("LA",)),
    "sfr_2017_ceased": (_source("SFR50_CEA2017.csv"), ("LA",)),
    "mhclg_ra_2023_24": (_source("RA_2023-24_data_Part_1.csv"), ("Eng", "LB")),
    "mhclg_rsx_2023_24": (_source("RSX_2023-24_data_by_LA.csv"), ("Eng", "LB")),
}
EXCERPTS = {name: _excerpt(source, 8, wanted) for name, (source, wanted) in CASES.items()}


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _read(name: str, folder: Path, content: bytes) -> tuple[Path, Source]:
    source = dataclasses.replace(CASES[name][0], path=f"{name}.csv")
    path = folder / source.path
    path.write_bytes(content)
    return path, source


def assert_tidy(tidy: pd.DataFrame) -> None:
    """A tidy table the reader accepted keeps the documented columns, types and ranges."""
    assert tuple(tidy.columns) == TIDY_COLUMNS
    assert tidy["value"].dtype == "float64"
    assert all(math.isfinite(v) for v in tidy["value"].dropna())
    assert set(tidy["geographic_level"].dropna()) <= {
        external.NATIONAL,
        external.REGIONAL,
        external.LOCAL_AUTHORITY,
    }
    assert tidy["year"].between(1000, 9999).all()
    assert tidy["source_row"].dropna().ge(2).all()
    assert tidy["old_la_code"].dropna().between(0, 999_999).all()
    symbols = tidy["suppression"].dropna()
    assert set(symbols) <= set(external.SUPPRESSION_SYMBOLS)
    assert tidy.loc[symbols.index, "value"].isna().all()
    assert pd.api.types.is_datetime64_any_dtype(tidy["period_end"])


@pytest.mark.parametrize("name", list(CASES))
def test_the_excerpts_are_read(name: str, folder: Path) -> None:
    path, source = _read(name, folder, write_rows(EXCERPTS[name]).encode())
    tidy = load_source(source, folder)
    assert len(tidy) > 0
    assert_tidy(tidy)


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=30)
@given(data=st.data())
def test_a_broken_published_file_gives_a_tidy_table_or_a_clear_error(
    name: str, folder: Path, data: st.DataObject
) -> None:
    path, source = _read(name, folder, data.draw(broken_file(EXCERPTS[name]), label="file"))
    outcome = assert_contract(lambda: load_source(source, folder), path)
    if outcome.table is not None:
        assert_tidy(outcome.table)
