"""Shared strategies and the contract every loader must keep, for the property tests.

The contract (issue 9): a loader given any file returns a correct typed table or raises
:class:`~analysis.errors.InputError` whose every paragraph names the file and says what was
expected. Any other exception is a bug, and so is a hang (the hypothesis profile in
``tests/conftest.py`` sets a deadline per case).

Files are built from a real, valid table (a seed table, a template) by a list of mutations a
person or a spreadsheet might make, then written with a choice of encoding and line ending.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.paths import display_path
from analysis.tables import TableSpec

#: Cell texts that spreadsheets, hand edits and hostile inputs produce.
HOSTILE_TEXTS = (
    "",
    " ",
    "\t",
    "  12  ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "1e308",
    "-1",
    "-0",
    "-0.0",
    "0",
    "99999999999999999999999999999999",
    "1.7976931348623157e308",
    "5e-324",
    "£1,234",
    "1,234.5",
    "(12)",
    "12m",
    "1.2.3",
    "0x10",
    "1_000",
    "١٢",
    "１２",
    "TRUE",
    "null",
    "None",
    "#N/A",
    "#DIV/0!",
    "=1+1",
    '=HYPERLINK("http://example.com")',
    "<script>alert(1)</script>",
    "2019/20",
    "2019/21",
    "0000/01",
    "9999/00",
    "٢٠١٩/٢٠",
    "2024-04",
    "0000-01",
    "9999-12",
    "2024-13",
    "2024-4",
    "31/03/2025",
    "2025",
    "99999",
    "2025.5",
    "before",
    "Before",
    "efficient ",
    "Total",
    "c",
    "x",
    "z",
    "..",
    "[x]",
    "…",
    "LA",
    "REGION",
    "NATIONAL",
    "Local authority",
    "Regional",
    "National",
    "E09000002",
    "\x00",
    "a\nb",
    'say "hi"',
    "é£€",
    "\ufeff",
    "a" * 300,
)

hostile_cell = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=12),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

#: How a table's text becomes bytes: what Excel, Notepad and old Macs write.
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "cp1252", "latin-1", "mac_roman")
LINE_ENDINGS = ("\n", "\r\n", "\r")


def read_rows(path: Path) -> list[list[str]]:
    """The rows of a valid CSV file, header first (the starting point for mutations)."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    return [row for row in csv.reader(io.StringIO(text, newline="")) if row]


def write_rows(rows: list[list[str]], *, line_ending: str = "\n", quote_all: bool = False) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        lineterminator=line_ending,
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerows(rows)
    return buffer.getvalue()


@st.composite
def mutated_rows(draw: st.DrawFn, rows: list[list[str]], max_mutations: int = 4) -> list[list]:
    """Apply up to ``max_mutations`` hand-editing accidents to a copy of ``rows``."""
    table = [list(r) for r in rows]
    for _ in range(draw(st.integers(0, max_mutations))):
        width = max(len(table[0]), 1) if table else 1
        height = len(table)
        kind = draw(
            st.sampled_from(
                (
                    "cell",
                    "cell",
                    "cell",
                    "pad",
                    "drop_column",
                    "extra_column",
                    "duplicate_column",
                    "rename_header",
                    "swap_columns",
                    "duplicate_row",
                    "drop_row",
                    "blank_row",
                    "ragged_row",
                    "truncate",
                )
            )
        )
        if not table:
            table = [[draw(hostile_cell)]]
            continue
        row = draw(st.integers(0, height - 1))
        column = draw(st.integers(0, width - 1))
        if kind == "cell" and column < len(table[row]):
            table[row][column] = draw(hostile_cell)
        elif kind == "pad" and column < len(table[row]):
            table[row][column] = draw(st.sampled_from((" ", "\t", "  "))) + table[row][column]
        elif kind == "drop_column":
            table = [r[:column] + r[column + 1 :] for r in table]
        elif kind == "extra_column":
            name = draw(st.sampled_from(("notes", "", "Unnamed: 9", "fte", "month")))
            table = [r + [name if i == 0 else draw(hostile_cell)] for i, r in enumerate(table)]
        elif kind == "duplicate_column":
            table = [r + r[column : column + 1] for r in table]
        elif kind == "rename_header" and column < len(table[0]):
            table[0][column] = draw(
                st.sampled_from(
                    (table[0][column].upper(), f" {table[0][column]} ", table[0][column] + "_x")
                )
            )
        elif kind == "swap_columns":
            other = draw(st.integers(0, width - 1))
            for r in table:
                if column < len(r) and other < len(r):
                    r[column], r[other] = r[other], r[column]
        elif kind == "duplicate_row" and height > 1:
            table.insert(row + 1, list(table[max(row, 1)]))
        elif kind == "drop_row" and height > 1:
            del table[max(row, 1)]
        elif kind == "blank_row":
            table.insert(row + 1, [""] * draw(st.integers(0, width)))
        elif kind == "ragged_row":
            table[row] = table[row][: draw(st.integers(0, width))] + [
                draw(hostile_cell) for _ in range(draw(st.integers(0, 2)))
            ]
        elif kind == "truncate":
            table = table[: draw(st.integers(0, height))]
    return table


@st.composite
def encoded_file(draw: st.DrawFn, rows: list[list[str]]) -> bytes:
    """Rows written as bytes with a drawn encoding, line ending and quoting."""
    text = write_rows(
        rows,
        line_ending=draw(st.sampled_from(LINE_ENDINGS)),
        quote_all=draw(st.booleans()),
    )
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace")


@st.composite
def broken_file(draw: st.DrawFn, rows: list[list[str]]) -> bytes:
    """A mutated copy of ``rows`` as bytes, or now and then plain random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=400))
    return draw(encoded_file(draw(mutated_rows(rows))))


@dataclass
class Outcome:
    """What a loader did with one generated file."""

    table: Any = None
    error: InputError | None = None


def assert_contract(load: Callable[[], Any], *paths: Path) -> Outcome:
    """Call ``load``: it must return, or raise an InputError each of whose paragraphs names one
    of ``paths`` (the file read, or a file it extends) and says what was expected.

    Any other exception propagates and fails the test, with hypothesis's shrunk example.
    """
    try:
        return Outcome(table=load())
    except InputError as error:
        shown = [display_path(path) for path in paths]
        messages = [problem.message() for problem in error.problems]
        paragraphs = [
            paragraph
            for paragraph in error.report().split("\n\n")
            if not paragraph.startswith("... and ")  # the cap's summary, after 20 problems
        ]
        for text in messages + paragraphs:
            assert any(f"In {name}" in text for name in shown), text
            assert "expected" in text, text
        return Outcome(error=error)


def assert_typed_table(frame: pd.DataFrame, spec: TableSpec) -> None:
    """A table a loader accepted holds what its spec promises, and nothing else."""
    assert list(frame.columns) == spec.column_names
    assert frame.index.name == "row"
    assert len(frame) >= 1
    assert all(int(row) >= 2 for row in frame.index)
    for column in spec.columns:
        values = frame[column.name]
        if column.kind in ("money", "fte", "number", "fraction"):
            assert values.dtype == "float64", (column.name, values.dtype)
            present = values.dropna()
            assert all(math.isfinite(v) for v in present), column.name
            if not column.blank_allowed:
                assert values.notna().all(), column.name
            if column.kind in ("money", "fte"):
                assert (present >= 0).all(), column.name
            if column.kind == "fraction":
                assert present.between(0, 1).all(), column.name
        else:
            present = values.dropna()
            assert all(isinstance(v, str) and v == v.strip() and v for v in present), column.name
            if not column.blank_allowed:
                assert values.notna().all(), column.name
            if column.kind == "category":
                assert set(present) <= set(column.allowed), column.name
            if column.kind == "financial_year":
                for year in present:
                    start, end = year.split("/")
                    assert start.isascii() and (int(start) + 1) % 100 == int(end), year
    keys = frame[list(spec.key)].astype(str)
    assert not keys.duplicated().any()
