"""The raw data are exactly the files recorded in data/raw/manifest.csv."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import paths
from analysis.provenance import (
    MANIFEST_COLUMNS,
    load_raw_manifest,
    raw_files,
    sha256_file,
    verify_raw_manifest,
)


def test_every_raw_file_matches_its_recorded_sha256() -> None:
    assert verify_raw_manifest() == []


def test_manifest_records_source_publisher_licence_and_date_for_every_file() -> None:
    rows = load_raw_manifest()
    assert {r["path"] for r in rows} == {
        p.relative_to(paths.raw_dir()).as_posix() for p in raw_files()
    }
    for row in rows:
        for column in MANIFEST_COLUMNS:
            assert row[column].strip(), f"{row['path']} has no {column}"


def test_seed_files_are_unchanged_copies_of_the_shared_originals() -> None:
    shared = paths.project_root().parent / "shared" / "data" / "seed"
    if not shared.is_dir():
        pytest.skip("../shared/data/seed is not beside this clone")
    for original in shared.glob("*.csv"):
        assert sha256_file(original) == sha256_file(paths.seed_dir() / original.name)


def test_a_changed_raw_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    shutil.copytree(paths.raw_dir(), root / "data" / "raw")
    monkeypatch.setenv("CSC_FINANCE_ROOT", str(root))
    target = root / "data" / "raw" / "seed" / "tom_structures.csv"
    target.chmod(0o644)
    target.write_text(target.read_text().replace("14507300", "14507301"))
    problems = verify_raw_manifest()
    assert len(problems) == 1
    message = problems[0].message()
    assert "data/raw/manifest.csv" in message
    assert "seed/tom_structures.csv" in message
    assert "has changed" in message


def test_sha256_of_known_bytes(tmp_path: Path) -> None:
    file = tmp_path / "abc.txt"
    file.write_bytes(b"abc")
    assert sha256_file(file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
