"""Running a pack notebook as the notebook tests do, and checking that it ran clean."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill


def run_notebook(
    notebook: Path, tmp_path: Path, name: str, **parameters: str
) -> tuple[nbformat.NotebookNode, Path]:
    """Execute ``notebook`` with papermill from a folder other than its own; return the executed
    notebook and the output folder it was given."""
    output_dir = tmp_path / name
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    executed = papermill.execute_notebook(
        str(notebook),
        str(tmp_path / f"{name}.ipynb"),
        parameters={"output_dir": str(output_dir), **parameters},
        cwd=str(elsewhere),
        progress_bar=False,
        shutdown_kernel="immediate",
        execution_timeout=300,
    )
    return executed, output_dir


def charts_of_clean_run(executed: nbformat.NotebookNode) -> int:
    """Assert no cell errored or wrote to stderr (it would reach the HTML); count the charts."""
    charts = 0
    for cell in executed.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), output
            charts += "image/svg+xml" in output.get("data", {})
    return charts
