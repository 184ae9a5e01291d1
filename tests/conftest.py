"""Shared test fixtures: the project's real folders and throw-away copies of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import paths


@pytest.fixture(scope="session")
def project_root() -> Path:
    return paths.project_root()


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed tables, for tests that break a file on purpose."""
    target = tmp_path / "seed"
    shutil.copytree(paths.seed_dir(), target)
    for file in target.iterdir():
        file.chmod(0o644)
    return target
