"""Provenance: the SHA-256 of every input, the raw-data manifest, and the code version.

Every number in a report must trace to a named file, unchanged. ``data/raw/manifest.csv``
records each raw file's source document, table or page, publisher, licence, date and SHA-256;
:func:`verify_raw_manifest` recomputes the hashes so a raw file cannot change silently.
Reports carry :func:`run_provenance` in their footer.
"""

from __future__ import annotations

import csv
import hashlib
import platform
import subprocess
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from analysis import __version__
from analysis.errors import InputError, Problem
from analysis.paths import display_path, project_root, raw_dir, raw_manifest_path

MANIFEST_COLUMNS = (
    "path",
    "source_document",
    "table_or_page",
    "publisher",
    "licence",
    "date",
    "sha256",
)

#: Packages whose versions a report's footer records.
REPORTED_PACKAGES = (
    "pandas",
    "numpy",
    "matplotlib",
    "seaborn",
    "statsmodels",
    "pandera",
    "pydantic",
    "papermill",
    "nbconvert",
)

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Return the SHA-256 of a file's bytes as hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


#: Inputs already hashed by this process, with the size, modification time and inode they had.
_INPUT_HASHES: dict[Path, tuple[tuple[int, int, int], str]] = {}
#: A file modified more recently than this is always read: a file system stamps times in
#: ticks of a few milliseconds, so two writes of the same length can share a time ("racy git").
_SETTLED_NS = 2_000_000_000


def file_hashes(paths: Iterable[Path]) -> dict[str, str]:
    """Return ``{display path: sha256}`` for each existing file, sorted by path.

    A file whose size, modification time and inode are unchanged since this process last
    hashed it (and which was not modified in the two seconds before) is not read again: a
    kernel kept for a batch of councils records the same inputs for every result table of
    every council.
    """
    hashes = {}
    for path in sorted(set(map(Path, paths))):
        if not path.is_file():
            continue
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        known = _INPUT_HASHES.get(path)
        if known is None or known[0] != key:
            known = (key, sha256_file(path))
            if time.time_ns() - stat.st_mtime_ns > _SETTLED_NS:
                _INPUT_HASHES[path] = known
        hashes[display_path(path)] = known[1]
    return hashes


def raw_files() -> list[Path]:
    """Every raw input file (the manifest itself and README files excluded)."""
    manifest = raw_manifest_path()
    return sorted(
        p
        for p in raw_dir().rglob("*")
        if p.is_file() and p != manifest and p.name != "README.md" and not p.name.startswith(".")
    )


def load_raw_manifest(path: Path | None = None) -> list[dict[str, str]]:
    """Return the raw-data manifest's rows.

    Raises
    ------
    InputError
        When the manifest is missing or lacks a column.
    """
    path = path or raw_manifest_path()
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    file=display_path(path),
                    expected="the raw-data manifest (one row per raw file with its SHA-256)",
                    has_value=False,
                )
            ]
        )
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(
                [
                    Problem(
                        file=display_path(path),
                        row=1,
                        column=c,
                        expected="a manifest column named " + repr(c),
                        has_value=False,
                    )
                    for c in missing
                ]
            )
        return list(reader)


def verify_raw_manifest(path: Path | None = None) -> list[Problem]:
    """Recompute every raw file's SHA-256 against the manifest.

    Returns one :class:`Problem` per file that changed, is missing, or is not in the manifest;
    an empty list means the raw data are exactly as recorded.
    """
    path = path or raw_manifest_path()
    manifest_file = display_path(path)
    rows = load_raw_manifest(path)
    problems: list[Problem] = []
    recorded = set()
    for row_number, row in enumerate(rows, start=2):
        file = raw_dir() / row["path"]
        recorded.add(file.resolve())
        if not file.is_file():
            problems.append(
                Problem(
                    file=manifest_file,
                    row=row_number,
                    column="path",
                    value=row["path"],
                    expected="a raw file that exists",
                )
            )
            continue
        actual = sha256_file(file)
        if actual != row["sha256"]:
            problems.append(
                Problem(
                    file=manifest_file,
                    row=row_number,
                    column="sha256",
                    value=actual,
                    expected=f"the recorded hash {row['sha256']} for {row['path']}: the raw "
                    "file has changed since it was recorded (raw files are never edited)",
                )
            )
    for file in raw_files():
        if file.resolve() not in recorded and "local" not in file.relative_to(raw_dir()).parts[:1]:
            problems.append(
                Problem(
                    file=manifest_file,
                    value=display_path(file),
                    expected="a manifest row for every raw file; add this one "
                    "with its source, publisher, licence, date and SHA-256",
                )
            )
    return problems


def code_version() -> str:
    """Return the git commit of the code (with ``-dirty`` if changed), else the package version."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "notebooks"],
            cwd=project_root(),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"csc-finance {__version__}"
    return f"git {commit}{'-dirty' if dirty else ''} (csc-finance {__version__})"


def package_versions() -> dict[str, str]:
    """Return the versions of Python and the packages a report depends on."""
    versions = {"python": platform.python_version()}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_provenance(
    inputs: Iterable[Path], scenario_files: Iterable[Path] = ()
) -> dict[str, object]:
    """Return what a report's footer records: inputs and scenario hashes, code, packages, time."""
    return {
        "inputs": file_hashes(inputs),
        "scenario": file_hashes(scenario_files),
        "code_version": code_version(),
        "packages": package_versions(),
        "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
