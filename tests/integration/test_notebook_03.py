"""The agency-sensitivity notebook under the plain papermill command line: its headline and
tables for a month, and a bad scenario stopping it with the file, key and value named."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths

NOTEBOOK = paths.notebooks_dir() / "03_agency_sensitivity.ipynb"
PAPERMILL = Path(sys.executable).with_name("papermill")

pytestmark = pytest.mark.slow


def _papermill(tmp_path: Path, *parameters: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(PAPERMILL),
            str(NOTEBOOK),
            str(tmp_path / "executed.ipynb"),
            "--execution-timeout",
            "300",
            *parameters,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_notebook_is_committed_without_outputs() -> None:
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_papermill_cli_writes_headline_and_tables(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = _papermill(tmp_path, "-p", "reporting_month", "2019-09", "-p", "output_dir", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    headline = json.loads((out / "headline_03_agency_sensitivity.json").read_text("utf-8"))
    # September 2019 is before the Efficient structure (April 2021): Improvement is reported.
    assert headline["summary"].startswith(
        "A year on from its costing, under the scenario 'Base case', the Improvement structure "
        "costs £18.6m against a funded budget of £18.0m: an overspend of £528,005. It breaks "
        "even at an agency share of 3.2% (the scenario assumes 15.0%); each extra percentage "
        "point of agency share costs £44,877 a year. Against the pay and demand its funding was "
        "set for, it breaks even at 15.0%."
    )
    figures = {f["label"]: f for f in headline["figures"]}
    assert figures["Break-even agency share"]["value"] == "3.2%"
    assert figures["Variance, Improvement structure"]["rag"] == "red"
    break_even = pd.read_csv(out / "sensitivity_break_even.csv").set_index("structure")
    assert break_even.loc["improvement", "cost_per_point_gbp"] == pytest.approx(44_876.61, 0.01)
    grid = pd.read_csv(out / "sensitivity_grid.csv")
    assert len(grid) == 3 * 46 * 35
    tornado = pd.read_csv(out / "sensitivity_tornado.csv")
    assert "caseload_target_cin" in set(tornado["assumption"])
    simulation = pd.read_csv(out / "sensitivity_monte_carlo.csv")
    assert set(simulation["draws"]) == {100_000}
    executed = (tmp_path / "executed.ipynb").read_text("utf-8")
    assert "Warning" not in executed


def test_bad_scenario_stops_the_notebook_naming_file_key_and_value(tmp_path: Path) -> None:
    shutil.copy(paths.default_scenario_path(), tmp_path / "base.yaml")
    bad = tmp_path / "wide_grid.yaml"
    bad.write_text(
        "name: Wide grid\ndescription: Too many grid points.\nextends: base.yaml\n"
        "settings:\n  sensitivity:\n    agency_share_grid:\n      steps: 1000\n"
        "    agency_premium_grid:\n      steps: 1000\n",
        encoding="utf-8",
    )
    run = _papermill(
        tmp_path, "-p", "scenario_path", str(bad), "-p", "output_dir", str(tmp_path / "out")
    )
    assert run.returncode != 0
    assert "InputError" in run.stderr
    assert (
        f"In {bad}, key 'settings.sensitivity.agency_share_grid.steps' (line 7): found '1000'"
        in run.stderr
    )
    assert "1000 x 1000 = 1,000,000" in run.stderr
    assert not (tmp_path / "out" / "headline_03_agency_sensitivity.json").exists()
