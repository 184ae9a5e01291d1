"""read_table keeps a table that passed its checks: never a stale one, never one with problems,
never one a caller changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import tables
from analysis.errors import InputError
from analysis.tables import Column, TableSpec, read_table

SPEC = TableSpec(
    name="cache_test",
    columns=(
        Column("area", "text", "budget area"),
        Column("cost_gbp", "money", "cost in pounds"),
    ),
    key=("area",),
)


@pytest.fixture()
def parses(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Count the files actually parsed and checked; the bundled folder and the disk cache are
    moved into tmp_path, and the in-memory cache starts empty."""
    calls: list[str] = []
    real = tables._parse_and_check

    def counted(data: bytes, spec: TableSpec, file: str) -> pd.DataFrame:
        calls.append(file)
        return real(data, spec, file)

    monkeypatch.setattr(tables, "_parse_and_check", counted)
    monkeypatch.setattr(tables, "raw_dir", lambda: tmp_path / "raw")
    monkeypatch.setattr(tables, "cache_dir", lambda: tmp_path / "processed" / "cache")
    monkeypatch.setattr(tables, "_checked", type(tables._checked)())
    (tmp_path / "raw").mkdir()
    return calls


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unchanged_file_is_checked_once_and_each_read_gets_its_own_copy(
    tmp_path: Path, parses: list[str]
) -> None:
    path = _write(tmp_path / "costs.csv", "area,cost_gbp\nPlacements,100\nStaffing,250.5\n")
    first = read_table(path, SPEC)
    first.loc[2, "cost_gbp"] = -1.0  # a caller changing its table changes no later read
    second = read_table(path, SPEC)
    assert len(parses) == 1
    assert second["cost_gbp"].tolist() == [100.0, 250.5]
    assert second.index.tolist() == [2, 3]


def test_an_edited_file_is_read_again_and_its_problem_reported(
    tmp_path: Path, parses: list[str]
) -> None:
    path = _write(tmp_path / "costs.csv", "area,cost_gbp\nPlacements,100\n")
    assert read_table(path, SPEC)["cost_gbp"].tolist() == [100.0]
    _write(path, "area,cost_gbp\nPlacements,-5\n")
    with pytest.raises(InputError, match="row 2"):
        read_table(path, SPEC)
    with pytest.raises(InputError):  # a file with problems is never kept
        read_table(path, SPEC)
    assert len(parses) == 3


def test_a_changed_spec_checks_the_same_bytes_again(tmp_path: Path, parses: list[str]) -> None:
    path = _write(tmp_path / "costs.csv", "area,cost_gbp\nPlacements,100\n")
    read_table(path, SPEC)
    stricter = TableSpec(
        name=SPEC.name,
        columns=(SPEC.columns[0], Column("cost_gbp", "fraction", "a share")),
        key=SPEC.key,
    )
    with pytest.raises(InputError, match="fraction between 0 and 1"):
        read_table(path, stricter)
    assert len(parses) == 2


def test_bundled_files_are_kept_on_disk_for_the_next_process(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = _write(tmp_path / "raw" / "costs.csv", "area,cost_gbp\nPlacements,100\n")
    elsewhere = _write(tmp_path / "elsewhere.csv", "area,cost_gbp\nStaffing,7\n")
    read_table(elsewhere, SPEC)
    assert not (tmp_path / "processed").exists()  # only the bundled inputs go to disk
    read_table(bundled, SPEC)
    kept = list((tmp_path / "processed" / "cache").glob("table_cache_test_*.pkl"))
    assert len(kept) == 1

    monkeypatch.setattr(tables, "_checked", type(tables._checked)())  # a new process
    assert read_table(bundled, SPEC)["area"].tolist() == ["Placements"]
    assert len(parses) == 2  # read from the disk copy, not parsed again

    monkeypatch.setattr(tables, "_checked", type(tables._checked)())
    kept[0].write_bytes(b"not a pickle")
    assert read_table(bundled, SPEC)["cost_gbp"].tolist() == [100.0]
    assert len(parses) == 3  # an unreadable copy is read and checked again, never trusted

    _write(bundled, "area,cost_gbp\nPlacements,200\n")
    read_table(bundled, SPEC)
    kept_now = list((tmp_path / "processed" / "cache").glob("table_cache_test_*.pkl"))
    assert len(kept_now) == 1 and kept_now != kept  # the stale copy is removed
