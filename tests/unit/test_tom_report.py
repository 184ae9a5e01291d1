"""What notebook 02 shows: the generated headline, display tables and notes, by value."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import tom_report as tom
from analysis.errors import InputError


@pytest.fixture(scope="module")
def results() -> tom.TomResults:
    return tom.run_tom_costs("2024-25 P3")


def test_the_headline_says_cost_gap_and_who_pays(results: tom.TomResults) -> None:
    headline = tom.headline(results)
    assert results.financial_year == "2024/25"
    assert "Improvement structure costs £18.0m" in headline.summary
    assert "Efficient structure £17.0m (330.0 FTE)" in headline.summary
    assert "Care and Support budget pays £14.2m" in headline.summary
    assert "external funders £2.5m" in headline.summary
    assert "For 2024/25 (reporting month June 2024) the projected out-turn" in headline.summary
    gap = headline.figures[-1]
    assert gap.label == "Gap to budget 2024/25 (projected)"
    assert gap.rag in ("red", "amber", "green")


def test_display_tables_write_pounds_fte_and_millions(results: tom.TomResults) -> None:
    totals = tom.for_display(tom.structure_totals_table(results)).set_index("Structure")
    assert totals.loc["Improvement", "Base cost (£)"] == "£16,859,582"
    assert totals.loc["Improvement", "FTE"] == "349.0"
    summary = tom.for_display(results.summary).set_index("Financial year")
    assert summary.loc["2019/20", "Appendix variance (£m)"] == "£5.2m"
    assert summary.loc["2024/25", "Appendix variance (£m)"] == "–"
    checks = tom.for_display(results.published_checks)
    assert set(checks["Agrees"]) == {"yes", "no"}


def test_the_trajectory_note_names_published_and_projected_years(
    results: tom.TomResults,
) -> None:
    note = tom.trajectory_note(results)
    assert "Appendix B publishes 2019/20 to 2021/22" in note
    assert "2022/23 to 2028/29 are projected" in note
    # by June 2024 the RA budget for 2023/24 is published, its RSX out-turn not yet
    assert "RA budget in 2023/24" in note


def test_every_assumption_the_models_use_is_listed(results: tom.TomResults) -> None:
    table = tom.assumptions_used(results).set_index("Assumption")
    assert table.loc["agency_share", "Value"] == "15.0%"
    assert table.loc["agency_premium_gbp_per_fte", "Value"] == "£30,000"
    assert table.loc["agency_eligible_fte_improvement", "Value"] == "143.78"
    assert table["Source"].str.len().min() > 0


def test_a_bad_reporting_month_is_an_input_error() -> None:
    with pytest.raises(InputError, match="YYYY-MM"):
        tom.run_tom_costs("September 2019")


def test_result_tables_are_numbers(results: tom.TomResults) -> None:
    tables = tom.result_tables(results)
    assert "tom_structure_costs_2024_25" in tables
    assert pd.api.types.is_float_dtype(tables["tom_structure_costs"]["true_cost_gbp"])
