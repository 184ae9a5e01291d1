"""Processed tables are written atomically, reproducibly, and with their inputs' hashes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis import store
from analysis.provenance import sha256_file


def test_write_table_records_inputs_and_is_byte_reproducible(tmp_path: Path) -> None:
    source = tmp_path / "input.csv"
    source.write_text("a\n1\n")
    frame = pd.DataFrame({"area": ["x", "y"], "cost_gbp": [1.0 / 3, 2.5]})
    first = store.write_table(frame, tmp_path / "out" / "t.csv", [source])
    first_bytes = first.read_bytes()
    store.write_table(frame, first, [source])
    assert first.read_bytes() == first_bytes
    manifest = store.read_manifest(first.parent)
    assert manifest["t.csv"]["sha256"] == sha256_file(first)
    assert list(manifest["t.csv"]["inputs"].values()) == [sha256_file(source)]


def test_a_failed_write_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t.csv"
    store.atomic_write_text(target, "previous\n")

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space"):
        store.atomic_write_text(target, "new\n")
    assert target.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_write_tables_records_every_table_and_asks_for_the_code_version_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    monkeypatch.setattr(store, "code_version", lambda: asked.append(1) or "git abc123")
    source = tmp_path / "source.csv"
    source.write_text("a\n1\n")
    store.write_table(pd.DataFrame({"kept": [0]}), tmp_path / "out" / "earlier.csv")
    paths = store.write_tables(
        {
            tmp_path / "out" / "costs.csv": pd.DataFrame({"cost_gbp": [1.5]}),
            tmp_path / "out" / "fte.csv": pd.DataFrame({"fte": [2.0]}),
            tmp_path / "other" / "rates.csv": pd.DataFrame({"rate": [0.1]}),
        },
        [source],
    )
    assert [p.name for p in paths] == ["costs.csv", "fte.csv", "rates.csv"]
    assert len(asked) == 2  # once for the earlier table, once for the three
    manifest = store.read_manifest(tmp_path / "out")
    assert sorted(manifest) == ["costs.csv", "earlier.csv", "fte.csv"]
    assert manifest["fte.csv"]["sha256"] == sha256_file(tmp_path / "out" / "fte.csv")
    assert manifest["costs.csv"]["inputs"] == {str(source): sha256_file(source)}
    assert manifest["costs.csv"]["code_version"] == "git abc123"
    assert list(store.read_manifest(tmp_path / "other")) == ["rates.csv"]
