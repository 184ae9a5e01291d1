"""Declared table schemas and the strict CSV reader that checks a raw file against one.

A :class:`TableSpec` says what a raw table must look like: its columns, each column's kind
(money, FTE, a category, a financial year, ...), which columns may be blank and which columns
form the key. :func:`read_table` reads a CSV file into a typed DataFrame indexed by the row
number a person sees in the file (the header is row 1), so every problem can name its row.

Reading happens in two passes, and every problem in the file is collected before anything is
raised:

1. structure and parsing, done here by hand because a spreadsheet user needs to be told *why*
   a cell is not a number (``"£1,234"`` is a formatted number, not text): encoding, delimiter,
   header, ragged rows, numbers, blanks;
2. value rules (non-negative money and FTE, allowed categories, the ``2019/20`` pattern),
   declared as a pandera schema built from the spec, and the key's uniqueness.

A blank published cell stays missing (NaN); it is never read as zero.

A file that was read and passed its checks is kept, by the SHA-256 of its bytes and of the
rules it was checked against, in memory and (for the bundled files in ``data/raw/``) in
``data/processed/cache/``: every notebook of every pack reads the same seed tables, and
checking them again (pandera's first validation in a process costs about 0.1 s) would change
nothing. An edited file, spec or reader is always read and checked afresh; a file with
problems is never kept.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import io
import math
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
import pandera.pandas as pa

from analysis.errors import InputError, Problem
from analysis.paths import cache_dir, display_path, raw_dir
from analysis.store import atomic_write_bytes

ColumnKind = Literal["text", "category", "money", "fte", "number", "fraction", "financial_year"]

_NUMERIC_KINDS = {"money", "fte", "number", "fraction"}
# ASCII digits only: int() also reads other scripts' digits, which no later step matches.
_FINANCIAL_YEAR = re.compile(r"^([0-9]{4})/([0-9]{2})$")
_FORMATTED_NUMBER = re.compile(r"^\(?-?£?\s*-?[\d,]+(\.\d+)?\)?[mk]?$", re.IGNORECASE)

TableCheck = Callable[[pd.DataFrame, str], list[Problem]]


@dataclass(frozen=True)
class Column:
    """One column of a raw table.

    ``kind`` decides parsing and value rules: ``money`` and ``fte`` are numbers of zero or more,
    ``number`` is any finite number, ``fraction`` lies in [0, 1], ``category`` must be one of
    ``allowed``, ``financial_year`` looks like ``2019/20``.
    """

    name: str
    kind: ColumnKind
    description: str
    blank_allowed: bool = False
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """What a raw table must look like."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    checks: tuple[TableCheck, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _expected_number(column: Column) -> str:
    if column.kind == "money":
        return "an amount in pounds of zero or more, written as a plain number such as 1234.5"
    if column.kind == "fte":
        return "an FTE of zero or more, written as a plain number such as 12.5"
    if column.kind == "fraction":
        return "a fraction between 0 and 1, written as a plain number such as 0.15"
    return "a number, written as a plain number such as -1.25"


def _pandera_schema(spec: TableSpec) -> pa.DataFrameSchema:
    """Build the value rules of ``spec`` as a pandera schema (parsing is already done)."""
    columns: dict[str, pa.Column] = {}
    for col in spec.columns:
        checks: list[pa.Check] = []
        if col.kind in ("money", "fte"):
            checks.append(pa.Check.ge(0, error=_expected_number(col)))
        if col.kind == "fraction":
            checks.append(pa.Check.in_range(0, 1, error=_expected_number(col)))
        if col.kind == "category":
            checks.append(
                pa.Check.isin(
                    list(col.allowed),
                    error="one of " + ", ".join(repr(a) for a in col.allowed),
                )
            )
        if col.kind == "financial_year":
            checks.append(
                pa.Check(
                    _is_financial_year,
                    element_wise=True,
                    error="a financial year written like 2019/20 (two consecutive years)",
                )
            )
        dtype = float if col.kind in _NUMERIC_KINDS else str
        columns[col.name] = pa.Column(dtype, checks=checks, nullable=True, coerce=False)
    return pa.DataFrameSchema(columns, strict=True, ordered=False)


def _is_financial_year(text: object) -> bool:
    match = _FINANCIAL_YEAR.match(str(text))
    return bool(match) and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def _decode(raw: bytes, file: str) -> str:
    if not raw.strip():
        raise InputError(
            [
                Problem(
                    file=file,
                    expected="a CSV file with a header row and at least one data row "
                    "(the file is empty)",
                    has_value=False,
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 4]
        raise InputError(
            [
                Problem(
                    file=file,
                    row=row,
                    value=bad,
                    expected="text encoded as UTF-8 (in Excel, save as 'CSV UTF-8 (Comma "
                    "delimited)'); the bytes found are not UTF-8, perhaps Windows-1252",
                )
            ]
        ) from None


def _records(text: str, file: str) -> list[tuple[int, list[str]]]:
    """Split CSV text into (row number as a person counts it, fields), skipping blank rows."""
    records: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    row_number = 0
    try:
        for row_number, fields in enumerate(reader, start=1):
            if any(f.strip() for f in fields):
                records.append((row_number, fields))
    except csv.Error as exc:
        # An opening quote that is never closed swallows the rest of the file into one cell,
        # which the csv module refuses once it passes its field size limit.
        raise InputError(
            [
                Problem(
                    file=file,
                    row=row_number + 1,
                    expected="cells of ordinary length with every opening quote closed; the "
                    f"reader stopped here ({exc})",
                    has_value=False,
                )
            ]
        ) from None
    return records


def _header_problems(header: list[str], spec: TableSpec, file: str) -> list[Problem]:
    problems: list[Problem] = []
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "semicolons" if ";" in header[0] else "tabs"
        return [
            Problem(
                file=file,
                row=1,
                value=header[0],
                expected=f"comma-separated values; this file's columns are separated by "
                f"{separator} (in Excel, save as 'CSV UTF-8 (Comma delimited)')",
            )
        ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(
                Problem(
                    file=file,
                    row=1,
                    column=name,
                    value=name,
                    expected="each column name once; this one appears twice",
                )
            )
        seen.add(name)
    for col in spec.columns:
        if col.name not in header:
            problems.append(
                Problem(
                    file=file,
                    row=1,
                    column=col.name,
                    expected=f"a column named '{col.name}' ({col.description}); "
                    f"the columns found are {', '.join(repr(h) for h in header)}",
                    has_value=False,
                )
            )
    known = set(spec.column_names)
    for name in header:
        if name not in known:
            problems.append(
                Problem(
                    file=file,
                    row=1,
                    column=name,
                    value=name,
                    expected=f"only the columns {', '.join(spec.column_names)}; remove or "
                    "rename this one",
                )
            )
    return problems


def _parse_number(text: str, column: Column) -> tuple[float, str | None]:
    """Return the parsed number, or NaN and the expectation it failed."""
    try:
        value = float(text)
    except ValueError:
        if _FORMATTED_NUMBER.match(text) and any(ch.isdigit() for ch in text):
            return math.nan, (
                _expected_number(column)
                + " (without '£', thousands separators, brackets or 'm'/'k' suffixes)"
            )
        return math.nan, _expected_number(column)
    if not math.isfinite(value):
        return math.nan, _expected_number(column) + " (a finite number)"
    return value, None


def _parse_cells(
    records: list[tuple[int, list[str]]], header: list[str], spec: TableSpec, file: str
) -> tuple[pd.DataFrame, list[Problem]]:
    problems: list[Problem] = []
    positions = {name: header.index(name) for name in spec.column_names if name in header}
    data: dict[str, list[object]] = {name: [] for name in spec.column_names}
    rows: list[int] = []
    for row_number, fields in records:
        if len(fields) != len(header):
            problems.append(
                Problem(
                    file=file,
                    row=row_number,
                    value=",".join(fields),
                    expected=f"{len(header)} comma-separated cells, as in the header; found "
                    f"{len(fields)}",
                )
            )
            continue
        rows.append(row_number)
        for col in spec.columns:
            text = fields[positions[col.name]].strip()
            if text == "":
                if not col.blank_allowed:
                    problems.append(
                        Problem(
                            file=file,
                            row=row_number,
                            column=col.name,
                            value=fields[positions[col.name]],
                            expected=f"{_describe(col)}; this column may not be blank",
                        )
                    )
                data[col.name].append(math.nan if col.kind in _NUMERIC_KINDS else None)
                continue
            if col.kind in _NUMERIC_KINDS:
                value, failure = _parse_number(text, col)
                if failure:
                    problems.append(
                        Problem(
                            file=file, row=row_number, column=col.name, value=text, expected=failure
                        )
                    )
                data[col.name].append(value)
            else:
                data[col.name].append(text)
    frame = pd.DataFrame(data, index=pd.Index(rows, name="row"))
    for col in spec.columns:
        if col.kind in _NUMERIC_KINDS:
            frame[col.name] = frame[col.name].astype(float)
        else:
            frame[col.name] = frame[col.name].astype(object)
    return frame, problems


def _describe(col: Column) -> str:
    if col.kind in _NUMERIC_KINDS:
        return _expected_number(col)
    if col.kind == "category":
        return "one of " + ", ".join(repr(a) for a in col.allowed)
    if col.kind == "financial_year":
        return "a financial year written like 2019/20"
    return col.description


def _value_problems(frame: pd.DataFrame, spec: TableSpec, file: str) -> list[Problem]:
    problems: list[Problem] = []
    try:
        _pandera_schema(spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for case in cases.itertuples(index=False):
            if case.index is None or case.column not in spec.column_names:
                continue
            problems.append(
                Problem(
                    file=file,
                    row=int(case.index),
                    column=str(case.column),
                    value=case.failure_case,
                    expected=str(case.check),
                )
            )
    return problems


def duplicate_key_problems(frame: pd.DataFrame, key: Sequence[str], file: str) -> list[Problem]:
    """Report every row whose key repeats an earlier row's key."""
    problems: list[Problem] = []
    keys = frame[list(key)]
    # A blank key cell is reported as blank already; it cannot name a duplicate (and pandas 3
    # keeps it as NaN through astype(str)).
    keyed = keys[keys.notna().all(axis=1)].astype(str)
    first_row: dict[tuple[str, ...], int] = {}
    for row_number, values in zip(
        keyed.index, keyed.itertuples(index=False, name=None), strict=True
    ):
        if values in first_row:
            problems.append(
                Problem(
                    file=file,
                    row=int(row_number),
                    column=", ".join(key),
                    value=" / ".join(values),
                    expected=f"each ({', '.join(key)}) once; row {first_row[values]} has the "
                    "same values",
                )
            )
        else:
            first_row[values] = int(row_number)
    return problems


def read_table(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read ``path`` as the table ``spec`` describes, or raise every problem found.

    Parameters
    ----------
    path
        A CSV file.
    spec
        The declared schema.

    Returns
    -------
    pandas.DataFrame
        Typed columns in the spec's order, indexed by the file's row number (header = 1); a
        copy of the table kept from an earlier read of the same bytes under the same rules,
        when there is one.

    Raises
    ------
    InputError
        With one :class:`Problem` per thing wrong, naming file, row, column, value and what was
        expected.
    """
    path = Path(path)
    file = display_path(path)
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    file=file,
                    expected=f"a file holding the {spec.name} table; no such file",
                    has_value=False,
                )
            ]
        )
    data = path.read_bytes()
    key = f"{_file_safe(spec.name)}_{_checked_key(data, spec)}"
    frame = _checked.get(key)
    if frame is None:
        kept = cache_dir() / f"table_{key}.pkl" if _is_bundled(path) else None
        frame = _read_kept(kept) if kept is not None else None
        if frame is None:
            frame = _parse_and_check(data, spec, file)
            if kept is not None:
                _keep(frame, kept, spec)
        _checked[key] = frame
        while len(_checked) > _CHECKED_IN_MEMORY:
            _checked.popitem(last=False)
    return frame.copy()


#: Tables kept in memory after their checks passed, by :func:`_checked_key`; the oldest go.
_checked: OrderedDict[str, pd.DataFrame] = OrderedDict()
_CHECKED_IN_MEMORY = 32


@functools.lru_cache(maxsize=64)
def _rules_digest(spec: TableSpec) -> bytes:
    """What a table is checked against: the spec's declaration, this reader's code and the
    code of the modules its table-level checks live in."""
    digest = hashlib.sha256(repr((spec.name, spec.columns, spec.key)).encode())
    digest.update(Path(__file__).read_bytes())
    for check in spec.checks:
        digest.update(f"{check.__module__}.{check.__qualname__}".encode())
        module_file = getattr(sys.modules.get(check.__module__), "__file__", None)
        digest.update(Path(module_file).read_bytes() if module_file else b"-")
    return digest.digest()


def _checked_key(data: bytes, spec: TableSpec) -> str:
    return hashlib.sha256(hashlib.sha256(data).digest() + _rules_digest(spec)).hexdigest()[:24]


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")


def _is_bundled(path: Path) -> bool:
    return path.resolve().is_relative_to(raw_dir().resolve())


def _read_kept(kept: Path) -> pd.DataFrame | None:
    try:
        return pd.read_pickle(kept) if kept.is_file() else None
    except Exception:  # a truncated or unreadable copy is read and checked again, never trusted
        return None


def _keep(frame: pd.DataFrame, kept: Path, spec: TableSpec) -> None:
    buffer = io.BytesIO()
    frame.to_pickle(buffer)
    # A read-only or full disk only costs the next run the checks again.
    with contextlib.suppress(OSError):
        atomic_write_bytes(kept, buffer.getvalue())
        for stale in kept.parent.glob(f"table_{_file_safe(spec.name)}_*.pkl"):
            if stale != kept:
                stale.unlink(missing_ok=True)


def _parse_and_check(data: bytes, spec: TableSpec, file: str) -> pd.DataFrame:
    """Parse a file's bytes and check them against ``spec``, raising every problem found."""
    text = _decode(data, file)
    records = _records(text, file)
    if not records:
        raise InputError(
            [
                Problem(
                    file=file,
                    expected="a CSV file with a header row and at "
                    "least one data row (the file has no text)",
                    has_value=False,
                )
            ]
        )
    header = [h.strip() for h in records[0][1]]
    problems = _header_problems(header, spec, file)
    if problems:
        raise InputError(problems)
    if len(records) == 1:
        raise InputError(
            [
                Problem(
                    file=file,
                    row=2,
                    expected="at least one data row below the header",
                    has_value=False,
                )
            ]
        )
    frame, problems = _parse_cells(records[1:], header, spec, file)
    problems += _value_problems(frame, spec, file)
    problems += duplicate_key_problems(frame, spec.key, file)
    if not problems:
        for check in spec.checks:
            problems += check(frame, file)
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError(problems)
    return frame
