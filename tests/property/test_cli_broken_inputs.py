"""The command line, given the kinds of broken file the property tests generate, exits with
status 2 and prints one paragraph per problem, naming the file, without a Python traceback.

``csc-finance validate`` reads the seed tables, the published statistics, a council's monthly
extracts and the scenario; each is broken here with one of the faults the property tests found
crashing a loader before it was fixed (see ``docs/reliability.md``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import paths

SEED = "data/raw/seed/tom_structures.csv"
EXTERNAL = "data/raw/external/dfe_children_in_need/b1_children_in_need_2013_to_2025.csv"
LOCAL = "data/raw/local/demand_monthly.csv"
SCENARIO = "scenarios/base.yaml"


def _validate(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CSC_FINANCE_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "analysis", "validate", *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=root,
        timeout=600,
    )


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A throw-away project with the real raw data and scenarios, safe to break."""
    root = tmp_path / "project"
    shutil.copytree(paths.raw_dir(), root / "data" / "raw")
    shutil.copytree(paths.scenarios_dir(), root / "scenarios")
    for file in root.rglob("*"):
        if file.is_file():
            file.chmod(0o644)
    return root


def _assert_clear_failure(result: subprocess.CompletedProcess[str], *files: str) -> list[str]:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    paragraphs = [p for p in result.stderr.strip().split("\n\n") if not p.startswith("... and")]
    for paragraph in paragraphs:
        assert paragraph.startswith("In "), paragraph
        assert "expected" in paragraph, paragraph
    for file in files:
        assert any(file in p for p in paragraphs), (file, result.stderr)
    return paragraphs


def test_validate_reports_a_broken_file_of_every_kind_together_and_exits_2(
    project: Path,
) -> None:
    seed = project / SEED
    # A cell whose opening quote is never closed swallows the rest of a long file.
    seed.write_text(seed.read_text(encoding="utf-8") + '"unclosed' + "x" * 140_000 + "\n")
    external = project / EXTERNAL
    lines = external.read_text(encoding="utf-8").splitlines()
    lines[1] += ",an extra cell"  # a data row longer than the header
    external.write_text("\n".join(lines) + "\n", encoding="utf-8")
    local = project / LOCAL
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text("month,measure,count\n0000-04,referrals,10\n0000-05,referrals,12\n")
    scenario = project / SCENARIO
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace("horizon_years: 5", "horizon_years: &h 5")
        + "extra: *h\n",
        encoding="utf-8",
    )

    result = _validate(project)

    paragraphs = _assert_clear_failure(result, SEED, EXTERNAL, LOCAL, SCENARIO)
    text = "\n".join(paragraphs)
    assert "every opening quote closed" in text
    assert f"In {EXTERNAL}, row 2; expected comma-separated values with as many cells" in text
    assert "found '0000-04'" in text
    assert "anchors and aliases" in text


def test_validate_reports_a_damaged_scenario_workbook_and_exits_2(project: Path) -> None:
    workbook = project / "scenarios" / "damaged.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)

    result = _validate(project, "--scenario", str(workbook))

    paragraphs = _assert_clear_failure(result, "scenarios/damaged.xlsx")
    assert any("an Excel workbook (.xlsx)" in p for p in paragraphs)
