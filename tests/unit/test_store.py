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
