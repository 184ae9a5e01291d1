"""Every notebook of the pack runs under the plain ``papermill`` command, as an analyst runs it.

The command is run from a folder outside the project, with ``-p`` parameters written as an
analyst would type them (the scenario as a path relative to the project), so a notebook that
depends on the working directory, or on the pack's own way of passing parameters, fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from analysis import paths

PAPERMILL = Path(sys.executable).with_name("papermill")
NOTEBOOKS = sorted(paths.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
MONTH = "2025-03"


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook",
    NOTEBOOKS
    or [pytest.param(None, marks=pytest.mark.skip(reason="notebooks/ holds no notebooks yet"))],
    ids=lambda path: path.stem if path else "none",
)
def test_notebook_runs_under_the_plain_papermill_command(notebook: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere_else"
    elsewhere.mkdir()
    results = tmp_path / "results"
    executed_path = tmp_path / f"{notebook.stem}.ipynb"
    declared = papermill.inspect_notebook(str(notebook))
    command = [str(PAPERMILL), str(notebook), str(executed_path), "--cwd", str(elsewhere)]
    command += ["-p", "reporting_month", MONTH, "-p", "output_dir", str(results)]
    command += ["-p", "scenario_path", "scenarios/base.yaml"]
    if "la_code" in declared:
        command += ["-p", "la_code", "E09000002"]
    run = subprocess.run(
        command, cwd=elsewhere, capture_output=True, text=True, timeout=900, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]
    executed = nbformat.read(executed_path, as_version=4)
    errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    headline = json.loads((results / f"headline_{notebook.stem}.json").read_text("utf-8"))
    assert headline["notebook"] == notebook.stem
    assert headline["summary"].strip()
    assert list(elsewhere.iterdir()) == [], "the notebook wrote into the working directory"
