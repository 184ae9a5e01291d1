"""The monthly pack under a full disk mid-run, and the same month run twice giving the same tables.

Built from the small fixture notebooks in ``tests/fixtures/notebooks`` (as ``test_pack.py``),
so each run takes a few seconds. The broken notebook and SIGTERM faults are in ``test_pack.py``.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd
import pytest
from fixtures.small_pack import copy_fixture_notebooks

from analysis import pack as pack_module
from analysis.pack import PackError, PackOptions, run_pack
from analysis.provenance import sha256_file

MONTH = pd.Period("2025-03", freq="M")


def _options(workspace: Path) -> PackOptions:
    return PackOptions(
        reports_root=workspace / "reports",
        notebooks_folder=copy_fixture_notebooks(workspace / "notebooks"),
        la_code="E09000002",
    )


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_file(p) for p in folder.rglob("*") if p.is_file()
    }


def _result_tables(folder: Path) -> dict[str, bytes]:
    return {csv.name: csv.read_bytes() for csv in sorted((folder / "results").glob("*.csv"))}


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> PackOptions:
    return _options(tmp_path_factory.mktemp("pack_faults"))


@pytest.fixture(scope="module")
def first_tables(options: PackOptions) -> dict[str, bytes]:
    """Publish a good pack and keep its result tables as first written."""
    result = run_pack(MONTH, options, progress=lambda _line: None)
    return _result_tables(result.folder)


def test_a_full_disk_mid_run_keeps_the_previous_pack_and_a_rerun_completes(
    options: PackOptions, first_tables: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = options.reports_root / str(MONTH)
    before = _tree_hashes(destination)
    assert "results/fixture_budget_variance.csv" in before
    written: list[str] = []
    real_write = pack_module.atomic_write_text

    def fills_up_after_the_first_report(path: Path, text: str) -> None:
        # The first notebook's report is written; the disk is full by the second's.
        if written:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, text)
        written.append(Path(path).name)

    monkeypatch.setattr(pack_module, "atomic_write_text", fills_up_after_the_first_report)
    lines: list[str] = []
    with pytest.raises(PackError) as failure:
        run_pack(MONTH, options, progress=lines.append)
    monkeypatch.undo()

    assert written == ["01_summary.html"]
    message = str(failure.value)
    assert message.startswith("The pack for March 2025 (2024/25 period 12) could not be written")
    assert "No space left on device" in message
    assert "Nothing was published" in message and "is unchanged" in message
    assert "\n" not in message  # one paragraph
    assert isinstance(failure.value.__cause__, OSError)
    assert failure.value.__cause__.errno == errno.ENOSPC
    assert any("01_summary.ipynb: done" in line for line in lines)
    # The published pack, its result tables included, is byte for byte what it was.
    assert _tree_hashes(destination) == before
    assert _result_tables(destination) == first_tables
    # No build, set-aside pack or failed-run folder is left: only the pack and its lock file.
    assert sorted(p.name for p in options.reports_root.iterdir()) == [".2025-03.lock", "2025-03"]

    rerun = run_pack(MONTH, options, progress=lambda _line: None)
    assert rerun.folder == destination
    assert (destination / "index.html").is_file() and (destination / "02_chart.html").is_file()
    assert sorted(p.name for p in options.reports_root.iterdir()) == [".2025-03.lock", "2025-03"]


def test_the_same_month_run_again_gives_byte_identical_result_tables(
    first_tables: dict[str, bytes], tmp_path: Path
) -> None:
    again = run_pack(MONTH, _options(tmp_path), progress=lambda _line: None)
    tables = _result_tables(again.folder)
    assert list(tables) == ["fixture_budget_variance.csv"]
    assert tables == first_tables
    # The tables are the figures themselves, not empty files that would trivially match.
    first_row = tables["fixture_budget_variance.csv"].decode("utf-8").splitlines()[1]
    assert first_row.startswith("2019/20,34.4,39.6,")
