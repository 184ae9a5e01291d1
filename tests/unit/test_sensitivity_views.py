"""What notebook 03 shows: the headline written from the sensitivity model's own figures, its
RAG status either side of the scenario's thresholds, the charts, display tables and the result
tables, by value."""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import external, sensitivity
from analysis import sensitivity_views as views
from analysis.errors import InputError
from analysis.formatting import count, gbp, gbp_m, pct
from analysis.paths import seed_dir

MONTH = "2019-09"  # before the Efficient structure (April 2021): Improvement is in place


@pytest.fixture(scope="module")
def results() -> views.SensitivityResults:
    return views.run_sensitivity(MONTH)


@pytest.fixture(scope="module")
def model(results: views.SensitivityResults) -> sensitivity.SensitivityModel:
    """The model built again from the inputs, independently of the views module."""
    cases, _notes = sensitivity.published_cases(external.load_external(), results.scenario, MONTH)
    return sensitivity.build_model(results.scenario, cases=cases)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _row(frame: pd.DataFrame, structure: str = "improvement") -> pd.Series:
    return frame.set_index("structure").loc[structure]


def _with_variance(results: views.SensitivityResults, share_of_budget: float):
    """The results with the Improvement structure's variance set to a share of its budget."""
    base = results.base_point.copy()
    improvement = base["structure"] == "improvement"
    base.loc[improvement, "variance_gbp"] = (
        share_of_budget * base.loc[improvement, "funded_budget_gbp"].to_numpy()
    )
    return dataclasses.replace(results, base_point=base)


def test_the_headline_quotes_the_models_figures(results, model) -> None:
    now = _row(sensitivity.base_point(model))
    even = _row(sensitivity.break_even(model))
    headline = views.headline(results)
    figures = {f.label: f for f in headline.figures}
    assert headline.notebook == "03_agency_sensitivity"
    assert figures["Variance, Improvement structure"].value == gbp_m(
        now["variance_gbp"], signed=True
    )
    assert figures["Break-even agency share"].value == pct(even["break_even_agency_share"])
    assert figures["Cost of one point of agency share"].value == gbp(even["cost_per_point_gbp"])
    # the seed council's figures, a year on from the costing under the base scenario
    assert headline.summary.startswith(
        "A year on from its costing, under the scenario 'Base case', the Improvement structure "
        "costs £18.6m against a funded budget of £18.0m: an overspend of £528,005. It breaks "
        "even at an agency share of 3.2% (the scenario assumes 15.0%); each extra percentage "
        "point of agency share costs £44,877 a year."
    )
    odds = _row(results.simulation.summary)
    assert f"Across {count(100_000)} simulated years" in headline.summary
    assert figures["Probability of an overspend"].value == pct(odds["probability_of_overspend"])
    assert views.headline_markdown(headline).startswith("**Agency-premium sensitivity.** A year")


def test_the_variance_status_follows_the_scenarios_thresholds(results) -> None:
    thresholds = results.scenario.settings.rag.variance_vs_budget
    amber, red = thresholds.amber, thresholds.red
    assert (amber, red) == (0.0, 0.02)
    cases = {
        -0.01: "green",
        amber: "green",
        amber + 0.0001: "amber",
        red: "amber",
        red + 0.0001: "red",
    }
    for share, status in cases.items():
        changed = _with_variance(results, share)
        assert views.variance_status(changed) == status, share
        assert views.headline(changed).figures[0].rag == status
    # £528,005 over an £18.0m budget is 2.9%: above the red threshold
    assert views.variance_status(results) == "red"


def test_an_underspend_and_an_unreachable_break_even_are_worded(results) -> None:
    changed = _with_variance(results, -0.01)
    assert "an underspend of £180,411" in views.headline(changed).summary
    even = results.break_even.copy()
    improvement = even["structure"] == "improvement"
    even.loc[improvement, "reachable"] = False
    even.loc[improvement, "finding"] = "over budget at every share"
    headline = views.headline(dataclasses.replace(results, break_even=even))
    assert "No agency share from 0% to 100% breaks even: it is over budget at every share" in (
        headline.summary
    )
    assert headline.figures[1].value == "not reachable"


def test_result_tables_are_the_models_tables(results, model) -> None:
    tables = views.result_tables(results)
    assert list(tables) == [
        "sensitivity_base_point",
        "sensitivity_grid",
        "sensitivity_tornado",
        "sensitivity_break_even",
        "sensitivity_monte_carlo",
        "sensitivity_histogram",
        "sensitivity_assumptions",
    ]
    pd.testing.assert_frame_equal(tables["sensitivity_base_point"], sensitivity.base_point(model))
    pd.testing.assert_frame_equal(tables["sensitivity_break_even"], sensitivity.break_even(model))
    assert len(tables["sensitivity_grid"]) == 3 * 46 * 35
    assert _row(tables["sensitivity_break_even"])["cost_per_point_gbp"] == pytest.approx(
        44_876.61, abs=0.01
    )
    assert set(tables["sensitivity_monte_carlo"]["draws"]) == {100_000}
    paths = views.inputs(results)
    assert results.scenario.path in paths
    assert seed_dir() / "tom_structures.csv" in paths


def test_display_tables_write_pounds_shares_and_fte(results) -> None:
    tornado = views.tornado_table(results).data.set_index("assumption")
    assert len(tornado) == (results.tornado["structure"] == "improvement").sum()
    assert tornado.loc["agency_share", "change_at_low_gbp"] == "-£448,766"
    assert tornado.loc["agency_share", "change_at_high_gbp"] == "+£1,570,681"
    # the agency share does not move staffing: its FTE change is blank, not "nan"
    assert tornado.loc["agency_share", "case_holding_fte_change_at_low"] == ""
    assert tornado.loc["practice_supervisors_per_team", "case_holding_fte_change_at_low"] == "-11.1"
    simulation = views.monte_carlo_table(results).data.set_index("structure")
    assert simulation.loc["improvement", "draws"] == "100,000"
    odds = _row(results.simulation.summary)
    assert simulation.loc["improvement", "probability_standard_error"] == pct(
        odds["probability_standard_error"], decimals=2
    )
    per_point = views.per_point_table(results).data.set_index("structure")
    assert per_point.loc["improvement", "variance_gbp"] == "+£528,005"
    assert per_point.loc["improvement", "break_even_agency_share_as_funded"] == "15.0%"
    assumptions = views.assumptions_table(results).data
    assert list(assumptions["name"]) == sensitivity.one_way_assumptions(results.model)


def test_the_demand_note_says_which_figures_came_later(results) -> None:
    note = views.demand_note(results)
    assert note.startswith("*Demand used to weight the caseload targets:* care_leavers_17_18:")
    assert "for the year to March 2021, is used." in note
    assert views.demand_note(dataclasses.replace(results, case_notes=())) == ""


def test_charts_show_the_current_structure(results) -> None:
    heatmap = views.variance_heatmap(results)
    # one cell of the image per grid point, spanning the grid's range
    image = heatmap.axes[0].get_images()[0]
    grid = results.grid[results.grid["structure"] == results.structure]
    shares = grid["agency_share"].nunique()
    assert image.get_array().shape == (grid["agency_premium_gbp_per_fte"].nunique(), shares)
    left, right, _bottom, _top = image.get_extent()
    step = (grid["agency_share"].max() - grid["agency_share"].min()) / (shares - 1)
    assert left == pytest.approx(grid["agency_share"].min() - step / 2)
    assert right == pytest.approx(grid["agency_share"].max() + step / 2)
    # the colour bar and its label fit beside the map
    heatmap.canvas.draw()
    renderer = heatmap.canvas.get_renderer()
    colour_bar = heatmap.axes[1]
    assert (
        colour_bar.get_window_extent(renderer).x0 > heatmap.axes[0].get_window_extent(renderer).x1
    )
    assert colour_bar.yaxis.label.get_window_extent(renderer).x1 <= heatmap.bbox.x1
    assert heatmap.axes[0].get_title() == (
        "Improvement structure: variance a year on, by agency share and premium"
    )
    tornado = views.tornado_chart(results).axes[0]
    # 12 assumptions, each with a low and a high bar
    assert len(tornado.patches) == 2 * views.TORNADO_BARS
    assert tornado.get_xlabel() == "Change in variance from +£0.5m (£m)"
    histogram = views.overspend_histogram(results).axes[0]
    assert len(histogram.patches) == 40
    assert histogram.get_title().endswith(
        f"(P(overspend) {pct(_row(results.simulation.summary)['probability_of_overspend'])})"
    )


def test_a_bad_reporting_month_is_an_input_error() -> None:
    with pytest.raises(InputError, match="YYYY-MM"):
        views.run_sensitivity("September 2019")
