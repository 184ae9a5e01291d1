"""Atomic writes of processed tables and results, each folder with a manifest of input hashes.

A file is written to a temporary name in the same folder and renamed into place, so a run that
fails or is killed part-way leaves the previous version whole: a reader sees the old file or
the new one, never half of either. Each folder of processed tables carries ``manifest.json``
recording, for every table, the SHA-256 of the inputs it was built from and of the table
itself, so ``verify`` can tell what changed since.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.provenance import code_version, file_hashes, sha256_file

MANIFEST_NAME = "manifest.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Raises
    ------
    OSError
        When the folder cannot be written (for example a full disk); the previous file, if
        any, is left untouched and the temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


#: How a table's floats are written: ten significant digits, so the same table gives the same
#: bytes on every run.
FLOAT_FORMAT = "%.10g"

#: Rows from which a table's float columns are formatted by :func:`_float_texts` rather than by
#: pandas: it saves about 0.7 microseconds a value, and replacing a column costs pandas about
#: 0.2 ms, so on a table of a few rows it would cost more than it saves.
FORMAT_FLOATS_FROM_ROWS = 1000


def _float_texts(values: np.ndarray) -> np.ndarray:
    """Float64 ``values`` as ``to_csv(float_format=FLOAT_FORMAT)`` writes them (a missing value
    blank), formatted in one pass over Python floats: pandas makes two Python calls a value,
    most of the time of writing the 4,830-row sensitivity grid."""
    texts = np.array([FLOAT_FORMAT % value for value in values.tolist()], dtype=object)
    texts[np.isnan(values)] = ""
    return texts


def table_to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Render a table as CSV bytes in a fixed way, so the same table gives the same bytes."""
    formatted = frame.copy(deep=False)
    if len(frame) >= FORMAT_FLOATS_FROM_ROWS:
        for position, dtype in enumerate(frame.dtypes):
            if isinstance(dtype, np.dtype) and dtype == np.float64:
                formatted.isetitem(position, _float_texts(frame.iloc[:, position].to_numpy()))
    # the floats of other types (and float column names) are still written by float_format
    return formatted.to_csv(index=False, lineterminator="\n", float_format=FLOAT_FORMAT).encode(
        "utf-8"
    )


def write_table(frame: pd.DataFrame, path: Path, inputs: Iterable[Path] = ()) -> Path:
    """Write ``frame`` as CSV atomically and record it in its folder's manifest.

    Parameters
    ----------
    frame
        The table to write (its index is dropped; keep keys as columns).
    path
        The destination ``.csv`` file.
    inputs
        The files the table was built from; their SHA-256 go in the manifest.
    """
    return write_tables({Path(path): frame}, inputs)[0]


def write_tables(tables: Mapping[Path, pd.DataFrame], inputs: Iterable[Path] = ()) -> list[Path]:
    """Write several tables as CSV atomically (as :func:`write_table`), each folder's manifest
    updated once for all of them: the code version asks git twice, which per table was most
    of a notebook's time spent writing its results."""
    paths = []
    for path, frame in tables.items():
        atomic_write_bytes(Path(path), table_to_csv_bytes(frame))
        paths.append(Path(path))
    record_in_manifest(paths, inputs)
    return paths


def read_manifest(folder: Path) -> dict[str, dict[str, object]]:
    """Return a folder's manifest (empty when there is none)."""
    manifest = Path(folder) / MANIFEST_NAME
    if not manifest.is_file():
        return {}
    return json.loads(manifest.read_text(encoding="utf-8"))


def record_in_manifest(paths: Iterable[Path], inputs: Iterable[Path] = ()) -> None:
    """Record written files, their hashes and their inputs' hashes in their folders' manifests."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(Path(path).parent, []).append(Path(path))
    if not by_folder:
        return
    recorded = {"inputs": file_hashes(inputs), "code_version": code_version()}
    for folder, written in by_folder.items():
        manifest = read_manifest(folder)
        for path in written:
            manifest[path.name] = {"sha256": sha256_file(path), **recorded}
        atomic_write_text(
            folder / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        )
