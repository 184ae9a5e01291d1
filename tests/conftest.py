"""Shared test fixtures: the project's real folders and throw-away copies of them."""

from __future__ import annotations

# Before any import that loads numpy: OpenBLAS reads its thread count once, when it loads. On
# the project's 2-core machines its default threads made each statsmodels fit about ten times
# slower (its tiny matrix operations fight other processes for the cores); notebook kernels and
# subprocesses that the tests start inherit the setting.
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings

from analysis import paths

# Hypothesis profiles. A case slower than the deadline fails, so a hang in a loader (a YAML
# alias bomb took 90 s) is a failure, not a stuck run; the deadline is far above any honest
# case. Under CI the cases are derandomized (a failure reproduces from the log) and no example
# database is kept.
settings.register_profile("dev", deadline=timedelta(seconds=5))
settings.register_profile(
    "ci", deadline=timedelta(seconds=5), derandomize=True, database=None, print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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


@pytest.fixture(scope="session")
def real_pack(tmp_path_factory: pytest.TempPathFactory):
    """The real notebooks' pack for the latest month, built once per session (slow).

    Shared by the pack's integration test and the browser test, so the notebooks run once.
    """
    from analysis.pack import PackOptions, resolve_month, run_pack

    if not list(paths.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        pytest.skip("notebooks/ holds no NN_*.ipynb notebooks yet")
    options = PackOptions(
        reports_root=tmp_path_factory.mktemp("real_pack") / "reports",
        notebooks_folder=paths.notebooks_dir(),
    )
    return run_pack(resolve_month("latest"), options, progress=lambda _line: None)
