"""Every path the project uses, derived from the project root, never from the working directory.

The root is found from this file's location (``src/analysis/paths.py``), so a notebook run
from ``notebooks/``, a papermill run from anywhere, and the tests all see the same folders.
``CSC_FINANCE_ROOT`` overrides it, which lets tests build a throw-away project.
"""

from __future__ import annotations

import os
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def project_root() -> Path:
    """Return the project root (the folder holding ``pyproject.toml``)."""
    override = os.environ.get("CSC_FINANCE_ROOT")
    return Path(override).resolve() if override else _SOURCE_ROOT


def raw_dir() -> Path:
    """Raw inputs, copied unchanged from their publishers; never edited."""
    return project_root() / "data" / "raw"


def seed_dir() -> Path:
    """Published figures of the seed council's 2019 improvement programme."""
    return raw_dir() / "seed"


def external_dir() -> Path:
    """Published DfE, ONS and MHCLG statistics for every English council."""
    return raw_dir() / "external"


def local_dir() -> Path:
    """A council's own monthly extracts (management information), when present."""
    return raw_dir() / "local"


def raw_manifest_path() -> Path:
    """The provenance manifest of every raw file."""
    return raw_dir() / "manifest.csv"


def processed_dir() -> Path:
    """Validated and derived tables written by the pipeline."""
    return project_root() / "data" / "processed"


def cache_dir() -> Path:
    """Derived inputs kept between runs, each named by the hash of what it was made from."""
    return processed_dir() / "cache"


def reports_dir() -> Path:
    """Published monthly packs."""
    return project_root() / "reports"


def notebooks_dir() -> Path:
    """The parameterised notebooks of the monthly pack."""
    return project_root() / "notebooks"


def scenarios_dir() -> Path:
    """Assumption files (YAML)."""
    return project_root() / "scenarios"


def default_scenario_path() -> Path:
    """The base scenario every other scenario extends."""
    return scenarios_dir() / "base.yaml"


def display_path(path: Path) -> str:
    """Return ``path`` relative to the project root when inside it, for messages and reports."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(project_root()).as_posix()
    except ValueError:
        return str(resolved)
