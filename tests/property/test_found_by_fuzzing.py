"""Each input the property tests found crashing, hanging or misreading a loader, kept as a
fixed example so the fix cannot quietly regress (docs/reliability.md lists them)."""

from __future__ import annotations

import dataclasses
import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from analysis import external, loaders, localdata
from analysis.errors import InputError
from analysis.paths import default_scenario_path
from analysis.scenario import export_scenario_to_excel, load_scenario, load_scenario_from_excel


def _refused(load: Callable[[], object], *expected: str) -> str:
    with pytest.raises(InputError) as caught:
        load()
    message = caught.value.report()
    for text in expected:
        assert text in message, message
    return message


# ---- the strict CSV reader (seed tables, text pressures, local extracts, establishment) -----


def test_an_unclosed_quote_in_a_long_file(tmp_path: Path) -> None:
    """Was: _csv.Error 'field larger than field limit'."""
    path = tmp_path / "assumptions.csv"
    path.write_text(
        'source,name,value,unit,applies_to,quote_summary\na,"n,1,u,a,q\n' + "more text\n" * 20_000,
        encoding="utf-8",
    )
    _refused(lambda: loaders.load_published_assumptions(path), "row 2", "quote closed")


def test_a_financial_year_in_another_scripts_digits(tmp_path: Path) -> None:
    """Was: IndexError in the consecutive-years check (int() reads Arabic-Indic digits)."""
    path = tmp_path / "trajectory.csv"
    path.write_text(
        "source,financial_year,side,line,kind,amount_gbp_m\n"
        "x,2019/20,budget,a,opening,1\nx,٢٠٢٢/٢٣,budget,a,opening,1\n",
        encoding="utf-8",
    )
    _refused(
        lambda: loaders.load_budget_trajectory(path), "row 3", "found '٢٠٢٢/٢٣'", "like 2019/20"
    )


@pytest.mark.parametrize("month", ["0000-04", "٢٠٢٤-04"])
def test_a_month_in_year_zero_or_another_scripts_digits(tmp_path: Path, month: str) -> None:
    """Was: ValueError from pandas' periods (year 0), or accepted (other digits)."""
    path = tmp_path / "demand_monthly.csv"
    path.write_text(f"month,measure,count\n{month},referrals,1\n", encoding="utf-8")
    _refused(lambda: localdata.load_demand_extract(path), "row 2", "column 'month'")


# ---- the published-statistics readers ---------------------------------------------------------

EES_HEADER = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,old_la_code,new_la_code,la_name,category,Anypoint_episodes,Anypoint_child,"
    "Started_episodes,Started_child,Ended_episodes,Ended_child,At31_episodes,awaiting_assessment"
)
EES_ROW = (
    "2025,Reporting year,Local authority,E92000001,England,E12000007,London,301,E09000002,"
    "Barking and Dagenham,Children in Need,1,2,3,4,5,6,7,8"
)
SFR_HEADER = "New_geog_code,geog_l,geog_c,geog_n,CLA_Mar2015,CLA_2015"
RA_HEADER = "E-code,ONS Code,Local authority,Class," + ",".join(k for k, _ in external._RA_MEASURES)


def _load(name: str, text: str, folder: Path):
    source = next(s for s in external.SOURCES if Path(s.path).name == name)
    source = dataclasses.replace(source, path="broken.csv")
    (folder / "broken.csv").write_text(text, encoding="utf-8")
    return lambda: external.load_source(source, folder)


B1 = "b1_children_in_need_2013_to_2025.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Was: pandas ParserError.
        (f"{EES_HEADER}\n{EES_ROW}\n1,2\n{EES_ROW},9,9\n", "row 4"),
        (f'{EES_HEADER}\n"2025,Reporting\n', "quote closed"),
        # Was: every value silently shifted one column (the extra cell became the index).
        (f"{EES_HEADER}\n{EES_ROW},9\n", "row 2"),
        # Was: AttributeError (two 'time_period' columns once trimmed).
        (f"{EES_HEADER}, time_period\n{EES_ROW},2025\n", "column 'time_period'"),
        # Was: IntCastingNaNError; the others were accepted as years.
        *(
            (f"{EES_HEADER}\n{EES_ROW.replace('2025', y, 1)}\n", "a reporting year")
            for y in ("inf", "99999", "2025.5", "-5")
        ),
        # Was: accepted as an infinite figure.
        (f"{EES_HEADER}\n{EES_ROW.replace(',1,2,', ',inf,2,')}\n", "found 'inf'"),
    ],
)
def test_broken_ees_files(tmp_path: Path, text: str, expected: str) -> None:
    _refused(_load(B1, text, tmp_path), "broken.csv", expected)


def test_an_la_number_that_is_not_whole_is_missing_not_garbage(tmp_path: Path) -> None:
    """Was: 1e30 read as LA number -9223372036854775808 (EES) or TypeError/OverflowError (SFR)."""
    ees = _load(B1, f"{EES_HEADER}\n{EES_ROW.replace(',301,', ',1e30,')}\n", tmp_path)()
    assert ees["old_la_code"].isna().all()
    for number in ("1.5", "1e30", "inf"):
        sfr = _load("SFR34_CLA2015.csv", f"{SFR_HEADER}\nE09000002,LA,{number},BD,1,2\n", tmp_path)
        assert sfr()["old_la_code"].isna().all()


def test_a_finance_header_with_no_authorities_below_it(tmp_path: Path) -> None:
    """Was: ValueError 'Length mismatch'."""
    load = _load("RA_2023-24_data_Part_1.csv", f"title\n{RA_HEADER}\n", tmp_path)
    _refused(load, "row 3", "a row for each authority")


# ---- scenarios ----------------------------------------------------------------------------------

CHILD = "name: x\ndescription: y\nextends: base.yaml\n"
NINE = ", ".join(f"k{i}: *{{prev}}" for i in range(9))


def _alias_bomb() -> str:
    lines = ["settings:", "  a: &a {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1}"]
    for previous, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"  {name}: &{name} {{{NINE.format(prev=previous)}}}")
    return CHILD + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (CHILD + "settings: &a\n  x: *a\n", "anchors and aliases"),  # was: RecursionError
        (_alias_bomb(), "anchors and aliases"),  # was: 90 s for a 1 KB file
        (CHILD + 'settings:\n  la_code: "E09\x00"\n', "valid YAML"),  # was: yaml ReaderError
        (CHILD + "settings: " + "[" * 3000 + "]" * 3000 + "\n", "nested"),  # RecursionError
    ],
    ids=["self-referring alias", "alias bomb", "NUL", "deep nesting"],
)
def test_hostile_yaml(tmp_path: Path, text: str, expected: str) -> None:
    shutil.copy(default_scenario_path(), tmp_path / "base.yaml")
    path = tmp_path / "child.yaml"
    path.write_text(text, encoding="utf-8")
    _refused(lambda: load_scenario(path), "child.yaml", expected)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workbook") / "base.xlsx"
    export_scenario_to_excel(load_scenario(), path)
    return path


def _rezip(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
    return target


@pytest.mark.parametrize(
    "change",
    [
        lambda n, b: b[: len(b) // 2] if n.endswith("sheet1.xml") else b,  # was: ParseError
        lambda n, b: None if n.endswith("styles.xml") else b,  # was: IndexError
        lambda n, b: b"<<" if n.endswith("workbook.xml.rels") else b,  # was: ParseError
    ],
    ids=["truncated sheet XML", "no styles", "broken relationships"],
)
def test_a_damaged_workbook(tmp_path: Path, workbook: Path, change) -> None:
    damaged = _rezip(workbook, tmp_path / "damaged.xlsx", change)
    _refused(lambda: load_scenario_from_excel(damaged), "damaged.xlsx", "an Excel workbook")


def test_a_workbook_whose_name_column_is_cleared(tmp_path: Path, workbook: Path) -> None:
    """Was: KeyError 'name' on every row."""
    book = openpyxl.load_workbook(workbook)
    book["assumptions"]["A1"] = None
    path = tmp_path / "edited.xlsx"
    book.save(path)
    _refused(lambda: load_scenario_from_excel(path), "sheet 'assumptions', row 1", "missing name")


def test_settings_rows_that_clash_are_reported_not_dropped(tmp_path: Path, workbook: Path) -> None:
    """Was: 'la_code.x' silently ignored."""
    book = openpyxl.load_workbook(workbook)
    sheet = book["settings"]
    row = sheet.max_row + 1
    sheet.cell(row=row, column=1, value="la_code.x")
    sheet.cell(row=row, column=2, value=5)
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path / "edited.xlsx"
    path.write_bytes(buffer.getvalue())
    _refused(lambda: load_scenario_from_excel(path), f"row {row}", "found 'la_code.x'")
