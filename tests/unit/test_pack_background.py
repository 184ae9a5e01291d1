"""The pack's own work done beside the kernels: the background thread's errors and order, and
the workbook's sheets rendered once per distinct table."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from openpyxl import load_workbook

from analysis import pack
from analysis.excel import workbook_from_sheets


def test_background_tasks_run_in_order_and_the_first_error_is_raised() -> None:
    done: list[int] = []

    def fail(message: str) -> None:
        raise OSError(message)

    with pack._Background() as background:
        background.submit(done.append, 1)
        background.submit(fail, "disk full")
        background.submit(fail, "second")
        background.submit(done.append, 2)
        with pytest.raises(OSError, match="disk full"):
            background.wait()
    assert done == [1, 2]


def test_settling_waits_for_every_task_and_ignores_their_errors() -> None:
    started, release = threading.Event(), threading.Event()
    done: list[str] = []

    def slow() -> None:
        started.set()
        release.wait(5)
        done.append("slow")

    def fail() -> None:
        raise OSError("disk full")

    with pack._Background() as background:
        background.submit(slow)
        background.submit(fail)
        started.wait(5)
        release.set()
        background.settle()
        assert done == ["slow"]
        background.wait()  # nothing left to raise


def test_sheets_are_rendered_once_per_table_and_only_the_last_packs_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[int] = []
    real = pack.sheet_xml
    monkeypatch.setattr(pack, "sheet_xml", lambda frame: rendered.append(len(frame)) or real(frame))
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        (folder / "shared_grid.csv").write_text("point,cost_gbp\n1,100\n2,200\n3,300\n")
    (first / "council.csv").write_text("la_code,cost_gbp\nE09000002,5\n")
    (second / "council.csv").write_text("la_code,cost_gbp\nE08000032,7\n")
    (second / "empty.csv").write_text("\n")
    sheets: dict[str, bytes] = {}

    pack._workbook_sheets(first, sheets)
    assert sorted(rendered) == [1, 3]
    tables = pack._workbook_sheets(second, sheets)
    assert sorted(rendered) == [0, 1, 1, 3]  # the shared grid was not rendered again
    assert list(tables) == ["council", "empty", "shared_grid"]
    assert len(sheets) == 3  # the first pack's council sheet is gone

    path = tmp_path / "results.xlsx"
    path.write_bytes(workbook_from_sheets(tables))
    book = load_workbook(path)
    assert book["council"]["A2"].value == "E08000032"
    assert book["shared_grid"]["B4"].value == 300
    assert book["empty"].max_row == 1 and book["empty"]["A1"].value is None
