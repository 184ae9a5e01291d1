"""Reconciliation of the bundled published tables: each real inconsistency, by value.

Worked by hand from the CSVs before the code was written:

* efficient structure (rows 10-15, Total row 16): base cost rows add up to 15,861,877 and
  true cost rows to 17,043,377, but the Total row prints 15,861,837 and 17,043,337 (£40 less
  each). Row 14 (Service Development & Transformation) prints a true cost of 677,377 but
  funding of 624,737 + 0 + 52,600 = 677,337, also £40 apart: the Totals and the funding both
  fit 677,337, so row 14's cost looks misprinted. Every other Total and funding split agrees.
* before structure (row 2): the external funding cell is blank; the printed sources
  12,312,400 + 602,800 = 12,915,200 fall £2,527,100 short of the true cost 15,442,300.
* trajectory 2021/22 budget: opening 35.9 and no movements, yet closing 34.4 (-1.5).
* trajectory 2021/22 variance: out-turn 38.4 - budget 34.4 = 4.0, printed 2.4 (-1.6).
* trajectory 2020/21 out-turn: 'TOM Cost Implications' blank; 39.6 - 1.25 + 0.6 = 38.95
  against 38.9 printed: the blank is nil within rounding (implied -0.05, tolerance 0.155).
* trajectory 2019/20 budget: 32.9 - 1.12 + 1.0 + 1.56 = 34.34 against 34.4 printed: +0.06,
  inside the rounding tolerance 0.05 + 0.005 + 0.05 + 0.005 + 0.05 = 0.16.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.loaders import load_seed_tables
from analysis.reconcile import (
    FINDING_COLUMNS,
    finding,
    findings_frame,
    format_findings,
    half_unit,
    read_printed_text,
    reconcile_budget_trajectory,
    reconcile_seed_tables,
)

TOM = "tom_structures.csv"
TRAJECTORY = "budget_trajectory.csv"


@pytest.fixture(scope="module")
def findings() -> pd.DataFrame:
    return reconcile_seed_tables(load_seed_tables())


def _one(findings: pd.DataFrame, table: str, row: int, column: str, words: str) -> pd.Series:
    match = findings[
        (findings["table"] == table)
        & (findings["row"] == row)
        & (findings["column"] == column)
        & findings["check"].str.contains(words, regex=False)
    ]
    assert len(match) == 1, match
    return match.iloc[0]


def _assert(found: pd.Series, published, computed, difference, tolerance, status) -> None:
    if published is None:
        assert math.isnan(found["published"])
    else:
        assert found["published"] == pytest.approx(published)
    assert found["computed"] == pytest.approx(computed)
    if difference is None:
        assert math.isnan(found["difference"])
    else:
        assert found["difference"] == pytest.approx(difference)
    assert found["tolerance"] == pytest.approx(tolerance)
    assert found["status"] == status


def test_findings_have_the_standard_columns(findings: pd.DataFrame) -> None:
    assert tuple(findings.columns) == FINDING_COLUMNS
    assert set(findings["status"]) <= {"agrees", "differs", "not_printed"}
    assert findings["tolerance"].notna().all()
    assert findings["check"].str.contains("tolerance").sum() >= len(findings) - 2


def test_efficient_total_cost_is_40_pounds_below_the_sum_of_its_rows(findings) -> None:
    found = _one(findings, TOM, 16, "cost_gbp", "efficient Total cost_gbp")
    _assert(found, 15_861_837, 15_861_877, -40, 0, "differs")


def test_efficient_total_true_cost_is_40_pounds_below_the_sum_of_its_rows(findings) -> None:
    found = _one(findings, TOM, 16, "true_cost_gbp", "efficient Total true_cost_gbp")
    _assert(found, 17_043_337, 17_043_377, -40, 0, "differs")


def test_efficient_service_development_funding_is_40_pounds_short_of_true_cost(findings) -> None:
    found = _one(findings, TOM, 14, "true_cost_gbp", "funding sources")
    _assert(found, 677_377, 624_737 + 0 + 52_600, 40, 0, "differs")


def test_before_funding_cannot_be_checked_because_external_is_not_printed(findings) -> None:
    found = _one(findings, TOM, 2, "true_cost_gbp", "funding sources")
    _assert(found, 15_442_300, 12_312_400 + 602_800, 2_527_100, 0, "not_printed")
    assert "not taken as zero" in found["check"]
    implied = _one(findings, TOM, 2, "external_funding_gbp", "is not printed")
    _assert(implied, None, 2_527_100, None, 0, "not_printed")


def test_every_other_total_and_funding_split_agrees(findings) -> None:
    tom = findings[findings["table"] == TOM]
    differs = tom[tom["status"] == "differs"]
    assert sorted(zip(differs["row"], differs["column"], strict=True)) == [
        (14, "true_cost_gbp"),
        (16, "cost_gbp"),
        (16, "true_cost_gbp"),
    ]
    improvement_totals = tom[(tom["row"] == 9) & tom["check"].str.contains("budget areas")]
    assert len(improvement_totals) == 6
    assert (improvement_totals["status"] == "agrees").all()
    assert (improvement_totals["difference"] == 0).all()
    efficient_funding_totals = tom[(tom["row"] == 16) & tom["check"].str.contains("budget areas")]
    assert set(efficient_funding_totals["status"]) == {"agrees", "differs"}
    assert (efficient_funding_totals["status"] == "agrees").sum() == 4


def test_true_cost_is_never_below_base_cost(findings) -> None:
    checks = findings[findings["check"].str.contains("not below base cost")]
    assert len(checks) == 15  # every row of the table
    assert (checks["status"] == "agrees").all()
    improvement_total = _one(findings, TOM, 9, "true_cost_gbp", "not below base cost")
    # the published "total allowance for agency premium and reward scheme is £1.181m"
    assert improvement_total["difference"] == 18_041_082 - 16_859_582 == 1_181_500


def test_2021_22_budget_closes_1_5m_below_its_opening_with_no_movements(findings) -> None:
    found = _one(findings, TRAJECTORY, 25, "amount_gbp_m", "2021/22 budget")
    _assert(found, 34.4, 35.9, -1.5, 0.1, "differs")


def test_2021_22_published_variance_is_1_6m_below_outturn_minus_budget(findings) -> None:
    found = _one(findings, TRAJECTORY, 30, "amount_gbp_m", "2021/22 published variance")
    _assert(found, 2.4, 38.4 - 34.4, -1.6, 0.15, "differs")


def test_2019_20_budget_build_up_is_off_by_0_06m_within_rounding(findings) -> None:
    found = _one(findings, TRAJECTORY, 6, "amount_gbp_m", "2019/20 budget")
    _assert(found, 34.4, 34.34, 0.06, 0.16, "agrees")
    assert "±0.16" in found["check"]


def test_other_build_ups_agree_within_rounding(findings) -> None:
    outturn_2019 = _one(findings, TRAJECTORY, 11, "amount_gbp_m", "2019/20 outturn")
    _assert(outturn_2019, 39.6, 39.622, -0.022, 0.2005, "agrees")
    budget_2020 = _one(findings, TRAJECTORY, 17, "amount_gbp_m", "2020/21 budget")
    _assert(budget_2020, 35.9, 35.94, -0.04, 0.115, "agrees")
    outturn_2021 = _one(findings, TRAJECTORY, 29, "amount_gbp_m", "2021/22 outturn")
    _assert(outturn_2021, 38.4, 38.35, 0.05, 0.155, "agrees")


def test_unprinted_2020_21_tom_movement_is_left_out_and_its_implied_value_given(findings) -> None:
    found = _one(findings, TRAJECTORY, 22, "amount_gbp_m", "2020/21 outturn")
    _assert(found, 38.9, 38.95, -0.05, 0.155, "not_printed")
    assert "'TOM Cost Implications' (row 19)" in found["check"]
    assert "if it were nil the figures would agree" in found["check"]
    implied = _one(findings, TRAJECTORY, 19, "amount_gbp_m", "is not printed")
    _assert(implied, None, -0.05, None, 0.155, "not_printed")


def test_closings_carry_to_next_openings_and_earlier_variances_agree(findings) -> None:
    carried = findings[findings["check"].str.contains("opening '")]
    assert sorted(carried["row"]) == [13, 18, 24, 26]
    assert (carried["status"] == "agrees").all()
    assert (carried["tolerance"] == 0.05).all()
    for row, variance in ((12, 5.2), (23, 3.0)):
        found = _one(findings, TRAJECTORY, row, "amount_gbp_m", "published variance")
        _assert(found, variance, variance, 0, 0.15, "agrees")


def test_bundled_data_counts(findings) -> None:
    assert findings["status"].value_counts().to_dict() == {
        "agrees": 48,
        "differs": 5,
        "not_printed": 4,
    }


def test_tolerance_comes_from_the_printed_text_not_the_number(seed_copy: Path) -> None:
    path = seed_copy / TRAJECTORY
    text = path.read_text(encoding="utf-8")
    # "1.0" and "1" are the same number, but "1" is printed to the nearest £1m (±0.5m)
    path.write_text(
        text.replace("MTFS Growth Funding,movement,1.0\n", "MTFS Growth Funding,movement,1\n")
    )
    findings = reconcile_seed_tables(load_seed_tables(seed_copy), seed_copy)
    found = _one(findings, TRAJECTORY, 6, "amount_gbp_m", "2019/20 budget")
    _assert(found, 34.4, 34.34, 0.06, 0.61, "agrees")


def test_a_blank_area_cell_makes_its_total_not_printed(seed_copy: Path) -> None:
    path = seed_copy / TOM
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[10].split(",")  # row 11: efficient Assessment & Safeguarding
    assert cells[6] == "6770800"  # care_and_support_funding_gbp
    cells[6] = ""
    lines[10] = ",".join(cells)
    path.write_text("".join(lines), encoding="utf-8")
    findings = reconcile_seed_tables(load_seed_tables(seed_copy), seed_copy)
    column = "care_and_support_funding_gbp"
    total = _one(findings, TOM, 16, column, "efficient Total care_and_support")
    _assert(total, 13_058_337, 13_058_337 - 6_770_800, 6_770_800, 0, "not_printed")
    from_total = _one(findings, TOM, 11, column, "('efficient Total', row 16")
    _assert(from_total, None, 6_770_800, None, 0, "not_printed")
    funding = _one(findings, TOM, 11, "true_cost_gbp", "funding sources")
    _assert(funding, 6_985_200, 110_400 + 104_000, 6_770_800, 0, "not_printed")


def test_a_missing_total_row_is_reported_not_printed(seed_copy: Path) -> None:
    path = seed_copy / TOM
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert ",improvement,Total," in lines[8]
    path.write_text("".join(lines[:8] + lines[9:]), encoding="utf-8")
    findings = reconcile_seed_tables(load_seed_tables(seed_copy), seed_copy)
    missing = findings[findings["check"].str.startswith("improvement: no Total row printed")]
    assert list(missing["column"]) == [
        "fte",
        "cost_gbp",
        "true_cost_gbp",
        "care_and_support_funding_gbp",
        "other_council_funding_gbp",
        "external_funding_gbp",
    ]
    assert missing["row"].isna().all()
    assert (missing["status"] == "not_printed").all()
    assert list(missing["computed"])[:2] == [349, 16_859_582]
    assert "improvement: no Total row printed" in format_findings(findings)


def test_tables_must_come_from_the_folder_read_for_their_print(seed_copy: Path) -> None:
    path = seed_copy / TRAJECTORY
    path.write_text(path.read_text(encoding="utf-8").replace(",32.9\n", ",33.9\n"))
    with pytest.raises(ValueError, match="row 2, column 'amount_gbp_m'"):
        reconcile_seed_tables(load_seed_tables(), seed_copy)


def test_read_printed_text_keeps_the_print_and_the_file_row_numbers(project_root: Path) -> None:
    printed = read_printed_text(project_root / "data/raw/seed" / TRAJECTORY)
    assert printed.at[4, "amount_gbp_m"] == "1.0"
    assert printed.at[19, "amount_gbp_m"] == ""
    assert printed.index[0] == 2


def test_a_trajectory_without_movements_or_years_is_checked_only_where_it_can_be() -> None:
    trajectory = pd.DataFrame(
        {
            "financial_year": ["2019/20", "2019/20"],
            "side": ["budget", "budget"],
            "line": ["Opening", "Closing"],
            "kind": ["opening", "closing"],
            "amount_gbp_m": [10.0, 10.25],
        },
        index=pd.Index([2, 3], name="row"),
    )
    printed = pd.DataFrame({"amount_gbp_m": ["10.0", "10.25"]}, index=trajectory.index)
    findings = reconcile_budget_trajectory(trajectory, printed, table="t.csv")
    assert len(findings) == 1
    _assert(findings.iloc[0], 10.25, 10.0, 0.25, 0.055, "differs")


@pytest.mark.parametrize(
    ("printed", "exact", "expected"),
    [
        ("34.4", False, 0.05),
        ("-1.12", False, 0.005),
        ("0.922", False, 0.0005),
        ("1.0", False, 0.05),
        ("5", False, 0.5),
        ("15861837", True, 0.0),
        ("1.5", True, 0.05),
        ("", False, 0.0),
    ],
)
def test_half_unit_of_the_last_printed_digit(printed: str, exact: bool, expected: float) -> None:
    assert half_unit(printed, whole_numbers_exact=exact) == pytest.approx(expected)


def test_half_unit_refuses_text() -> None:
    with pytest.raises(ValueError, match="not a plain number"):
        half_unit("£1,234")


def test_finding_status_rules() -> None:
    common = dict(table="t.csv", row=2, column="x", check="c")
    assert finding(**common, published=10.0, computed=10.04, tolerance=0.05)["status"] == "agrees"
    assert finding(**common, published=10.0, computed=10.06, tolerance=0.05)["status"] == "differs"
    assert finding(**common, published=math.nan, computed=1.0, tolerance=0)["status"] == (
        "not_printed"
    )
    assert (
        finding(**common, published=1.0, computed=1.0, tolerance=0, not_printed=True)["status"]
        == "not_printed"
    )
    at_least = dict(common, comparison="at_least", tolerance=0)
    assert finding(**at_least, published=5.0, computed=4.0)["status"] == "agrees"
    assert finding(**at_least, published=4.0, computed=5.0)["status"] == "differs"
    with pytest.raises(ValueError, match="tolerance"):
        finding(**common, published=1.0, computed=1.0, tolerance=-1)
    row = finding(**common, published=34.4, computed=32.9 - 1.12 + 1.0 + 1.56, tolerance=0.16)
    assert row["difference"] == 0.06  # no binary floating-point noise
    frame = findings_frame([row])
    assert tuple(frame.columns) == FINDING_COLUMNS
    assert str(frame["row"].dtype) == "Int64"


def test_format_findings_puts_differences_first_and_counts(findings) -> None:
    text = format_findings(findings)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["status", "where", "column"]
    assert lines[2].startswith("differs")
    assert "15,861,837" in lines[2] and "15,861,877" in lines[2] and "-40" in lines[2]
    first_agree = next(i for i, line in enumerate(lines) if line.startswith("agrees"))
    last_differ = max(i for i, line in enumerate(lines) if line.startswith("differs"))
    assert last_differ < first_agree
    assert lines[-1] == "57 checks: 5 differ, 4 not printed, 48 agree."
    assert "not printed" in text and "nan" not in text.lower().replace("financ", "")
