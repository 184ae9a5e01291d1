"""Notebook 04 (benchmarking, scorecard and contract sum) runs clean under the plain papermill
CLI from another folder, for the seed council and another, and writes the figures it shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from notebook_runs import charts_of_clean_run

from analysis import formatting as fmt
from analysis.paths import notebooks_dir

pytestmark = pytest.mark.slow

NOTEBOOK = notebooks_dir() / "04_benchmarking.ipynb"
HEADLINE = "headline_04_benchmarking.json"


def _papermill(tmp_path: Path, name: str, **parameters: str) -> subprocess.CompletedProcess:
    """Run the notebook as an analyst would, with the papermill command, from another folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    arguments = [sys.executable, "-m", "papermill", str(NOTEBOOK), str(tmp_path / f"{name}.ipynb")]
    for key, value in {"output_dir": str(tmp_path / name), **parameters}.items():
        arguments += ["-r", key, value]
    return subprocess.run(
        [*arguments, "--no-progress-bar", "--execution-timeout", "300"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )


def _run(tmp_path: Path, name: str, **parameters: str) -> tuple[nbformat.NotebookNode, Path]:
    done = _papermill(tmp_path, name, **parameters)
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.read(tmp_path / f"{name}.ipynb", as_version=4), tmp_path / name


@pytest.fixture(scope="module")
def barking(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    return _run(
        tmp_path_factory.mktemp("nb04"), "barking", la_code="E09000002", reporting_month="2025-03"
    )


@pytest.fixture(scope="module")
def isles_of_scilly(tmp_path_factory: pytest.TempPathFactory):
    # The smallest council: its counts of children are the ones disclosure control protects.
    return _run(
        tmp_path_factory.mktemp("nb04"), "scilly", la_code="E06000053", reporting_month="2025-03"
    )


def _headline(folder: Path) -> dict:
    return json.loads((folder / HEADLINE).read_text(encoding="utf-8"))


def test_barking_runs_clean_with_every_chart_and_table(barking) -> None:
    executed, folder = barking
    # Four comparisons, five trends and the contract sum.
    assert charts_of_clean_run(executed) == 10
    for table in ("scorecard", "benchmark", "similar_councils", "contract_sum"):
        assert (folder / f"{table}.csv").is_file()


def test_the_scorecard_comes_first_in_the_headline_with_its_thresholds(barking) -> None:
    _executed, folder = barking
    headline = _headline(folder)
    figures = headline["figures"]
    assert [f["label"] for f in figures[:4]] == [
        "Scorecard: Caseload against target",
        "Scorecard: Agency share against the budgeted share",
        "Scorecard: Variance against budget",
        "Scorecard: Demand against forecast",
    ]
    # RSX 2023-24 £85,661k against RA £70,172k: 22.1% over, above the 2% red threshold.
    variance = figures[2]
    assert (variance["value"], variance["rag"]) == ("+22.1%", "red")
    assert "red above +2.0%" in variance["note"]
    # DfE agency rate 18.6% at 30 September 2024 against the budgeted 15%: amber.
    assert (figures[1]["value"], figures[1]["rag"]) == ("+3.6%", "amber")
    scorecard = pd.read_csv(folder / "scorecard.csv").set_index("indicator")
    assert scorecard.loc["variance_vs_budget", "red_above"] == 0.02
    assert headline["summary"].startswith("Scorecard: RED for variance against budget")


def test_benchmark_and_contract_figures_match_the_tables(barking) -> None:
    _executed, folder = barking
    summary = _headline(folder)["summary"]
    benchmark = pd.read_csv(folder / "benchmark.csv").set_index("indicator")
    cla = benchmark.loc["cla_at_31_march_per_10k"]
    # 433 children looked after at 31 March 2024 in a population of 64,907 (DfE, ONS).
    assert cla["council"] == pytest.approx(433 / 64907 * 10_000)
    assert f"looked after {fmt.number(cla['council'])} children per 10,000" in summary
    contract = pd.read_csv(folder / "contract_sum.csv")
    assert contract["financial_year"].tolist() == [
        "2024/25",
        "2025/26",
        "2026/27",
        "2027/28",
        "2028/29",
    ]
    assert (contract["budget_gbp"] == 70_172_000).all()
    assert fmt.gbp_m(contract["contract_cost_gbp"].iloc[-1]) in summary
    similar = pd.read_csv(folder / "similar_councils.csv")
    assert len(similar) == 10 and "E09000002" not in set(similar["la_code"])


def test_small_counts_are_not_shown(isles_of_scilly) -> None:
    executed, folder = isles_of_scilly
    charts_of_clean_run(executed)
    benchmark = pd.read_csv(folder / "benchmark.csv").set_index("indicator")
    # Whatever the year, a rate whose count is 1 to 5 children is hidden.
    for indicator in ("cpp_at_31_march_per_10k", "cla_at_31_march_per_10k"):
        rate, children = benchmark.loc[indicator, "council"], benchmark.loc["children_0_17"]
        if pd.notna(rate):
            count = round(rate * children["council"] / 10_000)
            assert count == 0 or count > 5  # zeros are published, as the DfE does


def test_an_unknown_la_code_is_a_clear_error(tmp_path: Path) -> None:
    done = _papermill(tmp_path, "unknown", la_code="E09999999", reporting_month="2025-03")
    assert done.returncode != 0
    assert "InputError" in done.stderr and "E09999999" in done.stderr
