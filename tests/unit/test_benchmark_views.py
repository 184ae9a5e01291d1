"""Notebook 04's presentation: protected rates, written figures and the headline's order."""

from __future__ import annotations

import math

import pandas as pd

from analysis import benchmark_views as views


def _values() -> pd.DataFrame:
    rows = []
    for code, cla in (("E1", 3.0), ("E2", 40.0), ("E3", 0.0)):
        rows.append(
            {
                "geographic_level": "Local authority",
                "la_code": code,
                "la_name": code,
                "region_code": "R",
                "year": 2024,
                "indicator": "cla_at_31_march_per_10k",
                "value": cla,  # a population of 10,000 children
            }
        )
    return pd.DataFrame(rows)


def _published() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "geographic_level": "Local authority",
            "la_code": ["E1", "E2", "E3"],
            "measure": "cla_at_31_march",
            "year": 2024,
            "value": [3.0, 40.0, 0.0],
            "edition": 2025,
        }
    )


def test_a_rate_from_one_to_five_children_is_hidden_and_zero_is_shown() -> None:
    protected = views.protect_rates(_values(), _published(), ["E1", "E2", "E3"])
    shown = protected.set_index("la_code")
    assert math.isnan(shown.loc["E1", "value"]) and shown.loc["E1", "symbol"] == "c"
    assert shown.loc["E2", "value"] == 40.0 and shown.loc["E2", "symbol"] == ""
    assert shown.loc["E3", "value"] == 0.0


def test_only_the_councils_shown_are_protected() -> None:
    protected = views.protect_rates(_values(), _published(), ["E2"])
    assert protected.set_index("la_code").loc["E1", "value"] == 3.0


def test_the_council_row_of_a_protected_rate_loses_rank_and_quartile() -> None:
    protected = views.protect_rates(_values(), _published(), ["E1"])
    table = pd.DataFrame(
        {
            "indicator": ["cla_at_31_march_per_10k"],
            "year": [2024],
            "council": [3.0],
            "rank": [2.0],
            "quartile": [2.0],
            "change_on_year": [1.0],
            "trend_per_year": [0.5],
        }
    )
    shown = views.protect_benchmark(table, protected, "E1").iloc[0]
    assert shown[["council", "rank", "quartile", "change_on_year"]].isna().all()


def test_chances_are_written_for_a_reader() -> None:
    assert views.chance(0.001) == "less than 1%"
    assert views.chance(0.999) == "more than 99%"
    assert views.chance(0.234) == "23%"
    assert views.chance(math.nan) == "–"


def test_the_pack_index_shows_the_scorecard_first() -> None:
    from analysis.pack import scorecard_first
    from analysis.report import IndexEntry
    from analysis.results import Headline, HeadlineFigure

    def entry(notebook: str, label: str) -> IndexEntry:
        figure = HeadlineFigure(label=label, value="1", rag="green")
        headline = Headline(notebook=notebook, title=notebook, summary="", figures=(figure,))
        return IndexEntry(notebook, headline, f"{notebook}.html", f"{notebook}.ipynb")

    entries = [
        entry("01_demand", "Children looked after"),
        entry("02_tom", "True cost"),
        entry("04_benchmarking", "Scorecard: Variance against budget"),
        IndexEntry("05_other", None, "05.html", "05.ipynb"),
    ]
    ordered = [e.title for e in scorecard_first(entries)]
    assert ordered == ["04_benchmarking", "01_demand", "02_tom", "05_other"]


def test_indicators_for_a_month_before_the_finance_returns_were_published() -> None:
    from analysis import benchmark
    from analysis.external import load_external, published_as_of

    values = benchmark.indicator_values(published_as_of(load_external(), "2019-09"))
    assert "outturn_vs_budget" not in set(values["indicator"])
    rates = values[
        (values["indicator"] == "cla_at_31_march_per_10k") & (values["la_code"] == "E09000002")
    ]
    assert int(rates["year"].max()) == 2017  # the 2018-2020 LA files are not bundled


def test_a_one_indicator_comparison_keeps_its_legend_beside_the_bars() -> None:
    table = pd.DataFrame(
        {
            "indicator": ["caseload_per_fte"],
            "label": ["Caseload"],
            "council": [14.9],
            "england": [15.4],
            "region": [13.8],
            "similar_councils": [14.4],
            "rank": [88.0],
            "councils": [150.0],
            "quartile": [2.0],
        }
    )
    figure = views.comparison_chart(
        table, ["caseload_per_fte"], title="Caseload", xlabel="Cases per FTE", source="DfE"
    )
    ax = figure.axes[0]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.x0 >= ax.get_window_extent(renderer).x1
    assert legend.x1 <= figure.bbox.x1
    assert ax.get_yticklabels()[0].get_text() == "Caseload\nrank 88 of 150, quartile 2"


def test_run_benchmarking_puts_notebook_04_together_for_one_council() -> None:
    """Barking and Dagenham, March 2025: benchmarked on 2024 (the latest year published by
    then) against London and its ten most similar councils; the contract sum's demand uses
    the all-council choice of method (simple exponential smoothing for child protection)."""
    results = views.run_benchmarking("2025-03", "", "E09000002")
    assert (results.view.la_name, results.year) == ("Barking and Dagenham", 2024)
    assert (results.region_code, results.region_name) == ("E12000007", "London")
    assert len(results.similar_codes) == 10 and "E09000002" not in results.similar_codes
    assert len(results.card) == 4
    methods = results.view.forecast.drop_duplicates("measure").set_index("measure")["method"]
    assert methods["cpp_at_31_march"] == "ses"
    assert results.headline.title == (
        "Benchmarking, scorecard and contract sum: Barking and Dagenham"
    )
