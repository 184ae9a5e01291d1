"""The budget trajectory against Appendix B and the document's text, by value."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis.budget import (
    LINE_GRANTS,
    LINE_LEGACY,
    LINE_PAY,
    LINE_RA,
    LINE_STRUCTURE,
    STATUSES,
    BudgetAssumptions,
    appendix_basis,
    budget_assumptions,
    build_trajectory,
    council_returns,
    explain_variances,
    staffing_by_year,
    trajectory_summary,
    trajectory_table,
    trajectory_years,
    variance_comparison,
    waterfall,
)
from analysis.costs import CostAssumptions, cost_assumptions, structure_costs
from analysis.errors import InputError
from analysis.external import load_external
from analysis.loaders import load_budget_trajectory, load_text_pressures, load_tom_structures
from analysis.scenario import load_scenario

YEARS = ["2019/20", "2020/21", "2021/22"]


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return load_budget_trajectory()


@pytest.fixture(scope="module")
def structures() -> pd.DataFrame:
    return load_tom_structures()


@pytest.fixture(scope="module")
def assumptions() -> tuple[CostAssumptions, BudgetAssumptions]:
    scenario = load_scenario()
    return cost_assumptions(scenario), budget_assumptions(scenario)


def _run(published, structures, cost, budget, month="2019-09", returns=None):
    costs = structure_costs(structures, cost)
    basis_costs = structure_costs(structures, appendix_basis(cost, budget)[0])
    return build_trajectory(published, costs, basis_costs, cost, budget, month, returns)


def _closing(lines: pd.DataFrame, year: str, side: str) -> float:
    row = lines[
        (lines["financial_year"] == year) & (lines["side"] == side) & (lines["kind"] == "closing")
    ]
    return float(row["amount_gbp_m"].iloc[0])


def _movement(lines: pd.DataFrame, year: str, line: str) -> float:
    rows = lines[(lines["financial_year"] == year) & (lines["line"] == line)]
    return float(rows["amount_gbp_m"].iloc[0])


@pytest.fixture(scope="module")
def base_run(published, structures, assumptions):
    return _run(published, structures, *assumptions)


def test_base_settings_are_read_from_the_scenario(assumptions) -> None:
    _cost, budget = assumptions
    assert budget.efficient_structure_from == "2021-04"
    assert budget.horizon_years == 5
    assert budget.pay_award_rate == 0.02


@pytest.mark.parametrize(
    ("month", "first", "last", "count"),
    [
        ("2019-09", "2019/20", "2023/24", 5),
        ("2024-25 P3", "2019/20", "2028/29", 10),
        ("2020-03", "2019/20", "2023/24", 5),
    ],
)
def test_the_years_run_from_the_document_to_the_reporting_years_horizon(
    published, month, first, last, count
) -> None:
    years = trajectory_years(published, month, horizon_years=5)
    assert (years[0], years[-1], len(years)) == (first, last, count)


def test_a_month_before_the_trajectory_is_refused(published) -> None:
    with pytest.raises(InputError, match="April 2019"):
        trajectory_years(published, "2019-03", horizon_years=5)


# ---- on the appendix's own basis the model reproduces Appendix B ------------------------------


def test_on_the_appendix_basis_the_model_rebuilds_appendix_b(base_run) -> None:
    _lines, basis = base_run
    # 2019/20: 38.0 + TOM pressure (14,199,082 - 12,312,400) - 1.2 + 0.922
    assert _movement(basis, "2019/20", LINE_STRUCTURE) == pytest.approx(1.886682, abs=5e-5)
    assert _closing(basis, "2019/20", "outturn") == pytest.approx(39.608682, abs=5e-5)
    assert _closing(basis, "2019/20", "budget") == pytest.approx(32.9 - 1.12 + 1.0 + 1.56)
    # 2020/21: no TOM line (blank), savings -1.25, growth 0.6
    assert _closing(basis, "2020/21", "outturn") == pytest.approx(38.958682, abs=5e-5)
    assert _closing(basis, "2020/21", "budget") == pytest.approx(35.88)
    # 2021/22: the Efficient structure from April 2021 saves 1,140,745 (printed totals; the
    # model's areas carry Appendix C's £40 misprint)
    assert _movement(basis, "2021/22", LINE_STRUCTURE) == pytest.approx(-1.140745, abs=1e-4)
    assert _closing(basis, "2021/22", "outturn") == pytest.approx(38.417937, abs=1e-4)
    assert _closing(basis, "2021/22", "budget") == pytest.approx(35.88)


def test_the_model_agrees_with_the_appendix_not_the_text_and_says_why(published, base_run) -> None:
    lines, basis = base_run
    comparison = variance_comparison(published, load_text_pressures(), lines, basis)
    comparison = comparison.set_index("financial_year")
    assert list(comparison.index) == YEARS
    assert list(comparison["appendix_variance_gbp_m"]) == [5.2, 3.0, 2.4]
    assert list(comparison["text_pressure_gbp_m"]) == [4.2, 4.9, 3.7]
    assert comparison["model_appendix_basis_gbp_m"].tolist() == pytest.approx(
        [5.2687, 3.0787, 2.5379], abs=1e-3
    )
    assert set(comparison["agrees_with_on_appendix_basis"]) == {"appendix"}
    # the appendix's 2021/22 variance follows its built-up budget, not its printed closing
    assert comparison.loc["2021/22", "printed_outturn_less_budget_gbp_m"] == pytest.approx(4.0)
    assert comparison.loc["2021/22", "built_up_budget_gbp_m"] == pytest.approx(35.88)
    # the items the appendix leaves out: 2020/21 pay award on 18.04m plus the 0.9m legacy award
    assert comparison.loc["2020/21", "items_left_out_gbp_m"] == pytest.approx(
        0.02 * 18.041061 + 0.9, abs=1e-4
    )
    text = explain_variances(comparison.reset_index(), published)
    assert "2019/20" in text and "agrees with the appendix" in text
    assert "'MTFS Growth Funding' (2019/20, £1m)" in text
    assert "'TOM Cost Implications' (2019/20, £1.9m)" in text
    assert "'Existing Savings Plans' (2020/21, -£1.25m)" in text
    assert "printed closing budget, £34.4m" in text and "£35.9m" in text


# ---- the scenario's items ---------------------------------------------------------------------


def test_pay_award_and_legacy_award_lines(base_run) -> None:
    lines, _basis = base_run
    assert _movement(lines, "2019/20", LINE_PAY) == 0
    assert _movement(lines, "2020/21", LINE_PAY) == pytest.approx(0.02 * 18.041061, abs=1e-4)
    assert _movement(lines, "2020/21", LINE_LEGACY) == pytest.approx(0.9)
    assert _movement(lines, "2021/22", LINE_LEGACY) == pytest.approx(-0.9)
    assert _movement(lines, "2022/23", LINE_LEGACY) == 0


def test_a_later_move_to_efficient_has_a_part_year_effect(structures, assumptions) -> None:
    cost, budget = assumptions
    costs = structure_costs(structures, cost)
    flat = dataclasses.replace(budget, pay_award_rate=0.0)
    april = staffing_by_year(costs, cost, flat, ["2019/20", "2020/21", "2021/22", "2022/23"])
    october = staffing_by_year(
        costs,
        cost,
        dataclasses.replace(flat, efficient_structure_from="2021-10"),
        ["2019/20", "2020/21", "2021/22", "2022/23"],
    )
    saving = april.set_index("financial_year")["structure_change_gbp"]
    later = october.set_index("financial_year")["structure_change_gbp"]
    assert saving["2021/22"] == pytest.approx(-1_140_745, abs=50)
    assert later["2021/22"] == pytest.approx(saving["2021/22"] / 2)
    assert later["2022/23"] == pytest.approx(saving["2021/22"] / 2)
    assert october.set_index("financial_year").loc["2021/22", "efficient_months"] == 6


def test_grants_that_stop_fall_on_the_care_and_support_budget(
    published, structures, assumptions
) -> None:
    cost, budget = assumptions
    lines, _ = _run(
        published, structures, cost, dataclasses.replace(budget, grant_continuation=0.5)
    )
    assert _movement(lines, "2020/21", LINE_GRANTS) == pytest.approx(0.5 * 2.4526, abs=1e-4)


def test_changing_one_assumption_changes_the_variance(published, structures, assumptions) -> None:
    cost, budget = assumptions
    base_lines, _ = _run(published, structures, cost, budget)
    more_agency, _ = _run(
        published, structures, dataclasses.replace(cost, agency_share=0.25), budget
    )
    # the out-turn builds on the Before structure's cost, so only the extra eligible posts of
    # the Improvement structure add to it
    extra = 0.10 * (143.78 - 113.78) * 30_000 / 1e6
    base_outturn = _closing(base_lines, "2019/20", "outturn")
    assert _closing(more_agency, "2019/20", "outturn") - base_outturn == pytest.approx(extra)


# ---- years past the document -------------------------------------------------------------------


def test_projected_years_grow_with_demand_and_hold_the_budget(base_run, assumptions) -> None:
    lines, _ = base_run
    growth = _movement(lines, "2022/23", "Demand growth (scenario)")
    assert growth == pytest.approx(0.02 * _closing(lines, "2021/22", "outturn"))
    assert _closing(lines, "2022/23", "budget") == pytest.approx(
        _closing(lines, "2021/22", "budget")
    )
    statuses = lines.groupby("financial_year")["status"].first()
    assert list(statuses[YEARS]) == ["modelled"] * 3
    assert set(statuses.drop(YEARS)) == {"projected"}


def test_council_returns_are_used_only_once_published(published, structures, assumptions) -> None:
    tidy = load_external()
    assert council_returns(tidy, "E09000002", "2019-09").empty
    returns = council_returns(tidy, "E09000002", "2025-03").set_index("financial_year")
    assert returns.loc["2021/22", "budget_gbp_m"] == pytest.approx(60.540)
    assert returns.loc["2023/24", "outturn_gbp_m"] == pytest.approx(85.661)
    # the 2023/24 out-turn (RSX, December 2024) is not yet published in June 2024
    early = council_returns(tidy, "E09000002", "2024-06").set_index("financial_year")
    assert pd.isna(early.loc["2023/24", "outturn_gbp_m"])

    cost, budget = assumptions
    returns = council_returns(tidy, "E09000002", "2025-03")
    lines, _ = _run(published, structures, cost, budget, "2025-03", returns)
    # the budget moves with the council's RA budget from 2021/22, the year both cover
    assert _movement(lines, "2023/24", LINE_RA) + 35.88 == pytest.approx(35.88 * 70.172 / 60.540)
    summary = trajectory_summary(published, load_text_pressures(), lines, returns)
    summary = summary.set_index("financial_year")
    assert summary.loc["2023/24", "outturn_from_council_returns_gbp_m"] == pytest.approx(
        _closing(lines, "2021/22", "outturn") * 85.661 / 70.340
    )
    assert summary.loc["2028/29", "status"] == "projected"


def test_every_figure_is_labelled_published_modelled_or_projected(
    published, structures, assumptions
) -> None:
    cost, budget = assumptions
    returns = council_returns(load_external(), "E09000002", "2025-03")
    lines, _ = _run(published, structures, cost, budget, "2025-03", returns)
    table = trajectory_table(published, load_text_pressures(), lines, returns)
    assert set(table["status"]) == set(STATUSES)
    published_rows = table[table["status"] == "published"]
    assert set(published_rows["basis"]) == {
        "Appendix B",
        "document text",
        "MHCLG RA/RSX, whole children's social care",
    }
    assert table[(table["financial_year"] == "2019/20") & (table["status"] == "projected")].empty


def test_waterfall_steps_add_up(base_run) -> None:
    lines, _ = base_run
    steps = waterfall(lines, "2020/21", "outturn")
    assert steps["kind"].iloc[0] == "opening" and steps["kind"].iloc[-1] == "closing"
    movements = steps[steps["kind"] == "movement"]
    assert steps["amount_gbp_m"].iloc[0] + movements["amount_gbp_m"].sum() == pytest.approx(
        steps["amount_gbp_m"].iloc[-1]
    )
    assert (movements["amount_gbp_m"] != 0).all()
    assert movements["end_gbp_m"].iloc[-1] == pytest.approx(steps["end_gbp_m"].iloc[-1])
    with pytest.raises(ValueError, match="2040/41"):
        waterfall(lines, "2040/41")
