"""Result tables to an Excel workbook: values, number formats, header, frozen row, atomic write."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from analysis.excel import number_format_for, sheet_name, write_workbook


@pytest.fixture()
def tables() -> dict[str, pd.DataFrame]:
    costs = pd.DataFrame(
        {
            "structure": ["improvement", "efficient"],
            "fte": [349.0, 330.0],
            "true_cost_gbp": [18_041_082.4, 17_043_337.0],
            "agency_share": [0.15, 0.25],
            "variance_gbp_m": [5.2, np.nan],
            "agrees": [True, False],
        }
    )
    years = pd.DataFrame({"financial_year": ["2019/20"], "children_count": [np.int64(431)]})
    return {"structure_costs": costs, "trajectory": years}


def test_every_table_is_a_sheet_with_its_values(tmp_path: Path, tables: dict) -> None:
    path = write_workbook(tables, tmp_path / "out" / "results.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["structure_costs", "trajectory"]
    sheet = book["structure_costs"]
    assert [c.value for c in sheet[1]] == list(tables["structure_costs"].columns)
    assert sheet["C2"].value == pytest.approx(18_041_082.4)
    assert sheet["B3"].value == 330
    assert sheet["E3"].value is None  # a missing figure is a blank cell, never "nan"
    assert sheet["F2"].value is True
    assert book["trajectory"]["B2"].value == 431


def test_number_formats_follow_the_column_names(tmp_path: Path, tables: dict) -> None:
    sheet = load_workbook(write_workbook(tables, tmp_path / "r.xlsx"))["structure_costs"]
    assert sheet["B2"].number_format == "0.0"  # fte
    assert sheet["C2"].number_format == "#,##0"  # £
    assert sheet["D2"].number_format == "0.0%"  # fraction
    assert sheet["E2"].number_format == "#,##0.0"  # £m
    assert sheet["A2"].number_format == "General"


def test_header_is_bold_frozen_and_columns_are_wide_enough(tmp_path: Path, tables: dict) -> None:
    sheet = load_workbook(write_workbook(tables, tmp_path / "r.xlsx"))["structure_costs"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["C"].width >= len("18,041,082.4")
    assert sheet.column_dimensions["A"].width >= len("improvement")


def test_a_failed_write_leaves_the_previous_workbook_whole(
    tmp_path: Path, tables: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_workbook(tables, tmp_path / "r.xlsx")
    before = path.read_bytes()

    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("analysis.store.os.replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_workbook({"other": pd.DataFrame({"a": [1]})}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_sheet_names_follow_excels_rules() -> None:
    taken: set[str] = set()
    first = sheet_name("comparison: efficient vs improvement [total]", taken)
    assert len(first) <= 31 and not set("[]:*?/\\") & set(first)
    taken.add(first)
    second = sheet_name("comparison: efficient vs improvement [total]", taken)
    assert second != first and second.endswith("_2") and len(second) <= 31


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("base_cost_gbp", "#,##0"),
        ("amount_gbp_m", "#,##0.0"),
        ("agency_eligible_fte", "0.0"),
        ("fte", "0.0"),
        ("new_starter_rate", "0.0%"),
        ("financial_year", None),
    ],
)
def test_number_format_for(column: str, expected: str | None) -> None:
    assert number_format_for(column) == expected


def test_an_empty_workbook_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one table"):
        write_workbook({}, tmp_path / "r.xlsx")


def test_the_same_tables_give_the_same_bytes_and_sheets_can_be_reused(tables: dict) -> None:
    from analysis.excel import sheet_xml, workbook_bytes, workbook_from_sheets

    first = workbook_bytes(tables)
    assert workbook_bytes(tables) == first
    kept = {name: sheet_xml(frame) for name, frame in tables.items()}
    assert workbook_from_sheets(kept) == first
    # a sheet's part does not depend on the workbook it goes in
    alone = workbook_from_sheets({"trajectory": kept["trajectory"]})
    sheet = load_workbook(io.BytesIO(alone))["trajectory"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["financial_year", "children_count"],
        ["2019/20", 431],
    ]
    assert sheet["B2"].number_format == "#,##0"


def test_dates_are_dates_and_text_is_kept_as_written(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "as_at": [pd.Timestamp("2025-03-31"), pd.NaT],
            "day": [date(2024, 4, 1), None],
            "budget_area": ["  Care <leavers> & 16+", "bell\x07 rings"],
        }
    )
    sheet = load_workbook(write_workbook({"t": frame}, tmp_path / "r.xlsx"))["t"]
    assert sheet["A2"].value == datetime(2025, 3, 31)
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["A3"].value is None
    assert sheet["B2"].value == datetime(2024, 4, 1)
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].value == "  Care <leavers> & 16+"
    assert sheet["C3"].value == "bell rings"  # a control character XML cannot hold is dropped


def test_a_table_wider_than_a_sheet_is_refused() -> None:
    from analysis.excel import sheet_xml

    with pytest.raises(ValueError, match="16,384 columns at most"):
        sheet_xml(pd.DataFrame(columns=[f"c{n}" for n in range(16_385)]))
