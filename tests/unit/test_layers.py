"""Lower layers never import higher ones: inputs -> models -> presentation -> delivery.

Every module of the package must be placed in a layer here, so a new module makes its
author decide where it belongs.
"""

from __future__ import annotations

import ast

import pytest

from analysis import paths

LAYERS: dict[str, tuple[str, ...]] = {
    "inputs": (
        "__init__",
        "paths",
        "collector",
        "errors",
        "periods",
        "provenance",
        "store",
        "tables",
        "loaders",
        "external",
        "localdata",
        "scenario",
    ),
    "models": (
        "reconcile",
        "stockflow",
        "comparisons",
        "benchmark",
        "series_models",
        "demand",
        "demand_caseload",
        "workforce",
        "placements",
        "costs",
        "budget",
        "sensitivity",
        "contract",
        "scorecard",
    ),
    "presentation": (
        "formatting",
        "charts",
        "disclosure",
        "excel",
        "results",
        "tom_report",
        "demand_views",
        "benchmark_views",
        "sensitivity_views",
    ),
    "delivery": ("report", "kernels", "pack", "batch", "cli", "__main__"),
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
SOURCE = paths.project_root() / "src" / "analysis"


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "analysis":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("analysis."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith("analysis.")
            )
    return found & set(RANK) | {m for m in found if m not in RANK and (SOURCE / f"{m}.py").exists()}


MODULES = sorted(p.stem for p in SOURCE.glob("*.py"))


def test_every_module_is_placed_in_a_layer() -> None:
    unplaced = [m for m in MODULES if m not in RANK]
    assert not unplaced, f"place these modules in LAYERS: {unplaced}"


@pytest.mark.parametrize("module", MODULES)
def test_no_module_imports_a_higher_layer(module: str) -> None:
    if module not in RANK:
        pytest.skip("not placed in a layer (reported by the test above)")
    higher = sorted(
        imported
        for imported in _imports(SOURCE / f"{module}.py")
        if RANK.get(imported, -1) > RANK[module]
    )
    assert not higher, f"{module} ({_layer(module)}) imports higher layers: {higher}"


def _layer(module: str) -> str:
    return next(name for name, modules in LAYERS.items() if module in modules)
