"""Broken seed files: each kind of mistake gets one clear paragraph per problem.

Every test breaks a copy of a real seed file the way a person editing it by hand might, loads
it, and asserts that the message names the file, the row as a person counts it (header = 1),
the column, the offending value and what was expected.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analysis.errors import MAX_PROBLEMS_REPORTED, InputError
from analysis.loaders import (
    load_budget_trajectory,
    load_published_assumptions,
    load_seed_tables,
    load_tom_structures,
)

TOM = "tom_structures.csv"
TRAJECTORY = "budget_trajectory.csv"
ASSUMPTIONS = "published_assumptions.csv"


def _lines(folder: Path, name: str) -> list[str]:
    return (folder / name).read_text(encoding="utf-8").splitlines()


def _write(folder: Path, name: str, lines: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _set_cell(folder: Path, name: str, row: int, column: str, text: str) -> Path:
    """Replace one cell (row as a person counts it) of a file with no quoted commas."""
    lines = _lines(folder, name)
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = text
    lines[row - 1] = ",".join(cells)
    return _write(folder, name, lines)


def _error(loader, path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        loader(path)
    return caught.value


def _assert_message(
    error: InputError, *, file: str, row: int | None, column: str | None, value, expected: str
):
    """Exactly one problem, whose paragraph names everything a person needs to fix it."""
    assert len(error.problems) == 1, error.report()
    problem = error.problems[0]
    message = error.report()
    assert file in message
    assert problem.file.endswith(file)
    if row is not None:
        assert problem.row == row
        assert f"row {row}" in message
    if column is not None:
        assert problem.column == column
        assert f"column '{column}'" in message
    if value is not None:
        assert value in message
    assert expected in message
    assert "Traceback" not in message


def test_missing_column(seed_copy: Path) -> None:
    lines = [",".join(line.split(",")[:3] + line.split(",")[4:]) for line in _lines(seed_copy, TOM)]
    path = _write(seed_copy, TOM, lines)
    error = _error(load_tom_structures, path)
    _assert_message(
        error, file=TOM, row=1, column="fte", value=None, expected="a column named 'fte'"
    )
    assert "the columns found are 'source', 'structure', 'budget_area', 'cost_gbp'" in (
        error.report()
    )


def test_unexpected_column(seed_copy: Path) -> None:
    lines = _lines(seed_copy, TOM)
    lines = [lines[0] + ",notes"] + [line + ",checked" for line in lines[1:]]
    error = _error(load_tom_structures, _write(seed_copy, TOM, lines))
    _assert_message(
        error,
        file=TOM,
        row=1,
        column="notes",
        value="'notes'",
        expected="only the columns source, structure, budget_area, fte",
    )


def test_text_in_a_money_column(seed_copy: Path) -> None:
    path = _set_cell(seed_copy, TOM, 4, "cost_gbp", "about 6.7m")
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=4,
        column="cost_gbp",
        value="'about 6.7m'",
        expected="an amount in pounds of zero or more, written as a plain number",
    )


@pytest.mark.parametrize("written", ['"£1,234"', '"1,234"', "£1234", "(1234)", "1.2m"])
def test_money_written_as_formatted_text(seed_copy: Path, written: str) -> None:
    path = _set_cell(seed_copy, TOM, 5, "true_cost_gbp", written)
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=5,
        column="true_cost_gbp",
        value=repr(written.strip('"')),
        expected="without '£', thousands separators, brackets or 'm'/'k' suffixes",
    )


def test_negative_fte(seed_copy: Path) -> None:
    path = _set_cell(seed_copy, TOM, 3, "fte", "-68")
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=3,
        column="fte",
        value="-68",
        expected="an FTE of zero or more",
    )


def test_negative_money(seed_copy: Path) -> None:
    path = _set_cell(seed_copy, TOM, 6, "other_council_funding_gbp", "-5")
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=6,
        column="other_council_funding_gbp",
        value="-5",
        expected="an amount in pounds of zero or more",
    )


def test_duplicated_row(seed_copy: Path) -> None:
    lines = _lines(seed_copy, TOM)
    path = _write(seed_copy, TOM, [*lines, lines[2]])  # row 3 again, as row 17
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=17,
        column="structure, budget_area",
        value="'improvement / Adolescent & Youth Offending Service'",
        expected="each (structure, budget_area) once; row 3 has the same values",
    )


def test_unknown_structure_name(seed_copy: Path) -> None:
    path = _set_cell(seed_copy, TOM, 10, "structure", "Efficient")
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=10,
        column="structure",
        value="'Efficient'",
        expected="one of 'before', 'improvement', 'efficient'",
    )


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(seed_copy: Path, content: bytes) -> None:
    path = seed_copy / TOM
    path.write_bytes(content)
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=None,
        column=None,
        value=None,
        expected="a CSV file with a header row and at least one data row",
    )


def test_header_only(seed_copy: Path) -> None:
    path = _write(seed_copy, TOM, _lines(seed_copy, TOM)[:1])
    _assert_message(
        _error(load_tom_structures, path),
        file=TOM,
        row=2,
        column=None,
        value=None,
        expected="at least one data row below the header",
    )


def test_windows_1252_bytes(seed_copy: Path) -> None:
    path = seed_copy / ASSUMPTIONS
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("cp1252"))  # Excel's "CSV (Comma delimited)" on Windows
    error = _error(load_published_assumptions, path)
    # the first '£' is in row 3's summary ("agency staff at a premium of £30k")
    _assert_message(
        error,
        file=ASSUMPTIONS,
        row=3,
        column=None,
        value="\\xa3",
        expected="text encoded as UTF-8 (in Excel, save as 'CSV UTF-8 (Comma delimited)')",
    )


def test_utf8_with_byte_order_mark_is_fine(seed_copy: Path) -> None:
    path = seed_copy / ASSUMPTIONS
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert list(load_published_assumptions(path).columns)[0] == "source"


def test_semicolon_delimited_file(seed_copy: Path) -> None:
    lines = [line.replace(",", ";") for line in _lines(seed_copy, TOM)]
    _assert_message(
        _error(load_tom_structures, _write(seed_copy, TOM, lines)),
        file=TOM,
        row=1,
        column=None,
        value="'source;structure;budget_area",
        expected="comma-separated values; this file's columns are separated by semicolons",
    )


def test_ragged_row(seed_copy: Path) -> None:
    lines = _lines(seed_copy, TRAJECTORY)
    lines[6] += ",extra"  # row 7
    _assert_message(
        _error(load_budget_trajectory, _write(seed_copy, TRAJECTORY, lines)),
        file=TRAJECTORY,
        row=7,
        column=None,
        value="'bd_pid_2019_appendix_b,2019/20,outturn,18/19 Out-turn,",
        expected="6 comma-separated cells, as in the header; found 7",
    )


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("cost_gbp", "an amount in pounds of zero or more"),
        ("structure", "one of 'before', 'improvement', 'efficient'"),
    ],
)
def test_blank_required_cell(seed_copy: Path, column: str, expected: str) -> None:
    path = _set_cell(seed_copy, TOM, 8, column, "")
    error = _error(load_tom_structures, path)
    _assert_message(
        error,
        file=TOM,
        row=8,
        column=column,
        value="a blank cell",
        expected="this column may not be blank",
    )
    assert expected in error.report()


@pytest.mark.parametrize("year", ["2019-20", "2019/21", "19/20", "2019"])
def test_bad_financial_year(seed_copy: Path, year: str) -> None:
    path = _set_cell(seed_copy, TRAJECTORY, 3, "financial_year", year)
    _assert_message(
        _error(load_budget_trajectory, path),
        file=TRAJECTORY,
        row=3,
        column="financial_year",
        value=repr(year),
        expected="a financial year written like 2019/20 (two consecutive years)",
    )


def test_non_consecutive_years(seed_copy: Path) -> None:
    lines = [line for line in _lines(seed_copy, TRAJECTORY) if ",2020/21," not in line]
    _assert_message(
        _error(load_budget_trajectory, _write(seed_copy, TRAJECTORY, lines)),
        file=TRAJECTORY,
        row=13,  # the first 2021/22 row once the eleven 2020/21 rows are gone
        column="financial_year",
        value="2021/22",
        expected="consecutive financial years; the year before it, 2020/21, is missing",
    )


def test_several_problems_are_reported_together_in_row_order(seed_copy: Path) -> None:
    _set_cell(seed_copy, TOM, 12, "fte", "-2")
    _set_cell(seed_copy, TOM, 3, "cost_gbp", "tbc")
    path = _set_cell(seed_copy, TOM, 7, "structure", "interim")
    error = _error(load_tom_structures, path)
    assert [(p.row, p.column) for p in error.problems] == [
        (3, "cost_gbp"),
        (7, "structure"),
        (12, "fte"),
    ]
    paragraphs = error.report().split("\n\n")
    assert len(paragraphs) == 3
    assert "row 3, column 'cost_gbp': found 'tbc'" in paragraphs[0]
    assert "row 7, column 'structure': found 'interim'" in paragraphs[1]
    assert "row 12, column 'fte': found '-2.0'" in paragraphs[2]


def test_problems_in_several_files_are_reported_together(seed_copy: Path) -> None:
    _set_cell(seed_copy, TOM, 3, "cost_gbp", "tbc")
    _set_cell(seed_copy, TRAJECTORY, 4, "financial_year", "2019-20")
    with pytest.raises(InputError) as caught:
        load_seed_tables(seed_copy)
    files = [Path(p.file).name for p in caught.value.problems]
    assert files == [TOM, TRAJECTORY]


def test_the_number_of_problems_reported_is_capped(seed_copy: Path) -> None:
    lines = _lines(seed_copy, TRAJECTORY)
    bad = 0
    for index in range(1, len(lines)):
        cells = lines[index].split(",")
        cells[3] = ""  # line: required
        cells[4] = "balance"  # kind: not a category
        lines[index] = ",".join(cells)
        bad += 2
    error = _error(load_budget_trajectory, _write(seed_copy, TRAJECTORY, lines))
    assert len(error.problems) == bad == 58
    paragraphs = error.report().split("\n\n")
    assert len(paragraphs) == MAX_PROBLEMS_REPORTED + 1
    hidden = bad - MAX_PROBLEMS_REPORTED
    assert paragraphs[-1].startswith(f"... and {hidden} more problem(s)")


def test_a_missing_file(seed_copy: Path) -> None:
    (seed_copy / TOM).unlink()
    _assert_message(
        _error(load_tom_structures, seed_copy / TOM),
        file=TOM,
        row=None,
        column=None,
        value=None,
        expected="a file holding the Target Operating Model structures table; no such file",
    )


def test_blank_published_cells_load_as_missing_not_zero(project_root: Path) -> None:
    structures = load_tom_structures()
    before = structures.loc[2]
    assert before["structure"] == "before"
    assert math.isnan(before["external_funding_gbp"])
    assert before["other_council_funding_gbp"] == 602_800
    trajectory = load_budget_trajectory()
    assert trajectory.at[19, "line"] == "TOM Cost Implications"
    assert math.isnan(trajectory.at[19, "amount_gbp_m"])
    # zeros that were printed stay zeros
    assert structures.at[5, "other_council_funding_gbp"] == 0


def test_blank_key_cells_are_reported_as_blank_not_as_a_crash(seed_copy: Path) -> None:
    # rows 3 and 4 share year and side; with both lines blank their keys would "repeat"
    _set_cell(seed_copy, TRAJECTORY, 3, "line", "")
    path = _set_cell(seed_copy, TRAJECTORY, 4, "line", "")
    error = _error(load_budget_trajectory, path)
    assert [(p.row, p.column) for p in error.problems] == [(3, "line"), (4, "line")]
    assert "this column may not be blank" in error.report()
