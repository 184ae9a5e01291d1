"""The contract-sum view, by value on small hand-made trajectories."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis import contract, costs, workforce
from analysis.errors import InputError

MEASURES = workforce.CASE_MEASURES


def _assumptions(**changes: float) -> costs.CostAssumptions:
    values = {
        "agency_share": 0.15,
        "agency_premium_gbp_per_fte": 30_000.0,
        "recruitment_payment_gbp": 5_000.0,
        "retention_payment_rate": 0.06,
        "legacy_retention_award_gbp": 15_000.0,
        "legacy_retention_award_staff": 60.0,
        "legacy_retention_award_year": "2020/21",
        "new_starter_rate": 0.158,
        "retention_salary_gbp_per_fte": 48_788.0,
        "pay_award_rate": 0.02,
        "agency_eligible_fte": {"before": 1.0, "improvement": 1.0, "efficient": 1.0},
    }
    values.update(changes)
    return costs.CostAssumptions(**values)


def _params() -> workforce.WorkforceParameters:
    """Ten cases per social worker everywhere, no ASYEs, supervisors or allowances, and an
    assessment open for a tenth of a year, so FTE can be worked out in one's head."""
    return workforce.WorkforceParameters(
        caseload_targets={team: 10.0 for team in workforce.TEAMS},
        asye_share_of_case_holders=0.0,
        asye_caseload_fraction=1.0,
        practice_supervisor_cases_max=0.0,
        practice_supervisors_per_team=0.0,
        team_manager_span_max=5.0,
        vacancy_allowance=0.0,
        sickness_allowance=0.0,
        training_allowance=0.0,
        assessment_duration_weeks=workforce.WEEKS_PER_YEAR / 10,
    )


def _history() -> pd.DataFrame:
    # 31 March 2024, published: 100 referrals, 200 children in need (of whom 40 on a plan and
    # 60 looked after), 10 + 20 care leavers.
    counts = {
        "referrals": 100.0,
        "cin_at_31_march": 200.0,
        "cpp_at_31_march": 40.0,
        "cla_at_31_march": 60.0,
        "care_leavers_17_18": 10.0,
        "care_leavers_19_21": 20.0,
    }
    return pd.DataFrame({"measure": list(counts), "year": 2024, "count": list(counts.values())})


def _forecast(scale: dict[str, float]) -> pd.DataFrame:
    """Every measure at 31 March 2025 = its 2024 count x scale[bound]."""
    base = _history().set_index("measure")["count"]
    return pd.DataFrame(
        [
            {"measure": m, "year": 2025, **{b: base[m] * scale[b] for b in contract.BOUNDS}}
            for m in MEASURES
        ]
    )


SCALE = {"lower_95": 0.8, "lower_80": 0.9, "forecast": 1.0, "upper_80": 1.1, "upper_95": 1.2}


def test_stocks_average_opening_and_closing_and_referrals_are_the_years_own() -> None:
    paths = contract.demand_by_year(_history(), _forecast(SCALE), [2025]).set_index("bound")
    assert list(paths.index) == list(contract.BOUNDS)
    assert paths.loc["upper_95", "cla_at_31_march"] == pytest.approx((60 + 72) / 2)
    assert paths.loc["upper_95", "referrals"] == pytest.approx(120)
    assert paths.loc["forecast", "cin_at_31_march"] == pytest.approx(200)
    assert (paths["financial_year"] == "2024/25").all()


def test_a_published_closing_figure_is_used_in_every_bound() -> None:
    history = pd.concat([_history(), _history().assign(year=2025, count=lambda f: f["count"] * 2)])
    paths = contract.demand_by_year(history, _forecast(SCALE), [2025])
    assert paths["cla_at_31_march"].tolist() == [90.0] * 5


def test_a_year_with_no_figure_is_named() -> None:
    with pytest.raises(InputError) as caught:
        contract.demand_by_year(_history(), _forecast(SCALE), [2026])
    report = caught.value.report()
    assert "cla_at_31_march at 31 March 2026" in report
    assert "31 March 2025" not in report  # the forecast covers 2025


def test_cost_per_fte_is_the_salary_plus_the_published_uplift_with_pay_awards() -> None:
    # 48,788 + 0.15 x 30,000 + 0.158 x 5,000 + 0.06 x 48,788 = 57,005.28 (the £8,217.28
    # uplift the cost model derives its eligible FTE from), then 2% a year.
    assert contract.cost_per_fte_gbp(_assumptions(), 0) == pytest.approx(57_005.28)
    assert contract.cost_per_fte_gbp(_assumptions(), 2) == pytest.approx(57_005.28 * 1.02**2)
    assert contract.cost_per_fte_gbp(_assumptions(), -1) == pytest.approx(57_005.28 / 1.02)


def test_staffing_and_placement_cost_by_hand() -> None:
    paths = contract.demand_by_year(_history(), _forecast(SCALE), [2025])
    result = contract.contract_costs(
        paths, _params(), _assumptions(pay_award_rate=0.0), 50_000.0, 2024, manager_rounding="ratio"
    ).set_index("bound")
    central = result.loc["forecast"]
    # cases: assessments 100 / 10 = 10; CIN only 200 - 40 - 60 - 10 = 90; CP 40; CLA 60;
    # care leavers 30: 230 cases at 10 each = 23 social workers, 23 / 5 = 4.6 managers.
    assert central["cases"] == pytest.approx(230)
    assert central["required_fte"] == pytest.approx(23 + 4.6)
    assert central["staffing_cost_gbp"] == pytest.approx(27.6 * 57_005.28)
    assert central["placement_cost_gbp"] == pytest.approx(60 * 50_000)
    assert central["contract_cost_gbp"] == pytest.approx(27.6 * 57_005.28 + 3_000_000)
    # Upper 95%: every measure 20% higher at the close, so the year's stocks are 10% higher.
    upper = result.loc["upper_95"]
    assert upper["children_looked_after_avg"] == pytest.approx(66)
    assert upper["placement_cost_gbp"] == pytest.approx(66 * 50_000)


def test_whole_teams_by_default() -> None:
    paths = contract.demand_by_year(_history(), _forecast(SCALE), [2025])
    result = contract.contract_costs(paths, _params(), _assumptions(), 50_000.0, 2024)
    central = result.set_index("bound").loc["forecast"]
    # 10 + 90 + 40 + 60 + 30 cases: 1, 2, 1, 2 and 1 whole teams = 7 managers.
    assert central["required_fte"] == pytest.approx(23 + 7)
    assert central["cost_per_fte_gbp"] == pytest.approx(57_005.28)


def test_a_negative_cost_of_a_child_is_refused() -> None:
    paths = contract.demand_by_year(_history(), _forecast(SCALE), [2025])
    with pytest.raises(InputError, match="annual cost of a child"):
        contract.contract_costs(paths, _params(), _assumptions(), -1.0, 2024)


NORMAL = {bound: 100.0 + 10.0 * norm.ppf(p) for bound, p in contract.BOUND_PROBABILITIES.items()}


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (100.0, 0.5),
        (NORMAL["upper_80"], 0.10),
        (NORMAL["upper_95"], 0.025),
        (NORMAL["lower_80"], 0.90),
        (105.0, norm.sf(0.5)),  # inside a segment: linear in the normal score, close to normal
        (130.0, norm.sf(3.0)),  # beyond the 95% bound: the outer segment extended
        (70.0, norm.sf(-3.0)),
    ],
)
def test_probability_above_reads_the_quantiles_of_a_normal_cost(threshold, expected) -> None:
    assert contract.probability_above(NORMAL, threshold) == pytest.approx(expected, abs=2e-3)


def test_probability_above_keeps_a_skew_and_handles_no_interval() -> None:
    skewed = {"lower_95": 90, "lower_80": 95, "forecast": 100, "upper_80": 120, "upper_95": 140}
    # Halfway from the forecast to the upper 80% bound: normal score 1.2816 / 2.
    assert contract.probability_above(skewed, 110) == pytest.approx(norm.sf(norm.ppf(0.9) / 2))
    flat = dict.fromkeys(contract.BOUNDS, 100.0)
    assert contract.probability_above(flat, 99.0) == 1.0
    assert contract.probability_above(flat, 100.0) == 0.0
    assert math.isnan(contract.probability_above(NORMAL, math.nan))


def test_summary_gap_and_probability_year_by_year() -> None:
    paths = contract.demand_by_year(_history(), _forecast(SCALE), [2025])
    by_bound = contract.contract_costs(paths, _params(), _assumptions(), 50_000.0, 2024)
    central = float(by_bound.loc[by_bound["bound"] == "forecast", "contract_cost_gbp"].iloc[0])
    summary = contract.contract_summary(by_bound, central, "2023/24")
    row = summary.iloc[0]
    assert row["financial_year"] == "2024/25"
    assert row["gap_gbp"] == pytest.approx(0.0)
    assert row["probability_insufficient_demand_only"] == pytest.approx(0.5)
    assert row["contract_cost_upper_95_gbp"] > row["contract_cost_upper_80_gbp"] > central
    assert row["budget_year"] == "2023/24"
    no_budget = contract.contract_summary(by_bound, math.nan)
    assert math.isnan(no_budget["probability_insufficient_demand_only"].iloc[0])


def test_the_view_of_the_seed_council_uses_its_published_budget() -> None:
    from analysis.external import load_external
    from analysis.scenario import load_scenario

    scenario = load_scenario()
    view = contract.contract_view(load_external(), "E09000002", "2025-03", scenario)
    # RA 2023-24, Barking and Dagenham, total children's social care: £70,172k, the latest
    # budget published by March 2025; held flat over the five years from 2024/25.
    assert view.budget_year == "2023/24"
    assert view.summary["budget_gbp"].tolist() == [70_172_000.0] * 5
    assert view.financial_years == ("2024/25", "2025/26", "2026/27", "2027/28", "2028/29")
    # 2024/25 opens on the 433 children looked after published for 31 March 2024.
    first = view.demand[(view.demand["year"] == 2025) & (view.demand["bound"] == "forecast")]
    assert first["cla_at_31_march"].iloc[0] == pytest.approx(433)
    assert view.price_base_year == "2019/20"
    # Prices of 2024/25: five pay awards after 2019/20.
    per_fte = view.summary["cost_per_fte_gbp"].iloc[0]
    assert per_fte == pytest.approx(57_005.28 * 1.02**5, rel=1e-6)


def test_the_view_forecasts_with_the_chosen_methods_and_the_notes_name_them() -> None:
    from analysis import benchmark_views
    from analysis.external import load_external
    from analysis.scenario import load_scenario

    chosen = {"cpp_at_31_march": "ses", "referrals": "drift"}
    view = contract.contract_view(
        load_external(), "E09000002", "2025-03", load_scenario(), chosen=chosen
    )
    used = view.forecast.drop_duplicates("measure").set_index("measure")["method"]
    assert used["cpp_at_31_march"] == "ses"
    assert used["referrals"] == "drift"
    assert used["cla_at_31_march"] == "naive"  # no method chosen: the last value
    notes = benchmark_views.contract_notes(view)
    assert "Children on a child protection plan at 31 March: simple exponential smoothing" in notes
    assert "Referrals in the year: drift" in notes
    assert "Children looked after at 31 March: last value" in notes


def test_at_normal_score_is_the_inverse_of_probability_above() -> None:
    quantiles = np.array([NORMAL[b] for b in contract.BOUNDS])
    scores = np.array([0.0, norm.ppf(0.9), norm.ppf(0.025), 3.0, -12.0])
    values = contract.at_normal_score(quantiles, scores)
    assert values[:3] == pytest.approx([100.0, NORMAL["upper_80"], NORMAL["lower_95"]])
    assert values[3] == pytest.approx(130.0, abs=0.2)  # the outer segment extended
    assert values[4] == 0.0  # never below zero
    assert contract.probability_above(NORMAL, float(values[3])) == pytest.approx(norm.sf(3.0))


class _Scenario:
    """The base scenario with every price fixed but those named (a Monte Carlo by hand)."""

    def __init__(self, uncertain: tuple[str, ...] = ()) -> None:
        from analysis.scenario import load_scenario

        self.real = load_scenario()
        self.uncertain = uncertain

    def assumption(self, name: str):
        assumption = self.real.assumption(name)
        if name in self.uncertain:
            return assumption
        return assumption.model_copy(update={"distribution": "fixed"})

    def __getattr__(self, name: str):
        return getattr(self.real, name)


def _bounds(fte: dict[str, float], children: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": 2025,
            "financial_year": "2024/25",
            "bound": list(contract.BOUNDS),
            "required_fte": [fte[b] for b in contract.BOUNDS],
            "children_looked_after_avg": [children[b] for b in contract.BOUNDS],
        }
    )


FOSTERING_ONLY = pd.DataFrame(
    {"placement_group": ["fostering", "residential", "other"], "share": [1.0, 0.0, 0.0]}
)


def test_monte_carlo_with_fixed_prices_agrees_with_the_interval_method() -> None:
    scenario = _Scenario()
    per_fte = contract.cost_per_fte_gbp(costs.cost_assumptions(scenario), 0)
    no_children = dict.fromkeys(contract.BOUNDS, 0.0)
    by_bound = _bounds(NORMAL, no_children)
    budget = NORMAL["upper_80"] * per_fte
    result = contract.monte_carlo_insufficiency(
        by_bound, budget, scenario, FOSTERING_ONLY, 2024, draws=200_000, seed=1
    ).iloc[0]
    # 10% of demand lies above the upper 80% bound.
    assert result["probability_insufficient"] == pytest.approx(0.10, abs=4e-3)
    assert result["contract_cost_p50_gbp"] == pytest.approx(100 * per_fte, rel=2e-3)


def test_monte_carlo_draws_prices_from_the_scenarios_distributions() -> None:
    # Demand certain (40 children, no staff); only the fostering price uncertain: triangular
    # from £400 to £1,200 a week with its mode at £650, so P(price > £650) = 550 / 800.
    scenario = _Scenario(uncertain=("unit_cost_fostering_gbp_per_week",))
    by_bound = _bounds(dict.fromkeys(contract.BOUNDS, 0.0), dict.fromkeys(contract.BOUNDS, 40.0))
    budget = 40 * 650 * workforce.WEEKS_PER_YEAR
    result = contract.monte_carlo_insufficiency(
        by_bound, budget, scenario, FOSTERING_ONLY, 2024, draws=200_000, seed=2
    ).iloc[0]
    assert result["probability_insufficient"] == pytest.approx(550 / 800, abs=4e-3)
    assert result["probability_standard_error"] == pytest.approx(
        math.sqrt(0.6875 * 0.3125 / 200_000), rel=0.02
    )
    no_budget = contract.monte_carlo_insufficiency(
        by_bound, math.nan, scenario, FOSTERING_ONLY, 2024, draws=1_000, seed=2
    )
    assert math.isnan(no_budget["probability_insufficient"].iloc[0])
