"""Result tables written to one Excel workbook, one sheet per table, formatted for analysts.

Each sheet has a bold, frozen header row, columns wide enough to read, and number formats
chosen from the column's name, the same suffixes :mod:`analysis.formatting` uses:

* pounds (``_gbp``): ``#,##0``; pounds in millions (``_gbp_m``): ``#,##0.0``;
* full-time equivalents (``fte``, ``_fte``): ``0.0``;
* fractions (``_share``, ``_rate``, ``_fraction``): ``0.0%``;
* counts (``_count``): ``#,##0``.

Numbers stay numbers in the workbook (never text), so an analyst can sum and chart them; text
is always text (an inline string, never a formula, so a name in an input that starts with
``=`` cannot run in Excel). The workbook is written to a temporary file in the destination
folder and renamed into place, so a reader never sees half a workbook.

The workbook is written as SpreadsheetML (ECMA-376: a zip of a few XML parts) by this module
rather than cell by cell through openpyxl, which spent 1.3 to 2.2 s of CPU on the pack's
60,000 cells. Each sheet's part depends on its table alone (:func:`sheet_xml`, with the
styles fixed in :data:`CELL_STYLES`), so a batch of packs that share tables, every council's
copy of notebook 03's sensitivity grid, can render each shared sheet once
(:func:`workbook_from_sheets`). openpyxl still reads workbooks (scenarios edited in Excel).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
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
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

#: The workbook's cell styles, by index: plain, the bold header, then one per number format.
#: Fixed, so a sheet's XML never depends on which other sheets share its workbook.
CELL_STYLES: tuple[str, ...] = (
    "General",
    "bold",
    *dict.fromkeys([*NUMBER_FORMATS.values(), DATE_FORMAT, DATETIME_FORMAT]),
)
_STYLE_OF_FORMAT = {code: index for index, code in enumerate(CELL_STYLES) if index > 1}
_HEADER_STYLE = 1
#: Custom number formats are numbered from 164 (lower numbers are Excel's built-in ones).
_FIRST_CUSTOM_FORMAT = 164

_MAX_SHEET_NAME = 31
_FORBIDDEN_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_MIN_WIDTH, _MAX_WIDTH = 8, 60
#: Excel's limits: a longer text is cut (Excel would refuse the file), a larger table refused.
_MAX_TEXT = 32_767
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384
#: Characters XML 1.0 cannot hold (control characters other than tab, line feed and carriage
#: return, and halves of surrogate pairs): dropped from text, as no reader could show them.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_EPOCH = datetime(1899, 12, 30)
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
#: Every part gets this timestamp, so the same tables always give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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
    """Return a value as the workbook holds it: missing values blank (``None``), NumPy
    scalars as Python ones, timestamps as ``datetime``, anything else unknown as its text."""
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
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, date):
        return len(DATE_FORMAT)
    return len(str(value))


def _xml_text(text: str) -> str:
    """Text as XML character data: markup escaped, a carriage return kept as ``&#13;`` (an
    XML reader would turn a bare one into a line feed), characters XML cannot hold dropped."""
    text = _NOT_IN_XML.sub("", text[:_MAX_TEXT])
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def _serial_day(value: date) -> float:
    """A date or time as Excel's serial day number (days since 30 December 1899)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return (value - _EXCEL_EPOCH).total_seconds() / 86_400
    return float((value - _EXCEL_EPOCH.date()).days)


def _cell(ref: str, value: object, style: int) -> str:
    """One ``<c>`` element; the empty string for a blank cell (blank cells are not written)."""
    if value is None:
        return ""
    styled = f' s="{style}"' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{styled}><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{styled}><v>{value!r}</v></c>'
    if isinstance(value, date):
        code = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        return f'<c r="{ref}" s="{_STYLE_OF_FORMAT[code]}"><v>{_serial_day(value)!r}</v></c>'
    return (
        f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">'
        f"{_xml_text(str(value))}</t></is></c>"
    )


def _column_cells(column: pd.Series, letter: str, style: int) -> tuple[list[str], int]:
    """A column's cells from row 2 down, and the width of its widest value when displayed."""
    number_format = CELL_STYLES[style] if style else None
    if column.dtype.kind in "iuf":
        # Numbers: no per-value type checks, and the widest display is that of the smallest or
        # the largest value in a fixed format (the width grows with the number's size).
        styled = f' s="{style}"' if style else ""
        values = column.tolist()
        cells = [
            f'<c r="{letter}{number}"{styled}><v>{value!r}</v></c>' if math.isfinite(value) else ""
            for number, value in enumerate(values, start=2)
        ]
        shown = [value for value in values if math.isfinite(value)]
        if number_format is not None and shown:
            shown = [min(shown), max(shown)]
        return cells, max((_display_width(value, number_format) for value in shown), default=0)
    values = [_cell_value(value) for value in column.tolist()]
    cells = [
        _cell(f"{letter}{number}", value, style) for number, value in enumerate(values, start=2)
    ]
    return cells, max((_display_width(value, number_format) for value in values), default=0)


def sheet_xml(frame: pd.DataFrame) -> bytes:
    """Return the worksheet part holding ``frame``: its column names as a bold, frozen header
    row, then one row per table row, each column with the number format its name calls for
    and a width that fits its longest value.

    The part depends on ``frame`` alone, so it can be kept and reused for the same table in
    another workbook (:func:`workbook_from_sheets`).

    Raises
    ------
    ValueError
        When the table is larger than an Excel sheet can hold.
    """
    flat = frame.reset_index(drop=True)
    columns = [str(c) for c in flat.columns]
    if len(flat) + 1 > _MAX_ROWS or len(columns) > _MAX_COLUMNS:
        raise ValueError(
            f"a table of {len(flat):,} rows and {len(columns):,} columns does not fit an Excel "
            f"sheet ({_MAX_ROWS - 1:,} rows and {_MAX_COLUMNS:,} columns at most)"
        )
    letters = [get_column_letter(position) for position in range(1, len(columns) + 1)]
    formats = [number_format_for(c) for c in columns]
    widths = [len(c) for c in columns]
    rows = [
        ['<row r="1">']
        + [
            _cell(f"{letter}1", name, _HEADER_STYLE)
            for letter, name in zip(letters, columns, strict=True)
        ]
    ]
    rows += [[f'<row r="{number}">'] for number in range(2, len(flat) + 2)]
    for position, (letter, number_format) in enumerate(zip(letters, formats, strict=True)):
        column = flat.iloc[:, position]
        cells, width = _column_cells(column, letter, _STYLE_OF_FORMAT.get(number_format, 0))
        for row, cell in zip(rows[1:], cells, strict=True):
            row.append(cell)
        widths[position] = max(widths[position], width)
    last = f"{letters[-1]}{len(flat) + 1}" if letters else "A1"
    cols = "".join(
        f'<col min="{position}" max="{position}" width="{_column_width(width)}" customWidth="1"/>'
        for position, width in enumerate(widths, start=1)
    )
    return (
        f'{_XML_DECLARATION}<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" '
        'sqref="A2"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
        + "".join("".join(row) + "</row>" for row in rows)
        + '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
        'header="0.3" footer="0.3"/></worksheet>'
    ).encode("utf-8")


def _column_width(characters: int) -> int:
    return min(max(characters + 2, _MIN_WIDTH), _MAX_WIDTH)


def _attribute(text: str) -> str:
    return _xml_text(text).replace("'", "&apos;")


def _styles_xml() -> str:
    custom = CELL_STYLES[2:]
    formats = "".join(
        f'<numFmt numFmtId="{_FIRST_CUSTOM_FORMAT + n}" formatCode="{_attribute(code)}"/>'
        for n, code in enumerate(custom)
    )
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    plain_xf = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    bold_xf = '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    format_xfs = "".join(
        f'<xf numFmtId="{_FIRST_CUSTOM_FORMAT + n}" fontId="0" fillId="0" borderId="0" '
        'xfId="0" applyNumberFormat="1"/>'
        for n in range(len(custom))
    )
    return (
        f'{_XML_DECLARATION}<styleSheet xmlns="{_MAIN_NS}">'
        f'<numFmts count="{len(custom)}">{formats}</numFmts>'
        f'<fonts count="2"><font>{font}</font><font><b/>{font}</font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(CELL_STYLES)}">{plain_xf}{bold_xf}{format_xfs}'
        '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )


def _package_parts(names: list[str]) -> dict[str, str]:
    """Every part of the workbook but its sheets: content types, relationships, workbook
    (the sheet names, in order) and styles."""
    count = len(names)
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        f'ContentType="{_CONTENT_TYPE}.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    sheets = "".join(
        f'<sheet name="{_attribute(name)}" sheetId="{n}" r:id="rId{n}"/>'
        for n, name in enumerate(names, start=1)
    )
    return {
        "[Content_Types].xml": (
            f"{_XML_DECLARATION}<Types "
            'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CONTENT_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CONTENT_TYPE}.styles+xml"/>'
            f"{sheet_types}</Types>"
        ),
        "_rels/.rels": (
            f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'{_XML_DECLARATION}<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>'
            "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_DECLARATION}<Relationships xmlns="{_PACKAGE_REL_NS}">{sheet_rels}'
            f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": _styles_xml(),
    }


def workbook_from_sheets(sheets: Mapping[str, bytes]) -> bytes:
    """Return the ``.xlsx`` bytes of a workbook of sheets already rendered by
    :func:`sheet_xml`, by table name, in order (names made valid by :func:`sheet_name`).

    Raises
    ------
    ValueError
        When ``sheets`` is empty: a workbook needs at least one sheet.
    """
    if not sheets:
        raise ValueError("a workbook needs at least one table")
    taken: set[str] = set()
    names = []
    for name in sheets:
        names.append(sheet_name(name, taken))
        taken.add(names[-1])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        parts: dict[str, str | bytes] = dict(_package_parts(names))
        for number, part in enumerate(sheets.values(), start=1):
            parts[f"xl/worksheets/sheet{number}.xml"] = part
        for part_name, data in parts.items():
            entry = zipfile.ZipInfo(part_name, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            book.writestr(entry, data)
    return buffer.getvalue()


def workbook_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """Return the workbook holding ``tables`` (one sheet each, in order) as ``.xlsx`` bytes.

    Raises
    ------
    ValueError
        When ``tables`` is empty: a workbook needs at least one sheet.
    """
    return workbook_from_sheets({name: sheet_xml(frame) for name, frame in tables.items()})


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
