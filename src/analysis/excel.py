"""Result tables written to one Excel workbook, one sheet per table, formatted for analysts.

Each sheet has a bold, frozen header row, columns wide enough to read, and number formats
chosen from the column's name, the same suffixes :mod:`analysis.formatting` uses:

* pounds (``_gbp``): ``#,##0``; pounds in millions (``_gbp_m``): ``#,##0.0``;
* full-time equivalents (``fte``, ``_fte``): ``0.0``;
* fractions (``_share``, ``_rate``, ``_fraction``): ``0.0%``;
* counts (``_count``): ``#,##0``.

Numbers stay numbers in the workbook (never text), so an analyst can sum and chart them. The
workbook is written to a temporary file in the destination folder and renamed into place, so
a reader never sees half a workbook.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from analysis.store import atomic_write_bytes

#: Excel number format for each column-name suffix; the longest matching suffix wins.
NUMBER_FORMATS: dict[str, str] = {
    "_gbp": "#,##0",
    "_gbp_m": "#,##0.0",
    "fte": "0.0",
    "_fte": "0.0",
    "_share": "0.0%",
    "_rate": "0.0%",
    "_fraction": "0.0%",
    "_count": "#,##0",
}

_MAX_SHEET_NAME = 31
_FORBIDDEN_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60


def number_format_for(column: object) -> str | None:
    """Return the Excel number format of a column from its name, or ``None`` for none."""
    name = str(column)
    for suffix in sorted(NUMBER_FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return NUMBER_FORMATS[suffix]
    return None


def sheet_name(name: str, taken: set[str]) -> str:
    """Return ``name`` as a valid, unused Excel sheet name (31 characters, no ``[]:*?/\\``)."""
    clean = _FORBIDDEN_IN_SHEET_NAME.sub("_", str(name)).strip("'") or "Sheet"
    candidate = clean[:_MAX_SHEET_NAME]
    counter = 2
    while candidate.lower() in {t.lower() for t in taken}:
        tail = f"_{counter}"
        candidate = clean[: _MAX_SHEET_NAME - len(tail)] + tail
        counter += 1
    return candidate


def _cell_value(value: object) -> object:
    """Return a value openpyxl can write: missing values blank, NumPy scalars as Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (datetime, date, str, bool)):
        return value
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float)):
        return value
    return str(value)


def _display_width(value: object, number_format: str | None) -> int:
    if value is None:
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if number_format == "0.0%":
            return len(f"{value * 100:,.1f}%")
        if number_format == "0.0":
            return len(f"{value:,.1f}")
        if number_format in ("#,##0", "#,##0.0"):
            return len(f"{value:,.1f}")
        return len(f"{value:g}")
    return len(str(value))


def _keep_text(cells: tuple) -> None:
    """Keep text that starts with '=' as text: openpyxl writes it as a formula, which Excel
    runs on opening, so a name in an input could fetch a web page or send data away."""
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"


def workbook_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """Return the workbook holding ``tables`` (one sheet each, in order) as ``.xlsx`` bytes.

    Raises
    ------
    ValueError
        When ``tables`` is empty: a workbook needs at least one sheet.
    """
    if not tables:
        raise ValueError("a workbook needs at least one table")
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    bold = Font(bold=True)
    for name, frame in tables.items():
        sheet = book.create_sheet(sheet_name(name, taken))
        taken.add(sheet.title)
        flat = frame.reset_index(drop=True)
        columns = [str(c) for c in flat.columns]
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = bold
        formats = [number_format_for(c) for c in columns]
        widths = [len(c) for c in columns]
        for row in flat.itertuples(index=False, name=None):
            values = [_cell_value(v) for v in row]
            sheet.append(values)
            for position, value in enumerate(values):
                widths[position] = max(widths[position], _display_width(value, formats[position]))
        # One pass over the sheet: asking for a row by number scans every cell, so doing it
        # per appended row made large tables quadratic (a 4,830-row grid took a minute).
        for cells in sheet.iter_rows(min_row=1, max_row=len(flat) + 1, max_col=len(columns)):
            _keep_text(cells)
        for position, number_format in enumerate(formats, start=1):
            letter = get_column_letter(position)
            if number_format:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                    cell.number_format = number_format
            width = min(max(widths[position - 1] + 2, _MIN_WIDTH), _MAX_WIDTH)
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_workbook(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write ``tables`` to one ``.xlsx`` workbook at ``path``, one sheet per table, atomically.

    Parameters
    ----------
    tables
        Sheet name -> table. Names longer than 31 characters or holding ``[]:*?/\\`` are
        shortened or cleaned (Excel's rules); repeated names get ``_2``, ``_3``.
    path
        The workbook to write (its folder is created when missing).

    Raises
    ------
    ValueError
        When ``tables`` is empty.
    OSError
        When the folder cannot be written; any previous workbook at ``path`` is left whole.
    """
    path = Path(path)
    atomic_write_bytes(path, workbook_bytes(tables))
    return path
