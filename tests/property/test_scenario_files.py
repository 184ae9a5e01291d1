"""Scenario files (YAML and Excel), fed generated broken input, load or give a clear error.

Four sources of trouble are drawn: a child scenario overriding settings and assumptions with
values of every YAML type (text, huge integers, NaN and infinity, dates, lists, blocks, nulls,
published references, unknown keys, markup); line-level edits of ``base.yaml`` (deleted,
repeated and re-indented lines, junk, anchors and aliases, tabs); random bytes; and workbooks
exported by :func:`analysis.scenario.export_scenario_to_excel` then edited cell by cell or
damaged byte by byte. The contract: a valid :class:`~analysis.scenario.Scenario` or an
:class:`~analysis.errors.InputError` naming the file in every paragraph.
"""

from __future__ import annotations

import copy
import datetime
import functools
import io
import math
import shutil
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from fuzzing import HOSTILE_TEXTS, assert_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import paths
from analysis.scenario import (
    Scenario,
    export_scenario_to_excel,
    load_scenario,
    load_scenario_from_excel,
)

BASE_TEXT = paths.default_scenario_path().read_text(encoding="utf-8")
BASE = load_scenario()
ASSUMPTION_NAMES = sorted(BASE.assumptions)
ASSUMPTION_FIELDS = ("value", "unit", "source", "low", "high", "distribution", "description")
SETTING_KEYS = (
    ("la_code",),
    ("efficient_structure_from",),
    ("horizon_years",),
    ("legacy_retention_award_year",),
    ("sensitivity",),
    ("sensitivity", "agency_share_grid", "steps"),
    ("sensitivity", "agency_share_grid", "low"),
    ("sensitivity", "agency_premium_grid", "high"),
    ("sensitivity", "monte_carlo_draws"),
    ("sensitivity", "seed"),
    ("sensitivity", "correlation_agency_share_premium"),
    ("sensitivity", "max_grid_points"),
    ("rag",),
    ("rag", "caseload_vs_target", "amber"),
    ("rag", "variance_vs_budget", "red"),
    ("unknown_setting",),
)

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=20),
    st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)),
    st.sampled_from(ASSUMPTION_NAMES).map(lambda n: {"published": n}),
    st.builds(dict, published=st.just("no_such_figure")),  # a new dict on every draw
)
yaml_value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(("value", "low", "x", "published")), inner, max_size=3),
    ),
    max_leaves=6,
)


def _nest(keys: tuple[str, ...], value: object) -> dict:
    for key in reversed(keys):
        value = {key: value}
    return value  # type: ignore[return-value]


def _merge(target: dict, extra: dict) -> None:
    """Merge ``extra`` into ``target`` in place (drawn values are copied, never shared)."""
    for key, value in copy.deepcopy(extra).items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


@st.composite
def child_scenario(draw: st.DrawFn) -> dict:
    """A child of base.yaml overriding a few drawn settings and assumption fields."""
    child: dict = {
        "name": draw(st.one_of(st.sampled_from(HOSTILE_TEXTS), yaml_value)),
        "description": draw(st.one_of(st.just("A drawn scenario."), yaml_value)),
        "extends": "base.yaml",
    }
    settings_block: dict = {}
    for keys in draw(st.lists(st.sampled_from(SETTING_KEYS), max_size=3)):
        _merge(settings_block, _nest(keys, draw(yaml_value)))
    if settings_block:
        child["settings"] = settings_block
    assumptions: dict = {}
    for name in draw(
        st.lists(st.sampled_from([*ASSUMPTION_NAMES, "new_one", "Bad Name"]), max_size=3)
    ):
        fields = draw(
            st.dictionaries(st.sampled_from([*ASSUMPTION_FIELDS, "colour"]), yaml_value, max_size=3)
        )
        assumptions[name] = fields
    if assumptions:
        child["assumptions"] = assumptions
    if draw(st.booleans()):
        child[draw(st.sampled_from(("notes", "Name", "assumption")))] = draw(yaml_value)
    return child


@pytest.fixture(scope="module")
def folder():
    """A scenarios folder holding a copy of base.yaml."""
    with tempfile.TemporaryDirectory() as name:
        shutil.copy(paths.default_scenario_path(), Path(name) / "base.yaml")
        yield Path(name)


def assert_scenario(scenario: Scenario) -> None:
    """A scenario that loaded holds typed, finite assumptions inside their ranges."""
    assert isinstance(scenario.name, str) and scenario.name
    assert isinstance(scenario.description, str) and scenario.description
    for assumption in scenario.assumptions.values():
        for number in (assumption.value, assumption.low, assumption.high):
            assert isinstance(number, float) and math.isfinite(number)
        assert assumption.low <= assumption.value <= assumption.high
    grid = scenario.settings.sensitivity
    assert grid.agency_share_grid.steps * grid.agency_premium_grid.steps <= grid.max_grid_points


@settings(max_examples=60)
@given(child=child_scenario())
def test_a_child_scenario_with_drawn_overrides_loads_or_says_what_is_wrong(
    folder: Path, child: dict
) -> None:
    path = folder / "child.yaml"
    path.write_text(yaml.safe_dump(child, allow_unicode=True), encoding="utf-8")
    outcome = assert_contract(lambda: load_scenario(path), path, folder / "base.yaml")
    if outcome.table is not None:
        assert_scenario(outcome.table)
        assert outcome.table.name == child["name"]


LINE_JUNK = (
    "",
    "  ",
    "\t",
    "name: again",
    "settings:",
    "  la_code: &code E09000002",
    "  horizon_years: *code",
    "assumptions: *code",
    "- a list item",
    "? complex",
    "{",
    "]",
    "'",
    '"unclosed',
    "key: value: more",
    "%YAML 1.1",
    "---",
    "...",
    "!!python/object:os.system",
    "value: !!binary aGVsbG8=",
    "<script>alert(1)</script>",
    "\x00",
    "\ufeff",
)


@st.composite
def edited_base(draw: st.DrawFn) -> str:
    """base.yaml after a few line-level slips of the keyboard."""
    lines = BASE_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(("delete", "repeat", "indent", "dedent", "junk", "value")))
        if edit == "delete":
            del lines[at]
        elif edit == "repeat":
            lines.insert(at, lines[at])
        elif edit == "indent":
            lines[at] = draw(st.sampled_from((" ", "  ", "\t"))) + lines[at]
        elif edit == "dedent":
            lines[at] = lines[at].lstrip()
        elif edit == "junk":
            lines.insert(at, draw(st.one_of(st.sampled_from(LINE_JUNK), st.text(max_size=15))))
        elif ":" in lines[at]:
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {draw(st.sampled_from(HOSTILE_TEXTS))}"
    ending = draw(st.sampled_from(("\n", "\r\n", "\r")))
    return ending.join(lines) + ending


@settings(max_examples=40)
@given(text=edited_base())
def test_base_yaml_with_drawn_line_edits_loads_or_says_what_is_wrong(
    folder: Path, text: str
) -> None:
    path = folder / "edited.yaml"
    path.write_text(text, encoding="utf-8")
    outcome = assert_contract(lambda: load_scenario(path), path)
    if outcome.table is not None:
        assert_scenario(outcome.table)


SCENARIO_START = "name: x\ndescription: y\nextends: base.yaml\n"


@settings(max_examples=25)
@given(
    prefix=st.sampled_from(("", SCENARIO_START, "\ufeff" + SCENARIO_START)),
    noise=st.binary(max_size=200),
    encoding=st.sampled_from(("utf-8", "utf-16", "cp1252")),
)
def test_random_bytes_as_a_scenario_give_a_clear_error(
    folder: Path, prefix: str, noise: bytes, encoding: str
) -> None:
    path = folder / "noise.yaml"
    path.write_bytes(prefix.encode(encoding, errors="replace") + noise)
    outcome = assert_contract(lambda: load_scenario(path), path, folder / "base.yaml")
    if outcome.table is not None:
        assert_scenario(outcome.table)


# ---- Excel ----------------------------------------------------------------------------------


@functools.cache
def exported_workbook() -> bytes:
    """base.yaml exported to a workbook (a function, so a failing case does not print it)."""
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "exported.xlsx"
        export_scenario_to_excel(BASE, path)
        return path.read_bytes()


cell_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(HOSTILE_TEXTS).filter(lambda t: "\x00" not in t),
    st.datetimes(min_value=datetime.datetime(1900, 3, 1), max_value=datetime.datetime(9999, 1, 1)),
    st.sampled_from(("=1/0", "=A1", "name", "value", "sensitivity.seed", "rag.x.amber.deeper")),
)


@settings(max_examples=30)
@given(data=st.data())
def test_a_workbook_edited_cell_by_cell_loads_or_says_what_is_wrong(
    folder: Path, data: st.DataObject
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(exported_workbook()))
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        edit = data.draw(st.sampled_from(("cell", "cell", "cell", "delete_row", "rename_sheet")))
        sheet = book[data.draw(st.sampled_from(book.sheetnames), label="sheet")]
        row = data.draw(st.integers(1, sheet.max_row + 1), label="row")
        if edit == "cell":
            column = data.draw(st.integers(1, 10), label="column")
            sheet.cell(row=row, column=column).value = data.draw(cell_value, label="value")
        elif edit == "delete_row":
            sheet.delete_rows(row)
        else:
            sheet.title = data.draw(st.sampled_from(("Assumptions", "Sheet1", "settings ")))
    path = folder / "edited.xlsx"
    book.save(path)
    outcome = assert_contract(lambda: load_scenario_from_excel(path), path)
    if outcome.table is not None:
        assert_scenario(outcome.table)


@settings(max_examples=30)
@given(data=st.data())
def test_a_damaged_workbook_gives_a_clear_error(folder: Path, data: st.DataObject) -> None:
    raw = exported_workbook()
    if data.draw(st.booleans(), label="stored"):
        # Without compression, damage reaches the XML of the sheets rather than the deflate.
        source, buffer = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as stored:
            for info in source.infolist():
                stored.writestr(info.filename, source.read(info.filename))
        raw = buffer.getvalue()
    damaged = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6), label="flips")):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, len(damaged)))]
    path = folder / "damaged.xlsx"
    path.write_bytes(bytes(damaged))
    outcome = assert_contract(lambda: load_scenario_from_excel(path), path)
    if outcome.table is not None:
        assert_scenario(outcome.table)
