"""Caseload to FTE: the arithmetic checked against examples worked by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.workforce import (
    TEAMS,
    ActualWorkforce,
    WorkforceParameters,
    actual_from_extract,
    actual_from_published,
    case_holding_fte,
    cases_by_team,
    compare_with_actual,
    implied_caseload,
    published_caseloads,
    required_fte,
    required_fte_summary,
    vacant_fte_from_rate,
    weighted_caseload_target,
)


def _params(**changes: object) -> WorkforceParameters:
    base = WorkforceParameters(
        caseload_targets={
            "assessment": 18,
            "cin": 18,
            "cp": 14,
            "cla": 15,
            "care_leavers": 20,
        },
        asye_share_of_case_holders=0.10,
        asye_caseload_fraction=0.80,
        practice_supervisor_cases_max=8,
        practice_supervisors_per_team=1,
        team_manager_span_max=6,
        vacancy_allowance=0.10,
        sickness_allowance=0.04,
        training_allowance=0.06,
        assessment_duration_weeks=6,
    )
    return replace(base, **changes)


def _row(table: pd.DataFrame, team: str, role: str) -> pd.Series:
    return table[(table["team"] == team) & (table["role"] == role)].iloc[0]


def test_300_children_looked_after_worked_by_hand() -> None:
    """300 CLA cases, target 15, 10% ASYE at 80% of a caseload, one practice supervisor per
    team holding 8 cases, at most 6 social workers (supervisor included) per manager,
    allowances 10% vacancy + 4% sickness + 6% training = 20%.

    Effective caseload of a social worker FTE = 15 x (1 - 0.10 x (1 - 0.80)) = 14.7.
    A full team holds 5 x 14.7 + 1 x 8 = 81.5 cases.
    Managers = ceil(300 / 81.5) = ceil(3.68) = 4; practice supervisors = 4, holding 32 cases.
    Social worker FTE = (300 - 32) / 14.7 = 18.2313: ASYE 1.8231, qualified 16.4082.
    FTE for cases = 4 + 4 + 18.2313 = 26.2313; with allowances x 1.2 = 31.4776.
    """
    cases = pd.DataFrame({"team": ["cla"], "cases": [300.0]})
    table = required_fte(cases, _params())
    assert _row(table, "cla", "team_manager")["fte_for_cases"] == 4
    assert _row(table, "cla", "practice_supervisor")["fte_for_cases"] == 4
    assert _row(table, "cla", "practice_supervisor")["cases_held"] == 32
    qualified = _row(table, "cla", "social_worker")["fte_for_cases"]
    assert qualified == pytest.approx(16.408163, abs=1e-6)
    assert _row(table, "cla", "asye")["fte_for_cases"] == pytest.approx(1.8231292, abs=1e-6)
    assert table["fte_for_cases"].sum() == pytest.approx(26.231292, abs=1e-6)
    assert table["required_fte"].sum() == pytest.approx(31.477551, abs=1e-6)
    assert _row(table, "cla", "asye")["vacancy_allowance_fte"] == pytest.approx(0.18231292)
    # Every case is held by someone, at the caseload each role is planned to carry.
    assert table["cases_held"].sum() == pytest.approx(300)
    assert _row(table, "cla", "asye")["caseload_target"] == pytest.approx(12)


def test_ratio_managers_give_fractional_teams() -> None:
    """Same 300 cases with fractional teams: 300 / 81.5 = 3.68098 managers and supervisors,
    supervisors hold 29.4479 cases, social workers = 5 x 3.68098 = 18.4049 FTE."""
    cases = pd.DataFrame({"team": ["cla"], "cases": [300.0]})
    table = required_fte(cases, _params(), manager_rounding="ratio")
    assert _row(table, "cla", "team_manager")["fte_for_cases"] == pytest.approx(3.680982, abs=1e-6)
    social_workers = table[table["role"].isin(["social_worker", "asye"])]["fte_for_cases"].sum()
    assert social_workers == pytest.approx(18.404908, abs=1e-6)


def test_span_of_control_is_never_exceeded() -> None:
    cases = pd.DataFrame({"team": list(TEAMS), "cases": [610.0, 1188.0, 349.0, 431.0, 290.0]})
    table = required_fte(cases, _params())
    for team in TEAMS:
        managers = _row(table, team, "team_manager")["fte_for_cases"]
        managed = table[(table["team"] == team) & (table["role"] != "team_manager")]
        assert managed["fte_for_cases"].sum() <= 6 * managers + 1e-9
        assert managers == math.floor(managers)


def test_more_demand_needs_more_fte_and_lower_targets_need_more_fte() -> None:
    cases = pd.DataFrame({"team": ["cp", "cin"], "cases": [349.0, 1200.0]})
    more = cases.assign(cases=cases["cases"] * 1.1)
    base = required_fte(cases, _params())["required_fte"].sum()
    assert required_fte(more, _params())["required_fte"].sum() > base
    lower_targets = _params(caseload_targets={t: 12 for t in TEAMS})
    assert required_fte(cases, lower_targets)["required_fte"].sum() > base


def test_no_asye_no_supervisors_no_allowances_is_cases_over_target() -> None:
    """With nothing but a target: 150 cases / 15 = 10 social workers, ceil(10 / 6) = 2 teams."""
    params = _params(
        asye_share_of_case_holders=0.0,
        practice_supervisors_per_team=0,
        vacancy_allowance=0.0,
        sickness_allowance=0.0,
        training_allowance=0.0,
    )
    table = required_fte(pd.DataFrame({"team": ["cla"], "cases": [150.0]}), params)
    assert _row(table, "cla", "social_worker")["required_fte"] == pytest.approx(10)
    assert _row(table, "cla", "team_manager")["required_fte"] == 2
    assert case_holding_fte(table) == pytest.approx(10)
    assert implied_caseload(table) == pytest.approx(15)


def test_cases_by_team_takes_cp_cla_and_assessments_out_of_children_in_need() -> None:
    """Barking and Dagenham 2025: 5,307 referrals, 2,578 CIN, 349 CPP, 431 CLA at 31 March.
    Open assessments = 5,307 x 6 / (365.25 / 7) = 610.25; CIN team = 2,578 - 349 - 431 -
    610.25 = 1,187.75; care leavers = 17-18 plus 19-21."""
    measures = {
        "referrals": 5307,
        "cin_at_31_march": 2578,
        "cpp_at_31_march": 349,
        "cla_at_31_march": 431,
        "care_leavers_17_18": 120,
        "care_leavers_19_21": 250,
    }
    cases = cases_by_team(measures, _params()).set_index("team")["cases"]
    assert cases["assessment"] == pytest.approx(610.2505, abs=1e-3)
    assert cases["cin"] == pytest.approx(1187.7495, abs=1e-3)
    assert cases["cp"] == 349
    assert cases["cla"] == 431
    assert cases["care_leavers"] == 370


def test_missing_or_suppressed_measure_is_a_clear_error() -> None:
    measures = {"referrals": 100, "cin_at_31_march": float("nan")}
    with pytest.raises(InputError) as caught:
        cases_by_team(measures, _params())
    text = caught.value.report()
    assert "column 'cin_at_31_march'" in text
    assert "column 'care_leavers_19_21'" in text


def test_bad_cases_table_names_row_and_column() -> None:
    cases = pd.DataFrame({"team": ["cla", "fostering"], "cases": [10.0, -1.0]})
    with pytest.raises(InputError) as caught:
        required_fte(cases, _params())
    text = caught.value.report()
    assert "row 3, column 'team': found 'fostering'" in text
    assert "row 3, column 'cases'" in text


def test_parameters_out_of_range_are_refused() -> None:
    with pytest.raises(InputError) as caught:
        _params(team_manager_span_max=1, asye_caseload_fraction=0)
    assert "team_manager_span_max" in caught.value.report()
    assert "asye_caseload_fraction" in caught.value.report()


def test_summary_totals_by_role() -> None:
    cases = pd.DataFrame({"team": ["cla", "cp"], "cases": [300.0, 100.0]})
    table = required_fte(cases, _params())
    summary = required_fte_summary(table).set_index("role")
    assert summary.loc["total", "required_fte"] == pytest.approx(table["required_fte"].sum())
    assert summary.loc["team_manager", "fte_for_cases"] == 4 + 2


def test_vacant_fte_from_published_rate() -> None:
    """Barking and Dagenham, 30 September 2025: 229 FTE in post, vacancy rate 18.8%:
    vacancies = 229 x 0.188 / 0.812 = 53.0 (the file says 53)."""
    assert vacant_fte_from_rate(229, 18.8) == pytest.approx(53.02, abs=0.01)
    with pytest.raises(ValueError):
        vacant_fte_from_rate(229, 100)


def test_compare_with_actual_reports_gaps() -> None:
    cases = pd.DataFrame({"team": ["cla"], "cases": [300.0]})
    table = required_fte(cases, _params())
    actual = ActualWorkforce(
        as_at="2025-09-30",
        source="test",
        permanent_fte=20,
        agency_fte=5,
        vacant_fte=8,
        case_holders_fte=18,
        cases_held=300,
    )
    comparison = compare_with_actual(table, actual).set_index("measure")
    assert comparison.loc["establishment", "fte"] == 28
    assert comparison.loc["at_work", "fte"] == 25
    assert comparison.loc["at_work", "gap_fte"] == pytest.approx(25 - 31.477551, abs=1e-6)
    assert comparison.loc["case_holders", "gap_fte"] == pytest.approx(18 - 22.231292, abs=1e-6)


def test_actual_from_extract_counts_asye_as_permanent() -> None:
    extract = pd.DataFrame(
        {
            "month": ["2025-03"] * 4 + ["2025-02"],
            "team": ["cla", "cla", "cla", "cp", "cp"],
            "role": ["social_worker"] * 5,
            "contract_type": ["permanent", "asye", "agency", "vacant", "permanent"],
            "fte": [10.0, 2.0, 3.0, 1.5, 99.0],
            "cases_held": [150, 24, 45, 0, 0],
        }
    )
    actual = actual_from_extract(extract, "2025-03")
    assert actual.permanent_fte == 12
    assert actual.agency_fte == 3
    assert actual.vacant_fte == 1.5
    assert actual.case_holders_fte == 15
    assert actual.cases_held == 219
    with pytest.raises(InputError):
        actual_from_extract(extract, "2024-01")


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    from analysis.external import load_external

    return load_external()


def test_actual_from_published_barking_and_dagenham_2025(tidy: pd.DataFrame) -> None:
    """DfE workforce census, 30 September 2025: 229 FTE in post, 42 agency, 53 vacancies,
    120 case-holding FTE holding 1,801 cases (data/raw/external/README.md)."""
    actual = actual_from_published(tidy, "E09000002", 2025)
    assert actual.permanent_fte == 229
    assert actual.agency_fte == 42
    assert actual.vacant_fte == 53
    assert actual.establishment_fte == 282
    assert actual.case_holders_fte == 120
    assert actual.cases_held == 1801
    assert actual.as_at == "2025-09-30"
    with pytest.raises(InputError):
        actual_from_published(tidy, "E09000002", 2010)


def test_published_caseloads_la_and_england(tidy: pd.DataFrame) -> None:
    table = published_caseloads(tidy, {"LA": "E09000002", "England": "E92000001"})
    latest = table[table["year"] == 2025].set_index("geography")
    assert latest.loc["LA", "caseload_per_fte"] == 15
    assert latest.loc["England", "caseload_per_fte"] == pytest.approx(15.2)


def test_weighted_caseload_target() -> None:
    """100 CP cases at 14 and 300 CLA cases at 15: 400 / (100/14 + 300/15) = 14.737."""
    cases = pd.DataFrame({"team": ["cp", "cla"], "cases": [100.0, 300.0]})
    assert weighted_caseload_target(cases, _params()) == pytest.approx(400 / (100 / 14 + 20))
