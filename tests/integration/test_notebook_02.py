"""Notebook 02 (TOM costs) runs clean under papermill from another folder, writes its tables,
workbook and headline, and its numbers follow the scenario file."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from notebook_runs import run_notebook
from openpyxl import load_workbook

from analysis.paths import default_scenario_path, notebooks_dir

pytestmark = pytest.mark.slow

NOTEBOOK = notebooks_dir() / "02_tom_costs.ipynb"
MONTH = "2019-09"


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[nbformat.NotebookNode, Path]:
    return run_notebook(NOTEBOOK, tmp_path_factory.mktemp("nb02"), "base", reporting_month=MONTH)


def test_the_notebook_runs_clean_without_warnings_or_errors(base_run) -> None:
    executed, _folder = base_run
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), output
    charts = [
        o
        for cell in executed.cells
        for o in cell.get("outputs", [])
        if "image/svg+xml" in o.get("data", {})
    ]
    assert len(charts) == 4


def test_it_writes_tables_workbook_and_headline(base_run) -> None:
    _executed, folder = base_run
    headline = json.loads((folder / "headline_02_tom_costs.json").read_text(encoding="utf-8"))
    assert "£18.0m" in headline["summary"] and "£1.9m more" in headline["summary"]
    assert "2019/20" in headline["summary"]
    costs = pd.read_csv(folder / "tom_structure_costs.csv")
    total = costs[(costs["structure"] == "improvement") & (costs["budget_area"] == "Total")]
    assert float(total["true_cost_gbp"].iloc[0]) == pytest.approx(18_041_082, abs=50)
    summary = pd.read_csv(folder / "budget_trajectory_summary.csv")
    assert list(summary["financial_year"]) == [
        "2019/20",
        "2020/21",
        "2021/22",
        "2022/23",
        "2023/24",
    ]
    book = load_workbook(folder / "02_tom_costs.xlsx")
    assert "tom_structure_costs" in book.sheetnames
    assert book["tom_structure_costs"]["E2"].number_format == "#,##0"


def test_changing_one_scenario_value_changes_the_report(base_run, tmp_path: Path) -> None:
    _executed, base_folder = base_run
    text = default_scenario_path().read_text(encoding="utf-8")
    assert "  new_starter_rate:\n    value: 0.158\n" in text
    changed = tmp_path / "more_starters.yaml"
    changed.write_text(
        text.replace(
            "  new_starter_rate:\n    value: 0.158\n", "  new_starter_rate:\n    value: 0.3\n"
        ).replace("name: Base case", "name: More new starters"),
        encoding="utf-8",
    )
    _executed, folder = run_notebook(
        NOTEBOOK, tmp_path, "changed", reporting_month=MONTH, scenario_path=str(changed)
    )

    def improvement_total(path: Path) -> pd.Series:
        costs = pd.read_csv(path / "tom_structure_costs.csv")
        return costs[
            (costs["structure"] == "improvement") & (costs["budget_area"] == "Total")
        ].iloc[0]

    base, more = improvement_total(base_folder), improvement_total(folder)
    # (0.30 - 0.158) x 143.78 eligible FTE x £5,000
    assert more["recruitment_payments_gbp"] - base["recruitment_payments_gbp"] == pytest.approx(
        0.142 * 143.78 * 5_000
    )
    assert more["agency_premium_gbp"] == pytest.approx(base["agency_premium_gbp"])
    headline = json.loads((folder / "headline_02_tom_costs.json").read_text(encoding="utf-8"))
    assert "£18.1m" in headline["summary"]
