"""Processed tables are written atomically, reproducibly, and with their inputs' hashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def _pandas_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.10g").encode("utf-8")


def test_float_texts_are_ten_significant_digits_and_blank_when_missing() -> None:
    values = np.array([1.0 / 3, -0.0, np.nan, np.inf, 1.5e22, 2.5e-7, 1234567.25])
    assert list(store._float_texts(values)) == [
        "0.3333333333",
        "-0",
        "",
        "inf",
        "1.5e+22",
        "2.5e-07",
        "1234567.25",
    ]


@pytest.mark.parametrize("rows", [3, store.FORMAT_FLOATS_FROM_ROWS])
def test_a_table_renders_the_bytes_pandas_writes_for_it(rows: int) -> None:
    """Below and at the row count from which the floats are formatted without pandas: missing,
    infinite, signed-zero and extreme floats, texts that need quoting, a repeated column name,
    and floats of other types (which pandas still formats) give pandas' own bytes."""
    rng = np.random.default_rng(7)
    special = [np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308, 0.1]
    floats = np.concatenate(
        [special, rng.standard_normal(rows) * 10.0 ** rng.integers(-20, 20, rows)]
    )
    floats = floats[:rows]
    frame = pd.DataFrame(
        {
            "name": [["a,b", 'say "x"', "two\nlines", ""][i % 4] for i in range(rows)],
            "value": floats,
            "count": np.arange(rows),
            "as_float32": np.where(np.abs(floats) < 1e30, floats, np.nan).astype(np.float32),
            "nullable": pd.array(np.where(np.isnan(floats), None, floats), dtype="Float64"),
        }
    )
    frame.insert(2, "value", -floats, allow_duplicates=True)
    before = frame.copy()
    rendered = store.table_to_csv_bytes(frame)
    assert rendered == _pandas_csv(frame)
    assert rendered.splitlines()[1] == b'"a,b",,,0,,'
    pd.testing.assert_frame_equal(frame, before)  # the caller's table is left as it was
