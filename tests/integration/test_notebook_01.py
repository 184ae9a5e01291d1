"""Notebook 01 (demand and caseload) runs clean under papermill from another folder for more
than one council, and its headline carries the figures it computed."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
from notebook_runs import charts_of_clean_run, run_notebook

from analysis import formatting as fmt
from analysis.paths import notebooks_dir

pytestmark = pytest.mark.slow

NOTEBOOK = notebooks_dir() / "01_demand_and_caseload.ipynb"
HEADLINE = "headline_01_demand_and_caseload.json"


@pytest.fixture(scope="module")
def barking(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    return run_notebook(
        NOTEBOOK,
        tmp_path_factory.mktemp("nb01"),
        "barking",
        la_code="E09000002",
        reporting_month="2025-12",
    )


@pytest.fixture(scope="module")
def bradford(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    return run_notebook(
        NOTEBOOK,
        tmp_path_factory.mktemp("nb01"),
        "bradford",
        la_code="E08000032",
        reporting_month="2025-03",
    )


def _headline(folder: Path) -> dict:
    return json.loads((folder / HEADLINE).read_text(encoding="utf-8"))


def _figure(headline: dict, starts: str) -> dict:
    return next(f for f in headline["figures"] if f["label"].startswith(starts))


@pytest.mark.parametrize("run", ["barking", "bradford"])
def test_runs_clean_with_every_chart(run: str, request: pytest.FixtureRequest) -> None:
    executed, folder = request.getfixturevalue(run)
    # Six demand measures, four rates, caseload, FTE and placement cost.
    assert charts_of_clean_run(executed) == 13
    for table in ("demand_forecast", "required_fte", "fte_vs_in_post", "placement_cost"):
        assert (folder / f"{table}.csv").is_file()


def test_barking_and_dagenham_headline_holds_the_computed_figures(barking) -> None:
    _executed, folder = barking
    headline = _headline(folder)
    summary = headline["summary"]
    forecast = pd.read_csv(folder / "demand_forecast.csv")
    cla = forecast[forecast["measure"] == "cla_at_31_march"].set_index("year")
    # Published figures as of December 2025: 431 looked after at 31 March 2025 (DfE 2025).
    assert cla.loc[2025, "published"] == 431
    # December 2025 is in 2025/26, so "next year" is the year to 31 March 2027.
    central = cla.loc[2027, "forecast"]
    assert _figure(headline, "Children looked after")["value"] == fmt.count(central)
    assert f"By 31 March 2027 Barking and Dagenham is forecast to have {fmt.count(central)} (" in (
        summary
    )
    # DfE workforce census, 30 September 2024 (the 2025 census is published in March 2026).
    assert "14.9 cases each at 30 September 2024 (England 15.4)" in summary
    required = pd.read_csv(folder / "required_fte.csv")
    next_fte = required.loc[required["basis"] == "next_year", "required_fte"].sum()
    assert _figure(headline, "Social work FTE required")["value"] == fmt.fte(next_fte)
    assert f"needs {fmt.fte(next_fte)} social work FTE" in summary
    assert "209.4 permanent, 48.0 agency" in summary
    cost = pd.read_csv(folder / "placement_cost.csv").set_index("financial_year")
    assert fmt.gbp_m(cost.loc["2026/27", "placement_cost_gbp"]) in summary
    assert cost.loc["2023/24", "csc_budget_gbp"] == 70_172_000


def test_bradford_headline_and_tables_agree(bradford) -> None:
    _executed, folder = bradford
    headline = _headline(folder)
    forecast = pd.read_csv(folder / "demand_forecast.csv")
    cla = forecast[forecast["measure"] == "cla_at_31_march"].set_index("year")
    assert 2025 not in cla.index[cla["published"].notna()]  # published November 2025
    assert _figure(headline, "Children looked after")["value"] == fmt.count(
        cla.loc[2026, "forecast"]
    )
    assert headline["title"] == "Demand and caseload: Bradford"
    comparison = pd.read_csv(folder / "fte_vs_in_post.csv")
    at_work = comparison[(comparison["measure"] == "at_work") & (comparison["basis"] == "latest")]
    assert f"against {fmt.fte(at_work['fte'].iloc[0])} at work" in headline["summary"]


def test_an_unknown_la_code_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        run_notebook(NOTEBOOK, tmp_path, "unknown", la_code="E09999999", reporting_month="2025-03")
    assert caught.value.ename == "InputError"
    assert "column 'la_code': found 'E09999999'" in caught.value.evalue
    assert "ONS code" in caught.value.evalue
