"""Project rules a reviewer checks first: CI runs the README's command, code is linted and
formatted, notebooks are committed clean with a parameters cell, modules say what they own."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import pytest

from analysis import paths

ROOT = paths.project_root()


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S)
    assert block, "README has no Quick start bash block"
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert "pack" in commands[0]
    assert "pytest" in commands[1]
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci_lines


@pytest.mark.parametrize(
    "arguments",
    [["check", "."], ["format", "--check", "."]],
    ids=["lint", "format"],
)
def test_ruff(arguments: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _notebooks() -> list:
    return sorted(paths.notebooks_dir().glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs_and_with_a_parameters_cell() -> None:
    for path in _notebooks():
        notebook = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), (
            f"{path.name} has outputs"
        )
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
        source = "".join(tagged[0]["source"])
        for name in ("reporting_month", "scenario_path", "output_dir"):
            assert re.search(rf"^{name}: str = ", source, re.M), f"{path.name} lacks {name}"


def test_every_module_has_a_docstring_saying_what_it_owns() -> None:
    for path in sorted((ROOT / "src" / "analysis").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree)
        assert docstring and len(docstring) > 20, f"{path.name} has no module docstring"
