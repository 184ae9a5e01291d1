"""The command line: validate and reconcile on the bundled data, and a user mistake gives a
clear message and exit status 2 without a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths
from analysis.cli import main


def _run(*arguments: str, root: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    if root is not None:
        environment["CSC_FINANCE_ROOT"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "analysis", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=root or paths.project_root(),
        timeout=300,
    )


@pytest.fixture()
def project_copy(tmp_path: Path) -> Path:
    """A throw-away project with the real raw data and scenarios, safe to break."""
    root = tmp_path / "project"
    shutil.copytree(paths.raw_dir(), root / "data" / "raw")
    shutil.copytree(paths.scenarios_dir(), root / "scenarios")
    for file in (root / "data" / "raw").rglob("*"):
        if file.is_file():
            file.chmod(0o644)
    return root


def test_validate_passes_on_the_bundled_data(project_copy: Path) -> None:
    result = _run("validate", root=project_copy)
    assert result.returncode == 0, result.stderr
    assert "All raw files match data/raw/manifest.csv." in result.stdout
    assert "tom_structures: 15 rows valid" in result.stdout
    written = pd.read_csv(project_copy / "data" / "processed" / "validated" / "tom_structures.csv")
    assert written.loc[written["budget_area"] == "Total", "fte"].tolist() == [349, 330]


def test_a_broken_file_gives_one_paragraph_per_problem_and_exit_2(project_copy: Path) -> None:
    seed = project_copy / "data" / "raw" / "seed" / "tom_structures.csv"
    seed.write_text(seed.read_text().replace(",68,3137400,", ',68,"£3,137,400",'))
    result = _run("validate", root=project_copy)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    paragraphs = result.stderr.strip().split("\n\n")
    assert any(
        "data/raw/seed/tom_structures.csv, row 3, column 'cost_gbp': found '£3,137,400'" in p
        and "without '£', thousands separators" in p
        for p in paragraphs
    )
    # The edit also changed the file's hash, which is reported in the same run.
    assert any("data/raw/manifest.csv" in p and "has changed" in p for p in paragraphs)


def test_debug_shows_the_traceback(project_copy: Path) -> None:
    seed = project_copy / "data" / "raw" / "seed" / "tom_structures.csv"
    seed.write_text("")
    result = _run("--debug", "validate", root=project_copy)
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "InputError" in result.stderr


def test_reconcile_prints_and_writes_the_findings(project_copy: Path) -> None:
    result = _run("reconcile", root=project_copy)
    assert result.returncode == 0, result.stderr
    assert "differs" in result.stdout
    findings = pd.read_csv(project_copy / "data" / "processed" / "reconciliation_findings.csv")
    efficient_cost = findings[
        (findings["row"].astype(str) == "16") & (findings["column"] == "cost_gbp")
    ].iloc[0]
    assert (efficient_cost["published"], efficient_cost["computed"]) == (15861837, 15861877)
    assert _run("reconcile", "--strict", root=project_copy).returncode == 1


@pytest.mark.parametrize("command", ["validate", "reconcile"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: csc-finance" in capsys.readouterr().out
