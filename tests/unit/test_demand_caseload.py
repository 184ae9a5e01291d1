"""Notebook 01's computation for one LA: published-by-month cut, forecasts, cases, FTE, costs,
and what is shown of them (disclosure control, generated headline)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from fixtures.make_local_extract import make_demand_extract, make_workforce_extract

from analysis import demand, external, workforce
from analysis import demand_views as views
from analysis import formatting as fmt
from analysis.demand_caseload import (
    FORECAST_MEASURES,
    all_la_accuracy,
    analyse,
    combined_series,
    la_view,
    next_year_of,
    value_for_year,
)
from analysis.errors import InputError
from analysis.external import la_lookup, load_external, resolve_la
from analysis.scenario import load_scenario


def _all_la_accuracy(method: str = "naive") -> pd.DataFrame:
    """A stand-in for the all-LA backtest that chose ``method`` for every measure."""
    return pd.DataFrame(
        {
            "measure": list(FORECAST_MEASURES),
            "la_code": "E09000002",
            "method": method,
            "n_origins": 3,
            "n_forecasts": 3,
            "mape": 5.0,
            "mase": 0.9,
            "inside_80": 2,
            "inside_95": 3,
            "coverage_80": 2 / 3,
            "coverage_95": 1.0,
        }
    )


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    return load_external()


@pytest.fixture(scope="module")
def barking(tidy: pd.DataFrame):
    return analyse(
        tidy, "E09000002", "2025-12", load_scenario(), all_la_accuracy=_all_la_accuracy()
    )


def test_next_year_is_the_end_of_the_following_financial_year() -> None:
    assert next_year_of("2025-03") == 2026  # 2024/25 P12 -> year to March 2026
    assert next_year_of("2025-04") == 2027  # 2025/26 P1 -> year to March 2027
    assert next_year_of("2024-25 P12") == 2026


def test_only_figures_published_by_the_month_are_used(barking) -> None:
    """December 2025: CLA 2025 (November 2025) is out; the September 2025 workforce census
    (March 2026) is not, so the actual workforce is September 2024's."""
    history = barking.history.set_index(["measure", "year"])["count"]
    assert history["cla_at_31_march", 2025] == 431
    assert barking.actual.as_at == "2024-09-30"
    assert barking.actual.permanent_fte == pytest.approx(209.4)
    assert barking.actual.agency_fte == 48


def test_all_la_choice_is_used_and_cases_follow_the_forecast(barking) -> None:
    """Every method 'naive': CLA at March 2027 is the last published value, 431."""
    assert barking.accuracy_basis == "all_las"
    assert set(barking.chosen.values()) == {"naive"}
    assert barking.next_year_value("cla_at_31_march") == 431
    cases = barking.cases[barking.cases["basis"] == "next_year"].set_index("team")["cases"]
    assert cases["cla"] == 431
    assert cases["cp"] == 349  # CPP at 31 March 2025, carried forward
    params = workforce.workforce_parameters(load_scenario())
    again = workforce.required_fte(cases.reset_index(), params)
    required = barking.required[barking.required["basis"] == "next_year"]
    assert required["required_fte"].sum() == pytest.approx(again["required_fte"].sum())
    about = views.about(barking, "Base case", "")
    assert "backtest across all English councils on the figures published by then" in about
    assert "Children looked after at 31 March: last value" in about


def test_placement_cost_uses_the_forecast_and_sits_beside_the_budget(barking) -> None:
    cost = barking.placement_cost.set_index("financial_year")
    per_child = barking.cost_per_child
    england = per_child[
        (per_child["mix_source"] == "england") & (per_child["placement_group"] == "total")
    ]["weighted_annual_cost_gbp"].iloc[0]
    # 2025/26: opening 431 (March 2025), closing 431 (naive forecast).
    assert cost.loc["2025/26", "children_looked_after_avg"] == 431
    assert cost.loc["2025/26", "placement_cost_gbp"] == pytest.approx(431 * england)
    assert cost.loc["2023/24", "csc_budget_gbp"] == 70_172_000


def test_headline_is_written_from_the_figures(barking) -> None:
    headline = views.headline(barking, 1.0, 1.1)
    assert "By 31 March 2027 Barking and Dagenham is forecast to have 431 (80% interval" in (
        headline.summary
    )
    assert "14.9 cases each at 30 September 2024 (England 15.4)" in headline.summary
    required = barking.required[barking.required["basis"] == "next_year"]["required_fte"].sum()
    assert f"needs {fmt.fte(required)} social work FTE" in headline.summary
    assert headline.figures[0].value == "431"


def test_a_council_with_suppressed_counts_shows_none_of_them(tidy: pd.DataFrame) -> None:
    """Isles of Scilly: children looked after and child protection plans are suppressed in the
    latest years, so neither is forecast; any forecast bound of 1 to 5 is hidden as 'c'."""
    result = analyse(
        tidy, "E06000053", "2025-12", load_scenario(), all_la_accuracy=_all_la_accuracy()
    )
    assert "cla_at_31_march" not in set(result.forecast["measure"])
    assert any("Children looked after" in note for note in result.notes)
    protected = views.protected_counts(result)
    shown = protected[["published", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]]
    values = shown.to_numpy().ravel()
    values = values[pd.notna(values)]
    assert not ((values > 0) & (values < 5.5)).any()
    summary = views.headline(result, 1.0, 1.1).summary
    assert "children looked after" not in summary
    assert "nan" not in summary


def test_fte_chart_of_a_council_whose_agency_fte_is_not_published(tidy) -> None:
    """Sunderland's 2024 workforce return has no agency FTE: the in-post bar stacks what was
    published and its total says what was not."""
    result = analyse(
        tidy, "E08000024", "2025-03", load_scenario(), all_la_accuracy=_all_la_accuracy()
    )
    assert math.isnan(result.actual.agency_fte)
    figure = views.fte_chart(result)
    labels = [t.get_text() for t in figure.axes[0].texts]
    in_post = result.actual.permanent_fte + result.actual.vacant_fte
    assert f"{fmt.fte(in_post)}\n(agency not published)" in labels


def test_an_earlier_ons_code_finds_the_same_council(tidy: pd.DataFrame) -> None:
    """Gateshead was E08000020 before 2013 (E08000037 now, DfE LA number 390)."""
    result = analyse(
        tidy, "E08000020", "2025-12", load_scenario(), all_la_accuracy=_all_la_accuracy()
    )
    assert result.la_name == "Gateshead"
    assert result.actual is not None
    assert result.history["year"].max() == 2025


@pytest.mark.parametrize("code", ["E06000061", "E06000062"])
def test_figures_published_for_two_councils_together_count_for_each(tidy, code) -> None:
    """The workforce file publishes the Northamptonshire children's trust as one row for
    North and West Northamptonshire ("E06000061 / E06000062"); each council sees it."""
    notes: list[str] = []
    view = la_view(tidy, resolve_la(code, la_lookup(tidy)), notes)
    joint = tidy[tidy["la_code"].astype("string") == "E06000061 / E06000062"]
    assert len(joint) > 0
    assert (view.loc[joint.index, "la_code"] == code).all()
    assert notes == [
        "Some figures are published for several councils together (E06000061 / E06000062, "
        "in csww_indicators_2017_to_2025.csv); they are shown here as this council's."
    ]
    other = la_view(tidy, resolve_la("E09000002", la_lookup(tidy)), [])
    assert not other.index.isin(joint.index).any()
    assert set(other.loc[other["geographic_level"] == "Local authority", "la_code"]) == {
        "E09000002"
    }
    assert (other["geographic_level"] != "Local authority").sum() == (
        tidy["geographic_level"] != "Local authority"
    ).sum()


def test_unknown_la_is_a_clear_error(tidy: pd.DataFrame) -> None:
    with pytest.raises(InputError) as caught:
        analyse(tidy, "E09999999", "2025-03", load_scenario(), all_la_accuracy=_all_la_accuracy())
    assert "column 'la_code': found 'E09999999'" in caught.value.report()


def test_all_la_accuracy_uses_what_was_published_by_the_month_and_is_kept(
    tidy: pd.DataFrame, tmp_path, monkeypatch
) -> None:
    few = ["E09000002", "E06000001", "E08000014", "E10000021"]  # and the national rows
    small = tidy[tidy["la_code"].isin(few) | (tidy["geographic_level"] != "Local authority")]
    table = all_la_accuracy(small, "2019-09", tmp_path)
    expected = demand.backtest_all(external.published_as_of(small, "2019-09"))
    assert len(table) == len(expected) > 0
    assert table["n_forecasts"].tolist() == expected["n_forecasts"].tolist()
    assert table["mase"].to_numpy() == pytest.approx(expected["mase"].to_numpy(), rel=1e-9)
    later = all_la_accuracy(small, "2025-12", tmp_path)
    assert later["n_forecasts"].sum() > table["n_forecasts"].sum()  # six more years published
    assert len(list(tmp_path.glob("forecast_accuracy_*.csv"))) == 2

    def refit(*_args, **_kwargs):
        raise AssertionError("a kept backtest was computed again")

    monkeypatch.setattr(demand, "backtest_all", refit)
    again = all_la_accuracy(small, "2019-09", tmp_path)
    pd.testing.assert_frame_equal(again, table)


def test_a_monthly_extract_drives_monthly_forecasts(tidy: pd.DataFrame) -> None:
    """A synthetic 30-month extract (October 2022 to March 2025; short enough that only the
    baselines are backtested): forecasts are monthly, next year's referrals are the sum of the
    twelve monthly forecasts April 2025 to March 2026, stocks are taken at March, and the
    placement cost uses the mean of the twelve month-end counts."""
    extract = make_demand_extract(first_month="2022-10", months=30)
    result = analyse(
        tidy,
        "E09000002",
        "2025-03",
        load_scenario(),
        demand_extract=extract,
        workforce_extract=make_workforce_extract(),
    )
    assert result.frequency == "monthly"
    assert result.accuracy_basis == "this_la"
    referrals = result.forecast[result.forecast["measure"] == "referrals"]
    in_year = referrals[
        (referrals["period_end"] > "2025-03-31") & (referrals["period_end"] <= "2026-03-31")
    ]
    assert len(in_year) == 12
    assert result.next_year_value("referrals") == pytest.approx(in_year["forecast"].sum())
    march = extract[extract["month"] == "2025-03"].set_index("measure")["count"]
    latest = result.cases[result.cases["basis"] == "latest"].set_index("team")["cases"]
    assert latest["cla"] == march["cla_at_month_end"]
    assert latest["care_leavers"] == march["care_leavers_at_month_end"]
    cla = result.forecast[result.forecast["measure"] == "cla_at_31_march"]
    year_to_march_2026 = cla[cla["period_end"] <= "2026-03-31"]["forecast"]
    cost = result.placement_cost.set_index("financial_year")
    assert cost.loc["2025/26", "children_looked_after_avg"] == pytest.approx(
        year_to_march_2026.mean()
    )
    assert result.actual.source == "council workforce extract"
    summary = views.headline(result, 1.0, 1.1).summary
    assert "(the council's own extract)" in summary
    assert "the DfE published 14.9 cases each at 30 September 2024" in summary


def test_accuracy_table_shows_the_chosen_method_beside_the_baseline(barking) -> None:
    table = views.accuracy_table(barking)
    assert len(table) == len(FORECAST_MEASURES)  # 'naive' was chosen for every measure
    assert set(table["Chosen"]) == {"yes"}
    assert set(table["MAPE"]) == {"5.0%"}


def test_a_measures_published_figures_run_on_into_its_forecast_after_the_last_one() -> None:
    march = [pd.Timestamp(f"{year}-03-31") for year in (2022, 2023, 2024, 2025)]
    history = pd.DataFrame(
        {
            "measure": ["cla_at_31_march"] * 3 + ["referrals"],
            "period_end": march[:3] + march[:1],
            "year": [2022, 2023, 2024, 2022],
            "count": [400.0, 410.0, math.nan, 900.0],  # 2024 suppressed
        }
    )
    forecast = pd.DataFrame(
        {
            "measure": ["cla_at_31_march"] * 3 + ["referrals"],
            "period_end": march[1:] + march[1:2],
            "forecast": [415.0, 420.0, 425.0, 950.0],
            "upper_80": [430.0, 440.0, 450.0, 990.0],
        }
    )
    combined = combined_series(history, forecast, "cla_at_31_march", "upper_80")
    assert combined.to_dict() == {
        march[0]: 400.0,
        march[1]: 410.0,
        march[2]: 440.0,
        march[3]: 450.0,
    }
    assert combined.index.name == "period_end"
    assert value_for_year(history, forecast, "cla_at_31_march", march[2], "annual") == 420.0
    assert value_for_year(history, forecast, "referrals", march[1], "annual", "upper_80") == 990.0
    assert math.isnan(
        value_for_year(
            history, forecast, "cla_at_31_march", march[0] - pd.DateOffset(years=1), "annual"
        )
    )
