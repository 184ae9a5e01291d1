"""The agency-premium sensitivity model: the cost model's figures at the base point, the
linearity in agency share, the break-even share by hand, the Monte Carlo against its analytic
expectation, and each bad input named by file, key and value."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import costs, paths, sensitivity, workforce
from analysis.errors import InputError
from analysis.loaders import load_tom_structures
from analysis.scenario import load_scenario

# The seed council's published figures (Appendix C and section 3), typed here from the
# documents so the checks below are independent of the code.
IMPROVEMENT_BASE_COST = 16_859_582
IMPROVEMENT_FUNDED = 14_199_082 + 1_389_400 + 2_452_600
ELIGIBLE_FTE = 143.78
NEW_STARTER_RATE = 0.158
RETENTION_SALARY = 48_788


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return load_tom_structures()


@pytest.fixture(scope="module")
def model(scenario, published):
    return sensitivity.build_model(scenario, published)


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    """A council's open cases by team (round numbers of the seed council's order)."""
    return pd.DataFrame(
        {"team": list(workforce.TEAMS), "cases": [530.0, 1200.0, 250.0, 430.0, 320.0]}
    )


def _cost_model_totals(scenario, published) -> pd.DataFrame:
    return costs.totals_of(costs.structure_costs(published, costs.cost_assumptions(scenario)))


def test_base_point_true_cost_is_the_cost_models_exactly(model, scenario, published):
    expected = _cost_model_totals(scenario, published)["true_cost_gbp"]
    results = sensitivity.evaluate(model, {})
    for structure in ("before", "improvement", "efficient"):
        assert results[structure]["true_cost_gbp"][0] == expected[structure]


def test_cost_in_year_is_true_cost_plus_the_cost_models_pay_award(model, scenario, published):
    """With no demand growth the year's cost is the cost model's true cost and pay award."""
    modelled = costs.structure_costs(published, costs.cost_assumptions(scenario))
    results = sensitivity.evaluate(model, {"demand_growth_rate": 0.0})
    for structure in ("before", "improvement", "efficient"):
        pay_award = costs.pay_award_cost_gbp(modelled, costs.cost_assumptions(scenario), structure)
        expected = costs.totals_of(modelled).loc[structure, "true_cost_gbp"] + pay_award
        assert results[structure]["cost_in_year_gbp"][0] == pytest.approx(expected, rel=1e-14)
        assert results[structure]["staffing_cost_gbp"][0] == 0


def test_funded_budget_is_the_published_funding(model):
    assert model.structure("improvement").funded_budget_gbp == IMPROVEMENT_FUNDED
    assert model.structure("efficient").funded_budget_gbp == 13_058_337 + 1_387_400 + 2_597_600
    # Before's external funding was not printed: the cost model implies it from the true cost.
    assert model.structure("before").funded_budget_gbp == 15_442_300


def test_grid_equals_the_cost_model_called_point_by_point(scenario, published):
    """The vectorised grid against a loop over the cost model, as an analyst would script it."""
    flat = scenario.with_values(demand_growth_rate=0.0)
    grid = sensitivity.agency_grid(sensitivity.build_model(flat, published))
    shares = sorted(grid["agency_share"].unique())[::15]
    premiums = sorted(grid["agency_premium_gbp_per_fte"].unique())[::17]
    for share in shares:
        for premium in premiums:
            point = flat.with_values(agency_share=share, agency_premium_gbp_per_fte=premium)
            assumptions = costs.cost_assumptions(point)
            modelled = costs.structure_costs(published, assumptions)
            for structure in ("improvement", "efficient"):
                row = grid[
                    (grid["structure"] == structure)
                    & (grid["agency_share"] == share)
                    & (grid["agency_premium_gbp_per_fte"] == premium)
                ].iloc[0]
                true_cost = costs.totals_of(modelled).loc[structure, "true_cost_gbp"]
                pay_award = costs.pay_award_cost_gbp(modelled, assumptions, structure)
                assert row["true_cost_gbp"] == pytest.approx(true_cost, rel=1e-14)
                assert row["variance_gbp"] == pytest.approx(
                    true_cost + pay_award - row["funded_budget_gbp"], rel=1e-12
                )


def test_grid_covers_the_scenario_ranges(model, scenario):
    grid = sensitivity.agency_grid(model)
    settings = scenario.settings.sensitivity
    per_structure = settings.agency_share_grid.steps * settings.agency_premium_grid.steps
    assert len(grid) == 3 * per_structure
    assert grid["agency_share"].min() == pytest.approx(0.05)
    assert grid["agency_share"].max() == pytest.approx(0.50)
    assert grid["agency_premium_gbp_per_fte"].min() == pytest.approx(6_000)
    assert grid["agency_premium_gbp_per_fte"].max() == pytest.approx(40_000)


def test_cost_is_linear_in_agency_share(model):
    shares = np.linspace(0.0, 1.0, 11)
    results = sensitivity.evaluate(model, {"agency_share": shares})
    for measures in results.values():
        for measure in ("true_cost_gbp", "variance_gbp"):
            steps = np.diff(measures[measure])
            assert np.allclose(steps, steps[0], rtol=1e-9, atol=1e-6)


def test_cost_per_point_of_agency_share_by_hand(model):
    table = sensitivity.break_even(model).set_index("structure")
    # One point of share on 143.78 eligible FTE, staffed for 2% demand growth, at £30k, with
    # the 2% pay award on top.
    by_hand = 0.01 * ELIGIBLE_FTE * 1.02 * 30_000 * 1.02
    assert table.loc["improvement", "cost_per_point_gbp"] == pytest.approx(by_hand, rel=1e-12)
    assert table.loc["improvement", "cost_per_point_gbp"] == pytest.approx(44_876.61, abs=0.01)


def test_break_even_share_against_a_hand_calculation(model):
    """Improvement a year on: 2% more eligible posts for demand, a 2% pay award."""
    eligible = ELIGIBLE_FTE * 1.02
    extra_salaries = ELIGIBLE_FTE * 0.02 * RETENTION_SALARY
    payments = eligible * (NEW_STARTER_RATE * 5_000 + 0.06 * RETENTION_SALARY)
    fixed = 1.02 * (IMPROVEMENT_BASE_COST + extra_salaries + payments)
    per_share = 1.02 * eligible * 30_000
    by_hand = (IMPROVEMENT_FUNDED - fixed) / per_share
    table = sensitivity.break_even(model).set_index("structure")
    assert table.loc["improvement", "break_even_agency_share"] == pytest.approx(by_hand, abs=1e-6)
    assert table.loc["improvement", "break_even_agency_share"] == pytest.approx(0.0323, abs=1e-4)
    assert table.loc["improvement", "finding"] == "breaks even at an agency share of 3.2%"
    # Against the pay and demand the funding was set for, the costed 15% breaks even.
    assert table.loc["improvement", "break_even_agency_share_as_funded"] == pytest.approx(
        0.15, abs=1e-5
    )


def test_break_even_not_reachable(scenario, published):
    dear = scenario.with_values(pay_award_rate=0.07, demand_growth_rate=0.06)
    table = sensitivity.break_even(sensitivity.build_model(dear, published))
    row = table.set_index("structure").loc["improvement"]
    assert not row["reachable"]
    assert np.isnan(row["break_even_agency_share"])
    assert row["finding"] == "not reachable: overspends even with no agency staff"


def test_tornado_ranks_by_swing_and_prices_agency_share_by_the_point(model):
    tornado = sensitivity.one_way(model)
    improvement = tornado[tornado["structure"] == "improvement"].set_index("assumption")
    assert list(improvement["rank"]) == list(range(1, len(improvement) + 1))
    assert improvement["swing_gbp"].is_monotonic_decreasing
    per_point = sensitivity.break_even(model).set_index("structure")["cost_per_point_gbp"]
    assert improvement.loc["agency_share", "change_at_high_gbp"] == pytest.approx(
        per_point["improvement"] * (50 - 15), rel=1e-9
    )
    # The Before structure's eligible FTE do not move the Improvement structure's cost.
    assert "agency_eligible_fte_before" not in improvement.index
    # Pay award and agency premium do not move staffing; demand growth does.
    assert np.isnan(improvement.loc["pay_award_rate", "case_holding_fte_change_at_high"])
    assert improvement.loc["demand_growth_rate", "case_holding_fte_change_at_high"] == (
        pytest.approx(ELIGIBLE_FTE * (0.06 - 0.02), rel=1e-12)
    )


def test_tornado_with_cases_moves_staffing_by_caseload_target(scenario, published, cases):
    model = sensitivity.build_model(scenario, published, cases=cases)
    tornado = sensitivity.one_way(model)
    rows = tornado[tornado["structure"] == "improvement"].set_index("assumption")
    cin = rows.loc["caseload_target_cin"]
    # A higher caseload target needs fewer social workers, and saves money; a lower one costs.
    assert cin["case_holding_fte_change_at_high"] < 0 < cin["case_holding_fte_change_at_low"]
    assert cin["change_at_high_gbp"] < 0 < cin["change_at_low_gbp"]
    # The FTE follow the workforce model's required case-holding FTE.
    ratio = sensitivity.workforce_ratio(model, "caseload_target_cin", 20)
    assert cin["case_holding_fte_change_at_high"] == pytest.approx(
        ELIGIBLE_FTE * 1.02 * (ratio - 1), rel=1e-9
    )


def test_workforce_ratios_scale_with_the_allowances_and_match_one_at_a_time(
    scenario, published, cases
):
    model = sensitivity.build_model(scenario, published, cases=cases)
    points = [
        ("vacancy_allowance", 0.142),
        ("training_allowance", 0.1),
        ("caseload_target_cin", 20.0),
    ]
    ratios = sensitivity.workforce_ratios(model, points)
    # Allowances add to every FTE alike: base allowances 0 + 0.035 + 0.05 = 0.085.
    assert ratios[0] == pytest.approx((1 + 0.142 + 0.035 + 0.05) / 1.085, rel=1e-12)
    assert ratios[1] == pytest.approx((1 + 0.0 + 0.035 + 0.1) / 1.085, rel=1e-12)
    assert list(ratios) == [sensitivity.workforce_ratio(model, n, v) for n, v in points]


def test_workforce_ratios_without_cases_name_every_point(model):
    with pytest.raises(InputError) as caught:
        sensitivity.workforce_ratios(
            model, [("vacancy_allowance", 0.1), ("caseload_target_cp", 12.0)]
        )
    assert [(p.location, p.value) for p in caught.value.problems] == [
        ("key 'assumptions.vacancy_allowance'", 0.1),
        ("key 'assumptions.caseload_target_cp'", 12.0),
    ]


def test_monte_carlo_mean_matches_the_analytic_expectation(model):
    result = sensitivity.monte_carlo(model, 200_000, correlation=0.0)
    expected = sensitivity.expected_variance(model)
    for row in result.summary.itertuples():
        assert abs(row.mean_variance_gbp - expected[row.structure]) < 4 * (
            row.mean_standard_error_gbp
        )
        assert row.probability_standard_error == pytest.approx(
            np.sqrt(row.probability_of_overspend * (1 - row.probability_of_overspend) / 200_000)
        )
        assert row.p10_variance_gbp < row.p50_variance_gbp < row.p90_variance_gbp
    assert set(result.assumptions_drawn) == {
        "agency_share",
        "agency_premium_gbp_per_fte",
        "recruitment_payment_gbp",
        "retention_payment_rate",
        "new_starter_rate",
        "pay_award_rate",
        "demand_growth_rate",
    }
    histogram = result.histogram[result.histogram["structure"] == "improvement"]
    assert histogram["draws_count"].sum() == 200_000


def test_monte_carlo_is_reproducible_from_its_seed(model):
    first = sensitivity.monte_carlo(model, 50_000, seed=7, chunk_draws=20_000)
    again = sensitivity.monte_carlo(model, 50_000, seed=7, chunk_draws=20_000)
    other = sensitivity.monte_carlo(model, 50_000, seed=8, chunk_draws=20_000)
    pd.testing.assert_frame_equal(first.summary, again.summary)
    assert not first.summary.equals(other.summary)


def test_correlated_share_and_premium_raise_the_expected_variance(model):
    """Share and premium multiply: drawn together high, their product's mean rises."""
    independent = sensitivity.expected_variance(model)["improvement"]
    result = sensitivity.monte_carlo(model, 200_000, correlation=0.9)
    row = result.summary.set_index("structure").loc["improvement"]
    assert row["mean_variance_gbp"] - independent > 10 * row["mean_standard_error_gbp"]


@pytest.mark.parametrize("distribution", ["triangular", "uniform", "normal", "fixed"])
def test_draws_follow_the_declared_distribution(scenario, distribution):
    assumption = scenario.assumption("agency_share").model_copy(
        update={"distribution": distribution}
    )
    u = (np.arange(200_000) + 0.5) / 200_000
    drawn = sensitivity._from_uniform(assumption, u)
    assert drawn.min() >= assumption.low and drawn.max() <= assumption.high
    assert drawn.mean() == pytest.approx(sensitivity.expected_value(assumption), abs=1e-4)
    if distribution == "triangular":
        # The mode is the value: the CDF there is (mode - low) / (high - low).
        assert np.mean(drawn < 0.15) == pytest.approx((0.15 - 0.05) / 0.45, abs=1e-4)


# ---- bad input: named by file, key and value, end to end from the scenario file ------------


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    shutil.copy(paths.default_scenario_path(), tmp_path / "base.yaml")
    return tmp_path


def _child(folder: Path, body: str) -> Path:
    path = folder / "child.yaml"
    path.write_text(
        "name: Child\ndescription: A test child.\nextends: base.yaml\n" + body, encoding="utf-8"
    )
    return path


def _run(path: Path) -> None:
    model = sensitivity.build_model(load_scenario(path))
    sensitivity.agency_grid(model)
    sensitivity.monte_carlo(model, 1_000)


@pytest.mark.parametrize(
    ("body", "key", "value"),
    [
        (
            "assumptions:\n  agency_premium_gbp_per_fte:\n    low: 45000\n",
            "assumptions.agency_premium_gbp_per_fte.low",
            "'45000.0'",
        ),
        (
            "assumptions:\n  agency_share:\n    value: 1.2\n    high: 1.5\n    source: test\n",
            "assumptions.agency_share.value",
            "'1.2'",
        ),
        (
            "settings:\n  sensitivity:\n    correlation_agency_share_premium: 1.5\n",
            "settings.sensitivity.correlation_agency_share_premium",
            "'1.5'",
        ),
        (
            "assumptions:\n  pay_award_rate:\n    distribution: lognormal\n",
            "assumptions.pay_award_rate.distribution",
            "'lognormal'",
        ),
        (
            "settings:\n  sensitivity:\n    agency_share_grid:\n      steps: 1000\n"
            "    agency_premium_grid:\n      steps: 1000\n",
            "settings.sensitivity.agency_share_grid.steps",
            "'1000'",
        ),
    ],
    ids=["range-low-above-high", "probability-above-1", "correlation", "distribution", "grid"],
)
def test_bad_scenario_names_file_key_and_value(folder, body, key, value):
    path = _child(folder, body)
    with pytest.raises(InputError) as caught:
        _run(path)
    report = caught.value.report()
    assert f"In {path}" in report
    paragraph = next(p for p in report.split("\n\n") if f"key '{key}'" in p)
    assert f"found {value}" in paragraph


def test_grid_limit_is_checked_again_for_a_scenario_changed_in_code(scenario, published):
    small = scenario.settings.sensitivity.model_copy(update={"max_grid_points": 100})
    tight = scenario.__class__(
        **{
            **scenario.__dict__,
            "settings": scenario.settings.model_copy(update={"sensitivity": small}),
        }
    )
    with pytest.raises(InputError) as caught:
        sensitivity.agency_grid(sensitivity.build_model(tight, published))
    report = caught.value.report()
    assert "key 'settings.sensitivity.agency_share_grid.steps'" in report
    assert "found '46'" in report
    assert "46 x 35 = 1,610" in report


@pytest.mark.parametrize(
    ("kwargs", "key", "value"),
    [
        ({"draws": 0}, "settings.sensitivity.monte_carlo_draws", "'0'"),
        ({"correlation": -1.2}, "settings.sensitivity.correlation_agency_share_premium", "'-1.2'"),
    ],
)
def test_bad_monte_carlo_arguments_name_the_setting(model, kwargs, key, value):
    with pytest.raises(InputError) as caught:
        sensitivity.monte_carlo(model, **kwargs)
    report = caught.value.report()
    assert report.startswith("In scenarios/base.yaml")
    assert f"key '{key}'" in report and f"found {value}" in report


def test_published_cases_as_of_the_month_with_a_note_for_later_figures(scenario):
    from analysis import external

    tidy = external.load_external()
    cases, notes = sensitivity.published_cases(tidy, scenario, "2025-03")
    assert notes == []
    assert cases.set_index("team").loc["cla", "cases"] == 433  # CLA at 31 March 2024
    early, notes = sensitivity.published_cases(tidy, scenario, "2019-09")
    assert early.set_index("team").loc["cla", "cases"] == 409  # CLA at 31 March 2019
    assert notes[0] == (
        "care_leavers_17_18: no figure for E09000002 had been published by 2019-09; the first "
        "published, for the year to March 2021, is used."
    )
    with pytest.raises(InputError, match="reporting_month"):
        sensitivity.published_cases(tidy, scenario, "Sept 2019")


def test_a_demand_measure_the_council_lacks_is_named_by_the_published_tables_check(scenario):
    from analysis import external

    tidy = external.load_external()
    without = tidy[tidy["measure"] != "care_leavers_19_21"]
    with pytest.raises(InputError) as caught:
        sensitivity.published_cases(without, scenario, "2025-03")
    assert [(p.column, p.value) for p in caught.value.problems] == [
        ("measure", "care_leavers_19_21")
    ]
    assert "a measure published for E09000002" in caught.value.problems[0].expected


def test_first_published_is_the_earliest_edition_of_each_measures_period_anywhere():
    day = pd.Timestamp
    tidy = pd.DataFrame(
        {
            "la_code": ["E09000002", "E92000001", "E09000002", "E09000002", "E09000002"],
            "measure": ["referrals", "referrals", "referrals", "cla_at_31_march", "other"],
            "period_end": [
                day("2020-03-31"),
                day("2020-03-31"),
                day("2021-03-31"),
                day("2020-03-31"),
                day("2020-03-31"),
            ],
            "published": [
                day("2020-11-01"),
                day("2020-10-01"),
                day("2021-11-01"),
                day("2020-12-01"),
                day("2019-01-01"),
            ],
        }
    )
    first = sensitivity._first_published(tidy, ["referrals", "cla_at_31_march"])
    assert first.to_dict() == {
        ("cla_at_31_march", day("2020-03-31")): day("2020-12-01"),
        ("referrals", day("2020-03-31")): day("2020-10-01"),
        ("referrals", day("2021-03-31")): day("2021-11-01"),
    }
