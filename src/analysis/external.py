"""Published DfE, ONS and MHCLG statistics for every English council, as one tidy long table.

This module owns reading every file in ``data/raw/external/`` (see its README) into a single
table with one row per geography, reporting year, measure and source file:

``geographic_level`` ("National", "Regional", "Local authority"), ``la_code`` (ONS code:
E92000001 for England, the region's code for a region), ``old_la_code`` (the DfE 3-digit LA
number), ``la_name``, ``region_code``, ``region_name``, ``year`` (the reporting year: 2025 is
the year ending 31 March 2025), ``period_end``, ``measure``, ``value`` (NaN when suppressed),
``unit``, ``suppression`` (the publisher's symbol, or missing), ``source_file`` (relative to
``data/raw``), ``edition`` (the reporting year of the publication the file comes from) and
``published`` (the first day of the month the figure was first published, see
:data:`PUBLICATION_SCHEDULE`), and ``source_row`` and ``source_column``: the cell the figure was
read from (rows as a person counts them, header = 1), so a finding can point at it.

How the files are read, and why:

* Columns are chosen by name through explicit maps (:data:`SOURCES`), never by position; where
  the DfE renamed a column between editions every accepted name is listed. A file matching
  none of its known layouts raises :class:`~analysis.errors.InputError` naming the file, the
  columns found and the columns expected.
* UTF-8 with or without a BOM is read as such; anything else is read as a legacy 8-bit
  encoding (Windows-1252, or Mac Roman when the bytes are the Mac's curly quote and dash, as in
  ``RA_2023-24_data_Part_1.csv``) so a saved-from-Excel file never stops a run.
* Suppression symbols (``c``, ``x``, ``z``, ``u``, ``k``, ``low``, ``..``) become NaN with the
  symbol kept in ``suppression``. MHCLG's ``...``/``…`` are read as ``..`` (not available),
  ``[x]`` as ``x`` and a blank as ``z`` (not applicable, as MHCLG documents). Any other text in
  a value cell is an error naming file, row, column and value.
* Period ends: 31 March for year counts and snapshots, 30 September for the workforce census,
  30 June for ONS mid-year population (``population_0_17`` for year 2024 is mid-2024; the DfE
  divides a year-2025 count by the mid-2024 population).
* Inner and Outer London (E13000001/E13000002) appear as regional rows in the DfE files and as
  the ``region_code`` of London boroughs; they are kept as published. Their ``region_code``
  on their own rows is London's (E12000007), so summing regions must skip them.
* The 2010 SFR files have no ONS codes; LA rows take the ONS code the other files give the
  same DfE LA number, and region rows their region's code by name.
* Joint returns keep their joint codes: the workforce census reports Kingston upon Thames
  with Richmond upon Thames (``E09000021 / E09000027``, LA numbers ``314 / 318``) and North
  with West Northamptonshire as one; their ``old_la_code`` is missing.
* Nothing is dropped silently: every LA row of every file is kept, and :func:`boundary_changes`
  reports the LAs that appear, disappear or change ONS code between years.

The parsed table is cached in memory (keyed on the SHA-256 of every file read) and on disk in
``data/processed/cache/`` (written atomically), so notebooks and the all-LA batch pay the
parsing cost once.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import io
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from analysis.collector import freeze_long_lived
from analysis.errors import InputError, Problem
from analysis.paths import cache_dir, display_path, external_dir
from analysis.periods import parse_reporting_month
from analysis.store import atomic_write_bytes

NATIONAL = "National"
REGIONAL = "Regional"
LOCAL_AUTHORITY = "Local authority"
ENGLAND_CODE = "E92000001"
LONDON_CODE = "E12000007"

TIDY_COLUMNS = (
    "geographic_level",
    "la_code",
    "old_la_code",
    "la_name",
    "region_code",
    "region_name",
    "year",
    "period_end",
    "measure",
    "value",
    "unit",
    "suppression",
    "source_file",
    "edition",
    "published",
    "source_row",
    "source_column",
)

#: The publishers' symbols for a missing value, and what each means.
SUPPRESSION_SYMBOLS: dict[str, str] = {
    "c": "confidential: suppressed to protect individuals (small numbers)",
    "x": "not available: not collected, LA did not exist, or withheld",
    "z": "not applicable",
    "u": "low reliability (data-quality concern flagged by the DfE)",
    "k": "rounds to 0 but is not 0",
    "low": "rounds to 0 but is not 0 (older symbol)",
    "..": "not available",
}

#: MHCLG finance flags and the standard symbol each is recorded as.
_FINANCE_FLAGS = {"...": "..", "…": "..", "[x]": "x", "": "z"}

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_FORMATTED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


@dataclass(frozen=True)
class Collection:
    """When a statistical collection publishes the figures for reporting year ``year``.

    A figure for reporting year Y is treated as available from the first day of
    ``month`` in year ``Y + year_offset``: the month its own edition first appeared. Later
    editions restate earlier years (usually with small revisions); the tidy table holds the
    latest restatement but dates it from the first publication, so a back-dated run sees the
    years it could have seen.
    """

    name: str
    month: int
    year_offset: int
    basis: str


#: Publication months assumed per collection, with the evidence for each.
PUBLICATION_SCHEDULE: dict[str, Collection] = {
    "cla": Collection(
        "Children looked after in England including adoptions (DfE)",
        11,
        0,
        "README: the 2025 edition is 'last updated 26 November 2025'; the year to 31 March Y "
        "is published in November of Y (care leavers and stability measures with it)",
    ),
    "cla_sfr": Collection(
        "Children looked after SFR underlying data, 2010-2017 (DfE)",
        9,
        0,
        "the SFR editions for the year to 31 March Y appeared at the end of September of Y",
    ),
    "cin": Collection(
        "Children in need (DfE)",
        10,
        0,
        "README: the 2025 edition is 'last updated 30 October 2025'",
    ),
    "workforce": Collection(
        "Children's social work workforce (DfE)",
        3,
        1,
        "README: the census at 30 September 2025 is 'last updated 19 March 2026'",
    ),
    "population": Collection(
        "ONS mid-year population estimates, aged 0-17",
        7,
        1,
        "ONS publishes the mid-year Y estimates in the summer (July) of Y+1",
    ),
    "ra": Collection(
        "Revenue account budget, RA (MHCLG)",
        6,
        -1,
        "RA 2023-24 says 'Last updated: 22 June 2023': a budget for the year to March Y is "
        "published in June of Y-1",
    ),
    "rsx": Collection(
        "Revenue outturn service expenditure summary, RSX (MHCLG)",
        12,
        0,
        "RSX 2023-24 says 'Last updated: 12 December 2024': the outturn for the year to "
        "March Y is published in December of Y (the 2021-22 copy is the final revision of "
        "November 2023)",
    ),
}


def publication_schedule() -> pd.DataFrame:
    """Return :data:`PUBLICATION_SCHEDULE` as a table a report can show beside its figures."""
    months = pd.Series(pd.date_range("2000-01-01", periods=12, freq="MS").strftime("%B"))
    return pd.DataFrame(
        [
            {
                "collection": key,
                "publication": c.name,
                "figures for year Y first published": f"{months[c.month - 1]} of Y"
                + (f"{c.year_offset:+d}" if c.year_offset else ""),
                "basis": c.basis,
            }
            for key, c in PUBLICATION_SCHEDULE.items()
        ]
    )


# --------------------------------------------------------------------------------------------
# Source declarations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One published column (or category) and the measure it becomes.

    ``names`` lists every name the column or category has had between editions.
    """

    names: tuple[str, ...]
    measure: str
    unit: str


@dataclass(frozen=True)
class Source:
    """A raw file, the collection it belongs to and how to read it."""

    path: str  # relative to data/raw/external
    collection: str
    edition: int
    reader: Callable[[pd.DataFrame | list[list[str]], Source, str], pd.DataFrame]
    measures: tuple[Measure, ...] = ()
    layouts: tuple[tuple[str, str], ...] = ()  # (category column, value column) alternatives
    filters: tuple[tuple[str, str], ...] = ()  # (column, required value) pairs
    raw_text: bool = False  # True: the reader gets CSV records, not a DataFrame


def _m(measure: str, unit: str, *names: str) -> Measure:
    return Measure(names, measure, unit)


CHILDREN = "children"
PER_10K = "per 10,000 children aged 0-17"
PERCENT = "percent"
GBP_K = "£ thousand"


# --------------------------------------------------------------------------------------------
# Decoding and value parsing
# --------------------------------------------------------------------------------------------


def decode_text(raw: bytes) -> str:
    """Decode a published CSV: UTF-8 (BOM or not), else Mac Roman or Windows-1252.

    Mac Roman is chosen only when a byte that is a curly quote or dash in Mac Roman sits
    between two letters (``people\\xd5s``); otherwise Windows-1252, which decodes every byte
    the DfE and MHCLG use.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if re.search(rb"[A-Za-z0-9][\xd0\xd2\xd3\xd4\xd5][A-Za-z0-9 ]", raw):
        return raw.decode("mac_roman")
    return raw.decode("cp1252", errors="replace")


def _parse_values(
    cells: pd.Series,
    file: str,
    columns: str | np.ndarray,
    rows: np.ndarray,
    finance: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the numbers and the suppression symbols of published cells.

    ``cells`` is indexed 0..n-1; ``columns`` (one name, or one per cell) and ``rows`` say
    where each cell was, for the error message.

    Raises
    ------
    InputError
        Naming every cell that is neither a number nor a known symbol.
    """
    text = cells.astype("string").fillna("").str.strip()
    plain = text.str.replace(",", "", regex=False) if finance else text
    values = pd.to_numeric(plain, errors="coerce")
    # 'inf' and '1e999' parse as numbers, but no publisher prints an infinite figure.
    is_number = values.notna() & np.isfinite(values.astype(float))
    if finance:
        formatted = text.str.fullmatch(_FORMATTED.pattern) | text.str.fullmatch(_NUMBER.pattern)
        is_number &= formatted.fillna(False)
        symbol = text.replace(_FINANCE_FLAGS)
    else:
        symbol = text
    known = symbol.isin(list(SUPPRESSION_SYMBOLS))
    blank = (text == "") & ~is_number
    bad = (~is_number & ~known & ~blank).to_numpy(dtype=bool)
    if bad.any():
        allowed = ", ".join(repr(s) for s in SUPPRESSION_SYMBOLS)
        names = np.broadcast_to(np.asarray(columns, dtype=object), len(text))
        raise InputError(
            [
                Problem(
                    file=file,
                    row=int(rows[i]),
                    column=str(names[i]),
                    value=text.iloc[i],
                    expected=f"a number or one of the publisher's symbols {allowed}",
                )
                for i in np.flatnonzero(bad)
            ]
        )
    suppression = symbol.where(~is_number & known, None).to_numpy(dtype=object)
    return values.where(is_number).to_numpy(dtype=float), suppression


def _stack(
    geography: pd.DataFrame,
    frame: pd.DataFrame,
    columns: list[tuple[str, str, str]],
    file: str,
    rows: np.ndarray,
    finance: bool = False,
) -> pd.DataFrame:
    """Turn wide columns into long rows: one per geography row and (column, measure, unit)."""
    n, k = len(frame), len(columns)
    names = np.array([c for c, _, _ in columns], dtype=object)
    cells = pd.Series(
        np.concatenate([frame[c].to_numpy(dtype=object) for c, _, _ in columns])
        if k
        else np.array([], dtype=object)
    )
    cell_rows = np.tile(np.asarray(rows), k)
    cell_columns = np.repeat(names, n)
    values, suppression = _parse_values(cells, file, cell_columns, cell_rows, finance)
    long = geography.iloc[np.tile(np.arange(n), k)].reset_index(drop=True)
    long["measure"] = np.repeat(np.array([m for _, m, _ in columns], dtype=object), n)
    long["value"] = values
    long["unit"] = np.repeat(np.array([u for _, _, u in columns], dtype=object), n)
    long["suppression"] = suppression
    long["source_row"] = cell_rows
    long["source_column"] = cell_columns
    return long


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------

_EES_GEOGRAPHY = ("time_period", "geographic_level", "country_code")


def _layout_error(file: str, found: Iterable[str], expected: Iterable[str]) -> InputError:
    return InputError(
        [
            Problem(
                file=file,
                expected="a known layout of this publication, with the columns "
                + "; or ".join(expected)
                + ". The columns found are "
                + ", ".join(repr(c) for c in found)
                + ". The publisher may have renamed a column: add the new name to the map in "
                "analysis.external.SOURCES",
                has_value=False,
            )
        ]
    )


def _la_number(cells: pd.Series) -> pd.Series:
    """Return the DfE LA numbers in ``cells``; missing where a cell is not one ('314 / 318').

    Only digits are read: a float cast to Int64 would truncate '1.5' and overflow '1e30'.
    """
    text = cells.astype("string").str.strip()
    whole = text.where(text.str.fullmatch(r"[0-9]{1,6}").fillna(False))
    return pd.to_numeric(whole, errors="coerce").astype("Int64")


def _ees_geography(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the tidy geography columns of an EES file's rows."""
    level = frame["geographic_level"].astype("string").str.strip()

    def col(name: str) -> pd.Series:
        if name in frame:
            return frame[name].astype("string").str.strip().replace("", pd.NA)
        return pd.Series(pd.NA, index=frame.index, dtype="string")

    la_code = col("new_la_code")
    region_code = col("region_code")
    region_name = col("region_name")
    is_region = level == REGIONAL
    is_national = level == NATIONAL
    code = la_code.mask(is_region, region_code).mask(is_national, col("country_code"))
    name = col("la_name").mask(is_region, region_name).mask(is_national, col("country_name"))
    inner_outer = is_region & region_code.isin(["E13000001", "E13000002"])
    region_code = region_code.mask(inner_outer, LONDON_CODE).mask(is_national, pd.NA)
    region_name = region_name.mask(inner_outer, "London").mask(is_national, pd.NA)
    return pd.DataFrame(
        {
            "geographic_level": level,
            "la_code": code,
            "old_la_code": _la_number(col("old_la_code")),
            "la_name": name,
            "region_code": region_code,
            "region_name": region_name,
            "year": pd.to_numeric(frame["time_period"], errors="coerce"),
        },
        index=frame.index,
    )


def _check_ees(frame: pd.DataFrame, file: str, needed: Iterable[str]) -> None:
    missing = [c for c in (*_EES_GEOGRAPHY, *needed) if c not in frame.columns]
    if missing:
        raise _layout_error(file, frame.columns, [", ".join([*_EES_GEOGRAPHY, *needed])])
    bad_level = ~frame["geographic_level"].isin([NATIONAL, REGIONAL, LOCAL_AUTHORITY])
    year = frame["time_period"].astype("string").str.strip()
    bad_year = ~year.str.fullmatch(r"[0-9]{4}").fillna(False)
    problems = [
        Problem(
            file=file,
            row=int(i) + 2,
            column="geographic_level",
            value=frame.at[i, "geographic_level"],
            expected="National, Regional or Local authority",
        )
        for i in frame.index[bad_level]
    ] + [
        Problem(
            file=file,
            row=int(i) + 2,
            column="time_period",
            value=frame.at[i, "time_period"],
            expected="a reporting year such as 2025",
        )
        for i in frame.index[bad_year]
    ]
    if problems:
        raise InputError(problems)


def _resolve(frame_columns: Iterable[str], measure: Measure) -> str | None:
    columns = set(frame_columns)
    return next((n for n in measure.names if n in columns), None)


def _read_ees_wide(frame: pd.DataFrame, source: Source, file: str) -> pd.DataFrame:
    """An EES file with one column per measure."""
    resolved = [(_resolve(frame.columns, m), m) for m in source.measures]
    missing = [m for name, m in resolved if name is None]
    if missing:
        expected = [" or ".join(m.names) for m in source.measures]
        raise _layout_error(file, frame.columns, [", ".join([*_EES_GEOGRAPHY, *expected])])
    _check_ees(frame, file, [])
    for column, wanted in source.filters:
        if column not in frame:
            raise _layout_error(file, frame.columns, [column])
        frame = frame[frame[column] == wanted]
    geography = _ees_geography(frame)
    columns = [(name, m.measure, m.unit) for name, m in resolved]
    return _stack(geography, frame, columns, file, frame.index.to_numpy() + 2)


def _read_ees_long(frame: pd.DataFrame, source: Source, file: str) -> pd.DataFrame:
    """An EES file with a category column naming the measure and a value column."""
    layout = next(
        ((cat, val) for cat, val in source.layouts if cat in frame.columns and val in frame),
        None,
    )
    if layout is None:
        raise _layout_error(
            file,
            frame.columns,
            [", ".join([*_EES_GEOGRAPHY, cat, val]) for cat, val in source.layouts],
        )
    category, value_column = layout
    _check_ees(frame, file, [category, value_column])
    for column, wanted in source.filters:
        if column not in frame:
            raise _layout_error(file, frame.columns, [column])
        frame = frame[frame[column] == wanted]
    label = frame[category].astype("string").str.strip()
    lookup = {name: m for m in source.measures for name in m.names}
    if source.measures:
        present = set(label.unique())
        absent = [m for m in source.measures if not present.intersection(m.names)]
        if absent:
            raise InputError(
                [
                    Problem(
                        file=file,
                        column=category,
                        has_value=False,
                        expected="the categories "
                        + "; ".join(" or ".join(repr(n) for n in m.names) for m in absent)
                        + f" in column '{category}'. The categories found are "
                        + ", ".join(repr(v) for v in sorted(present, key=str))
                        + ". The publisher may have renamed one: add the new name to the map "
                        "in analysis.external.SOURCES",
                    )
                ]
            )
        frame = frame[label.isin(list(lookup))]
        label = label[frame.index]
        measure = label.map(lambda t: lookup[t].measure)
        unit = label.map(lambda t: lookup[t].unit)
    else:
        measure = "cla_placement_" + label.map(_slug)
        unit = pd.Series(CHILDREN, index=frame.index)
    geography = _ees_geography(frame)
    rows = frame.index.to_numpy() + 2
    values, suppression = _parse_values(
        frame[value_column].reset_index(drop=True), file, value_column, rows
    )
    geography["measure"] = measure.to_numpy(dtype=object)
    geography["value"] = values
    geography["unit"] = unit.to_numpy(dtype=object)
    geography["suppression"] = suppression
    geography["source_row"] = rows
    geography["source_column"] = value_column
    return geography.reset_index(drop=True)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def _read_rate_file(frame: pd.DataFrame, source: Source, file: str) -> pd.DataFrame:
    """The CLA numbers-and-rates file: counts and their rates per 10,000 children."""
    counts = _read_ees_long(frame, source, file)
    rate_source = Source(
        source.path,
        source.collection,
        source.edition,
        _read_ees_long,
        measures=tuple(
            Measure(m.names, m.measure.replace("cla_at_31_march", "cla") + "_rate_per_10k", PER_10K)
            for m in source.measures
        ),
        layouts=tuple((cat, "rate_per_10000") for cat, _ in source.layouts),
    )
    return pd.concat([counts, _read_ees_long(frame, rate_source, file)], ignore_index=True)


def _read_care_leavers(frame: pd.DataFrame, source: Source, file: str) -> pd.DataFrame:
    """Care leavers by age group: totals, and in or not in education, employment or training."""
    parts = []
    for age, suffix in (("17 to 18 years", "17_18"), ("19 to 21 years", "19_21")):
        sub = Source(
            source.path,
            source.collection,
            source.edition,
            _read_ees_long,
            measures=(
                _m(f"care_leavers_{suffix}", CHILDREN, "Total"),
                _m(
                    f"care_leavers_{suffix}_eet",
                    CHILDREN,
                    "Total in education, employment or training",
                ),
                _m(
                    f"care_leavers_{suffix}_neet",
                    CHILDREN,
                    "Total not in education, employment or training",
                ),
            ),
            layouts=source.layouts,
            filters=(("care_leaver_age", age),),
        )
        parts.append(_read_ees_long(frame, sub, file))
    return pd.concat(parts, ignore_index=True)


# --- 2010-2017 SFR wide files ----------------------------------------------------------------

# Placement columns by their names in the files. SFR41_CLA2016 has CLA_Miss and no CLA_OthPl
# while its metadata lists CLA_OthPl ("other placements"); the file's own label is kept.
_SFR_PLACEMENTS = (
    ("CLA_Fost", "cla_placement_foster"),
    ("CLA_Adopt", "cla_placement_placed_for_adoption"),
    ("CLA_Parent", "cla_placement_with_parents"),
    ("CLA_Ocom", "cla_placement_other_community"),
    ("CLA_Secure", "cla_placement_secure_childrens_homes_hostels"),
    ("CLA_Ores", "cla_placement_other_residential"),
    ("CLA_RSch", "cla_placement_residential_school"),
    ("CLA_Miss", "cla_placement_missing"),
    ("CLA_OthPl", "cla_placement_other"),
)

#: The 2010 files give placements by SSDA903 code; each code's post-2011 placement group.
SSDA903_PLACEMENT_GROUPS: dict[str, str] = {
    "Q1": "foster",
    "Q2": "foster",
    "A3": "placed_for_adoption",
    "A4": "placed_for_adoption",
    "A5": "placed_for_adoption",
    "A6": "placed_for_adoption",
    "P1": "with_parents",
    "P2": "other_community",
    "P3": "other_community",
    "K1": "secure_childrens_homes_hostels",
    "K2": "secure_childrens_homes_hostels",
    "H5": "secure_childrens_homes_hostels",
    "R1": "other_residential",
    "R2": "other_residential",
    "R3": "other_residential",
    "R5": "other_residential",
    "S1": "residential_school",
    "M1": "missing",
    "M2": "missing",
    "M3": "missing",
    "Z1": "other",
}

#: Region codes and names as the EES files write them (the SFR files write names only).
REGIONS = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
    "E13000001": "Inner London",
    "E13000002": "Outer London",
}
_REGION_CODES_BY_NAME = {name.lower(): code for code, name in REGIONS.items()}


def _sfr_measures(columns: list[str], year: int, kind: str) -> list[tuple[str, str, str]]:
    """Return (column, measure, unit) for an SFR file of ``kind`` (CLA, ADM or CEA)."""
    wanted: list[tuple[tuple[str, ...], str]] = []
    if kind == "CLA":
        wanted = [((f"CLA_Mar{year}", f"MarTotal_{year}"), "cla_at_31_march")]
        if year > 2010:
            wanted.append(((f"CLA_{year}",), "cla_during_year"))
    elif kind == "ADM":
        # SFR34_ADM2015 labels its 2015 columns with 2014 (a publisher's error; README).
        wanted = [
            ((f"CLA_started{year}", f"CLA_started{year - 1}", f"StartTotal_{year}"), "cla_starts")
        ]
    else:
        wanted = [((f"CLA_cease{year}", "CLA_cease", f"CeasedTotal_{year}"), "cla_ceases")]
    found: list[tuple[str, str, str]] = []
    for names, measure in wanted:
        name = next((n for n in names if n in columns), None)
        if name is None:
            return []
        found.append((name, measure, CHILDREN))
    if kind == "CLA":
        found += [(c, m, CHILDREN) for c, m in _SFR_PLACEMENTS if c in columns]
        if f"Mid{year - 1}Pop0-17" in columns:
            found.append((f"Mid{year - 1}Pop0-17", "population_0_17", CHILDREN))
    prefix = {"CLA": "MarPlace", "ADM": "StartPlace"}.get(kind)
    if prefix:
        stem = "cla" if kind == "CLA" else "cla_starts"
        for code in SSDA903_PLACEMENT_GROUPS:
            name = f"{prefix}_{code}_{year}"
            if name in columns:
                found.append((name, f"{stem}_placement_code_{code.lower()}", CHILDREN))
    return found


def _read_sfr(frame: pd.DataFrame, source: Source, file: str) -> pd.DataFrame:
    """A 2010-2017 SFR underlying-data file: one row per geography, one column per measure."""
    year = source.edition
    name = Path(source.path).name.upper()
    kind = (
        "ADM"
        if ("ADM" in name or "STARTED" in name)
        else ("CEA" if ("CEA" in name or "CEASED" in name) else "CLA")
    )
    frame = frame.rename(columns=lambda c: str(c).strip())
    columns = list(frame.columns)
    measures = _sfr_measures(columns, year, kind)
    geography_columns = ("geog_l", "geog_c", "geog_n")
    if not measures or any(c not in columns for c in geography_columns):
        expected = {
            "CLA": f"CLA_Mar{year} (or MarTotal_{year})",
            "ADM": f"CLA_started{year} (or StartTotal_{year})",
            "CEA": f"CLA_cease{year} or CLA_cease (or CeasedTotal_{year})",
        }[kind]
        raise _layout_error(file, columns, ["geog_l, geog_c, geog_n, " + expected])
    level_text = frame["geog_l"].astype("string").str.strip().str.upper()
    level = level_text.map(
        {"NATIONAL": NATIONAL, "REGION": REGIONAL, "GOR": REGIONAL, "LA": LOCAL_AUTHORITY}
    )
    if "New_geog_code" in frame:
        # SFR50_CLA2017 leaves geog_l blank on the Isles of Scilly's row; its code says LA.
        la_coded = frame["New_geog_code"].astype("string").str.match(r"^E(06|08|09|10)\d{6}$")
        level = level.mask(level.isna() & la_coded.fillna(False), LOCAL_AUTHORITY)
    if level.isna().any():
        i = level.index[level.isna()][0]
        raise InputError(
            [
                Problem(
                    file=file,
                    row=int(i) + 2,
                    column="geog_l",
                    value=frame.at[i, "geog_l"],
                    expected="NATIONAL, REGION (or GOR) or LA",
                )
            ]
        )
    geog_name = frame["geog_n"].astype("string").str.strip()
    region_by_name = geog_name.str.lower().map(_REGION_CODES_BY_NAME)
    if "New_geog_code" in frame:
        code = frame["New_geog_code"].astype("string").str.strip().replace("", pd.NA)
    else:
        code = pd.Series(pd.NA, index=frame.index, dtype="string")
    is_region = level == REGIONAL
    code = code.mask(is_region, region_by_name).mask(level == NATIONAL, ENGLAND_CODE)
    inner_outer = is_region & region_by_name.isin(["E13000001", "E13000002"])
    old = _la_number(frame["geog_c"].where(level == LOCAL_AUTHORITY))
    geography = pd.DataFrame(
        {
            "geographic_level": level.astype("string"),
            "la_code": code.astype("string"),
            "old_la_code": old.astype("Int64"),
            "la_name": geog_name.mask(level == NATIONAL, "England").mask(
                is_region, code.map(REGIONS)
            ),
            "region_code": pd.Series(pd.NA, index=frame.index, dtype="string")
            .mask(is_region, code)
            .mask(inner_outer, LONDON_CODE),
            "region_name": pd.Series(pd.NA, index=frame.index, dtype="string")
            .mask(is_region, code.map(REGIONS))
            .mask(inner_outer, "London"),
            "year": year,
        },
        index=frame.index,
    )
    long = _stack(geography, frame, measures, file, frame.index.to_numpy() + 2)
    # The 2010 file's mid-2009 population belongs to 2009.
    long.loc[long["measure"] == "population_0_17", "year"] = year - 1
    return long


# --- MHCLG RA and RSX ------------------------------------------------------------------------

_RA_MEASURES = (
    ("childrenssocialcaresurestartchildrenscentres", "csc_budget_sure_start_early_years_gbp_k"),
    ("childrenssocialcarechildrenlookedafter", "csc_budget_children_looked_after_gbp_k"),
    (
        "childrenssocialcareotherchildrenandfamilyservices",
        "csc_budget_other_children_family_services_gbp_k",
    ),
    ("childrenssocialcarefamilysupportservices", "csc_budget_family_support_gbp_k"),
    ("childrenssocialcareyouthjustice", "csc_budget_youth_justice_gbp_k"),
    ("childrenssocialcaresafeguardingchildrenandyoungpeople", "csc_budget_safeguarding_gbp_k"),
    ("childrenssocialcareasylumseekers", "csc_budget_asylum_seekers_gbp_k"),
    ("childrenssocialcareservicesforyoungpeople", "csc_budget_services_for_young_people_gbp_k"),
    ("totalchildrenssocialcare", "csc_budget_gbp_k"),
)
_RSX_MEASURES = (
    ("childrensocialcareemployees", "csc_employee_costs_gbp_k"),
    ("childrensocialcarerunningexpenses", "csc_running_expenses_gbp_k"),
    ("childrensocialcaretotalexpenditure", "csc_total_expenditure_gbp_k"),
    ("childrensocialcaresalesfeesandcharges", "csc_sales_fees_charges_gbp_k"),
    ("childrensocialcareotherincome", "csc_other_income_gbp_k"),
    ("childrensocialcaretotalincome", "csc_total_income_gbp_k"),
    ("childrensocialcarenetcurrentexpenditure", "csc_net_outturn_gbp_k"),
)

#: Authority classes that run children's services (MHCLG's class codes; L is 2021-22's LB).
CHILDRENS_SERVICES_CLASSES = ("UA", "MD", "LB", "L", "SC")


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _read_finance(records: list[list[str]], source: Source, file: str) -> pd.DataFrame:
    """An MHCLG RA or RSX worksheet saved as CSV: title rows, then a header starting E-code."""
    header_at = next((i for i, r in enumerate(records) if r and r[0].strip() == "E-code"), None)
    wanted = _RA_MEASURES if source.collection == "ra" else _RSX_MEASURES
    if header_at is None:
        raise _layout_error(
            file,
            records[0] if records else [],
            [
                "a header row whose first cell is 'E-code', then 'ONS Code', 'Local authority', "
                "'Class' and the children's social care columns"
            ],
        )
    header = [h.strip() for h in records[header_at]]
    squashed = [_squash(h) for h in header]
    positions = []
    for key, measure in wanted:
        at = next((i for i, s in enumerate(squashed) if s.startswith(key)), None)
        positions.append((at, measure))
    needed = ("ONS Code", "Local authority", "Class")
    if any(at is None for at, _ in positions) or any(n not in header for n in needed):
        raise _layout_error(file, header, [", ".join([*needed, *(k for k, _ in wanted)])])
    ons, name_at, class_at = (header.index(n) for n in needed)
    body: list[tuple[int, list[str]]] = []
    for offset, fields in enumerate(records[header_at + 1 :], start=header_at + 2):
        if fields and fields[0].strip() == "E-code":
            break  # a second table (class breakdown) follows the authorities
        # Every row padded or cut to the header's width: pandas will refuse ragged rows.
        body.append((offset, (fields + [""] * len(header))[: len(header)]))
    if not body:
        raise InputError(
            [
                Problem(
                    file=file,
                    row=header_at + 2,
                    expected="a row for each authority below the 'E-code' header",
                    has_value=False,
                )
            ]
        )
    frame = pd.DataFrame([f for _, f in body], columns=None).iloc[:, : len(header)]
    frame.columns = range(len(header))
    row_numbers = pd.Series([r for r, _ in body], index=frame.index)
    klass = frame[class_at].str.strip()
    authority = frame[name_at].str.strip()
    code = frame[ons].str.strip()
    england = authority.str.upper().eq("ENGLAND") | klass.eq("Eng")
    # Summary rows (the class breakdown under ENGLAND) have a class but no ONS code.
    is_authority = klass.isin(CHILDRENS_SERVICES_CLASSES) & code.str.fullmatch(r"E\d{8}")
    keep = is_authority | england
    frame, row_numbers = frame[keep], row_numbers[keep]
    code, authority, england = code[keep], authority[keep], england[keep]
    geography = pd.DataFrame(
        {
            "geographic_level": np.where(england, NATIONAL, LOCAL_AUTHORITY),
            "la_code": code.mask(england, ENGLAND_CODE).astype("string"),
            "old_la_code": pd.array([pd.NA] * len(frame), dtype="Int64"),
            "la_name": authority.mask(england, "England").astype("string"),
            "region_code": pd.array([pd.NA] * len(frame), dtype="string"),
            "region_name": pd.array([pd.NA] * len(frame), dtype="string"),
            "year": source.edition,
        },
        index=frame.index,
    )
    geography["geographic_level"] = geography["geographic_level"].astype("string")
    labelled = frame.rename(columns={at: header[at].replace("\n", " ") for at, _ in positions})
    columns = [(header[at].replace("\n", " "), measure, GBP_K) for at, measure in positions]
    return _stack(geography, labelled, columns, file, row_numbers.to_numpy(), finance=True)


# --- The declared sources --------------------------------------------------------------------

_CLA_LAYOUTS = (("population_type", "children_count"), ("population_count", "number"))

_CLA_MEASURES = (
    _m(
        "cla_at_31_march",
        CHILDREN,
        "Children looked after on 31 March each year",
        "Children looked after at 31 March",
    ),
    _m(
        "cla_starts",
        CHILDREN,
        "Children starting to be looked after each year",
        "Children starting to be looked after during the year",
    ),
    _m(
        "cla_ceases",
        CHILDREN,
        "Children ceasing to be looked after each year",
        "Children ceasing to be looked after during the year",
    ),
)

_SFR_FOLDER = "dfe_children_looked_after/sfr_underlying_2010_to_2017"
_SFR_FILES = {
    2010: ("SFR27_2010_March.csv", "SFR27_2010_Started.csv", "SFR27_2010_Ceased.csv"),
    2011: ("SFR21_CLA.csv", "SFE21_ADM.csv", "SFR21_CEA.csv"),
    2012: ("SFR20_CLA2012.csv", "SFR20_ADM2012.csv", "SFR_CEA2012.csv"),
    2013: ("SFR36_CLA2013.csv", "SFR36_ADM2013.csv", "SFR36_CEA2013.csv"),
    2014: ("SFR36_CLA2014.csv", "SFR36_ADM2014.csv", "SFR36_CEA2014.csv"),
    2015: ("SFR34_CLA2015.csv", "SFR34_ADM2015.csv", "SFR34_CEA2015.csv"),
    2016: ("SFR41_CLA2016.csv", "SFR41_ADM2016.csv", "SFR41_CEA2016.csv"),
    2017: ("SFR50_CLA2017.csv", "SFR50_ADM2017.csv", "SFR50_CEA2017.csv"),
}

SOURCES: tuple[Source, ...] = (
    Source(
        "dfe_children_looked_after/cla_number_and_rate_per_10k_children.csv",
        "cla",
        2025,
        _read_rate_file,
        measures=_CLA_MEASURES,
        layouts=_CLA_LAYOUTS,
    ),
    Source(
        "dfe_children_looked_after/cla_time_series_1994_2024.csv",
        "cla",
        2024,
        _read_ees_long,
        measures=(
            *_CLA_MEASURES,
            _m("cla_adopted", CHILDREN, "Children looked after who were adopted during the year"),
            _m(
                "cla_uasc_at_31_march",
                CHILDREN,
                "Children looked after at 31 March who were unaccompanied asylum-seeking children",
            ),
        ),
        layouts=_CLA_LAYOUTS,
    ),
    Source(
        "dfe_children_looked_after/national_cla_on_31_march_by_characteristics.csv",
        "cla",
        2024,
        _read_ees_long,
        layouts=(("characteristic", "number"),),
        filters=(("cla_group", "Placement"),),
    ),
    Source(
        "dfe_children_looked_after/la_cla_swcount.csv",
        "cla",
        2024,
        _read_ees_long,
        measures=(
            _m("cla_sw_stability_total", CHILDREN, "Total children"),
            _m("cla_3plus_social_workers", CHILDREN, "3 or more social workers during the year"),
        ),
        layouts=(("sw_stability", "number"),),
    ),
    Source(
        "dfe_children_looked_after/la_care_leavers_activity.csv",
        "cla",
        2025,
        _read_care_leavers,
        layouts=(("breakdown", "care_leaver_count"),),
    ),
    Source(
        "dfe_children_in_need/b1_children_in_need_2013_to_2025.csv",
        "cin",
        2025,
        _read_ees_wide,
        measures=(
            _m("cin_episodes_any_point", "episodes", "Anypoint_episodes"),
            _m("cin_any_point", CHILDREN, "Anypoint_child"),
            _m("cin_starts", "episodes", "Started_episodes"),
            _m("cin_starts_children", CHILDREN, "Started_child"),
            _m("cin_ends", "episodes", "Ended_episodes"),
            _m("cin_ends_children", CHILDREN, "Ended_child"),
            _m("cin_at_31_march", CHILDREN, "At31_episodes"),
            _m("awaiting_assessment_at_31_march", CHILDREN, "awaiting_assessment"),
        ),
    ),
    Source(
        "dfe_children_in_need/c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
        "cin",
        2025,
        _read_ees_wide,
        measures=(
            _m("referrals", "referrals", "referral_count"),
            _m("rereferrals", "referrals", "rereferral_count"),
            _m("rereferral_pct", PERCENT, "rereferral_percent"),
            _m("referrals_no_further_action", "referrals", "no_further_action_count"),
            _m("referrals_no_further_action_pct", PERCENT, "no_further_action_percent"),
            _m("assessed_not_in_need", "referrals", "not_in_need_count"),
            _m("assessed_not_in_need_pct", PERCENT, "not_in_need_percent"),
            _m("referrals_children", CHILDREN, "referral_child_count"),
            _m("rereferrals_children", CHILDREN, "rereferral_child_count"),
            _m("rereferral_children_pct", PERCENT, "rereferral_child_percent"),
        ),
    ),
    Source(
        "dfe_children_in_need/c4_children_in_need_section_47s_and_icpcs_2013_to_2025.csv",
        "cin",
        2025,
        _read_ees_wide,
        measures=(
            _m("section47_enquiries", "enquiries", "Section47"),
            _m("section47_enquiries_children", CHILDREN, "Section47_child"),
            _m("icpcs", "conferences", "ICPC"),
            _m("icpcs_children", CHILDREN, "ICPC_child"),
            _m("s47_to_icpc_0_10_days", "conferences", "Duration_0-10_days"),
            _m("s47_to_icpc_11_15_days", "conferences", "Duration_11-15_days"),
            _m("s47_to_icpc_16_20_days", "conferences", "Duration_16-20_days"),
            _m("s47_to_icpc_21_plus_days", "conferences", "Duration_21+_days"),
            _m("s47_to_icpc_days_p25", "working days", "Duration_25th_Percentile"),
            _m("s47_to_icpc_days_median", "working days", "Duration_median"),
            _m("s47_to_icpc_days_p75", "working days", "Duration_75th_Percentile"),
        ),
    ),
    Source(
        "dfe_children_in_need/d5_cpps_at31march_by_duration_2013_to_2025.csv",
        "cin",
        2025,
        _read_ees_wide,
        measures=(
            _m("cpp_at_31_march", CHILDREN, "CPP_At31"),
            _m("cpp_3_months_or_less", CHILDREN, "3_months_or_less"),
            _m("cpp_3_to_6_months", CHILDREN, "more_than_3_months_6_months"),
            _m("cpp_6_to_12_months", CHILDREN, "more_than_6_months_less_than_1_year"),
            _m("cpp_1_to_2_years", CHILDREN, "1_year_less_than_2_years"),
            _m("cpp_2_years_or_more", CHILDREN, "2_years_or_more"),
            _m("cpp_3_months_or_less_pct", PERCENT, "3_months_or_less_percent"),
            _m("cpp_3_to_6_months_pct", PERCENT, "more_than_3_months_6_months_percent"),
            _m("cpp_6_to_12_months_pct", PERCENT, "more_than_6_months_less_than_1_year_percent"),
            _m("cpp_1_to_2_years_pct", PERCENT, "1_year_less_than_2_years_percent"),
            _m("cpp_2_years_or_more_pct", PERCENT, "2_years_or_more_percent"),
        ),
    ),
    Source(
        "dfe_social_work_workforce/csww_indicators_2017_to_2025.csv",
        "workforce",
        2025,
        _read_ees_wide,
        measures=(
            _m("sw_fte_in_post", "fte", "inpost_fte"),
            _m("sw_headcount_in_post", "people", "inpost_headcount"),
            _m("sw_starters_fte", "fte", "starters_fte"),
            _m("sw_starters_headcount", "people", "starters_headcount"),
            _m("sw_leavers_fte", "fte", "leavers_fte"),
            _m("sw_leavers_headcount", "people", "leavers_headcount"),
            _m("turnover_rate_pct", PERCENT, "turnover_rate_fte"),
            _m("turnover_rate_headcount_pct", PERCENT, "turnover_rate_headcount"),
            _m("agency_fte", "fte", "agency_fte"),
            _m("agency_headcount", "people", "agency_headcount"),
            _m("agency_rate_pct", PERCENT, "agency_rate_fte"),
            _m("agency_rate_headcount_pct", PERCENT, "agency_rate_headcount"),
            _m("agency_cover_fte", "fte", "agency_cover_fte"),
            _m("agency_cover_rate_pct", PERCENT, "agency_cover_rate_fte"),
            _m("vacancy_fte", "fte", "vacancy_fte"),
            _m("vacancy_rate_pct", PERCENT, "vacancy_rate_fte"),
            _m("vacancy_agency_cover_rate_pct", PERCENT, "vacancy_agency_cover_rate_fte"),
            _m("case_holders_fte", "fte", "case_holders_fte"),
            _m("cases_held", "cases", "cases"),
            _m("caseload_per_fte", "cases per case-holding FTE", "caseload_fte"),
            _m("sickness_days_lost", "working days", "working_days_lost_fte"),
            _m("absence_rate_pct", PERCENT, "absence_rate_fte"),
        ),
    ),
    Source(
        "population/ons_mid-year_population_estimates_2012_to_2024.csv",
        "population",
        2024,
        _read_ees_wide,
        measures=(_m("population_0_17", CHILDREN, "population_estimate"),),
        filters=(("age_group", "Children aged 0 to 17 years"),),
    ),
    *(
        Source(f"{_SFR_FOLDER}/{year}/{name}", "cla_sfr", year, _read_sfr)
        for year, names in _SFR_FILES.items()
        for name in names
    ),
    Source("mhclg_la_finance/RA_2021-22_data_by_LA.csv", "ra", 2022, _read_finance, raw_text=True),
    Source("mhclg_la_finance/RA_2023-24_data_Part_1.csv", "ra", 2024, _read_finance, raw_text=True),
    Source(
        "mhclg_la_finance/RSX_2021-22_data_by_LA_Live.csv",
        "rsx",
        2022,
        _read_finance,
        raw_text=True,
    ),
    Source(
        "mhclg_la_finance/RSX_2023-24_data_by_LA.csv", "rsx", 2024, _read_finance, raw_text=True
    ),
)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _period_end(collection: str, measure: pd.Series, year: pd.Series) -> pd.Series:
    month_day = {"workforce": (9, 30)}.get(collection, (3, 31))
    ends = pd.to_datetime(
        {"year": year, "month": month_day[0], "day": month_day[1]}, errors="raise"
    )
    mid_year = pd.to_datetime({"year": year, "month": 6, "day": 30})
    return ends.where(measure != "population_0_17", mid_year)


def load_source(source: Source, folder: Path | None = None) -> pd.DataFrame:
    """Read one declared source file into the tidy layout.

    Parameters
    ----------
    source
        One of :data:`SOURCES` (or a variant of one, for tests).
    folder
        The folder holding the external files; ``data/raw/external`` by default.

    Returns
    -------
    pandas.DataFrame
        The tidy rows of that file, columns :data:`TIDY_COLUMNS`.

    Raises
    ------
    InputError
        When the file is missing, empty, in an unknown layout, or holds a value that is
        neither a number nor a publisher's symbol.
    """
    return _typed(_read_source(source, folder))


def _read_source(source: Source, folder: Path | None) -> pd.DataFrame:
    path = (folder or external_dir()) / source.path
    file = display_path(path)
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    file=file,
                    expected="the published file listed in "
                    "data/raw/external/README.md; no such file",
                    has_value=False,
                )
            ]
        )
    text = decode_text(path.read_bytes())
    if not text.strip():
        raise InputError(
            [
                Problem(
                    file=file,
                    expected="a CSV file with a header row and data rows (the file is empty)",
                    has_value=False,
                )
            ]
        )
    try:
        if source.raw_text:
            records = list(csv.reader(io.StringIO(text, newline="")))
        else:
            with warnings.catch_warnings():
                # Data rows longer than the header would silently become the index, shifting
                # every value into the wrong column; with index_col=False pandas cuts them
                # short with only this warning. Either way the file is not as published.
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(
                    io.StringIO(text),
                    dtype=str,
                    keep_default_na=False,
                    na_filter=False,
                    index_col=False,
                )
    except (
        csv.Error,
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        pd.errors.EmptyDataError,
    ) as exc:
        raise _unreadable(file, exc, text) from None
    if source.raw_text:
        tidy = source.reader(records, source, file)
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
        _check_unique_header(text, file)
        tidy = source.reader(frame, source, file)
    return _finish(tidy, source)


def _unreadable(file: str, exc: Exception, text: str) -> InputError:
    """A file the CSV reader gave up on: ragged rows, an unclosed quote, an over-long cell."""
    line = re.search(r"line (\d+)", str(exc))
    row = int(line.group(1)) if line else _first_ragged_row(text)
    return InputError(
        [
            Problem(
                file=file,
                row=row,
                expected="comma-separated values with as many cells in each row as in the "
                f"header and every opening quote closed; the reader stopped ({str(exc).strip()})",
                has_value=False,
            )
        ]
    )


def _check_unique_header(text: str, file: str) -> None:
    """Refuse a header naming a column twice (pandas would rename or keep both silently).

    Blank names are allowed: the SFR files end some headers with several empty cells.
    """
    header = [h.strip() for h in next(csv.reader(io.StringIO(text, newline="")), [])]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise InputError(
            [
                Problem(
                    file=file,
                    row=1,
                    column=name,
                    value=name,
                    expected="each column name once; this one appears more than once",
                )
                for name in repeated
            ]
        )


def _first_ragged_row(text: str) -> int | None:
    """The first row (header = 1) whose number of cells differs from the header's."""
    try:
        rows = csv.reader(io.StringIO(text, newline=""))
        width = len(next(rows))
        return next((n for n, r in enumerate(rows, start=2) if r and len(r) != width), None)
    except (csv.Error, StopIteration):
        return None


def _finish(tidy: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Add the period end, source file, edition and publication month to a reader's rows."""
    schedule = PUBLICATION_SCHEDULE[source.collection]
    tidy["year"] = tidy["year"].astype("int64")
    tidy["period_end"] = _period_end(source.collection, tidy["measure"], tidy["year"])
    tidy["source_file"] = f"{external_dir().name}/{source.path}"
    tidy["edition"] = source.edition
    first_year = tidy["year"] + schedule.year_offset
    if source.collection != "population":
        # The 2010 SFR's mid-2009 population came out with the year-2010 figures.
        first_year = first_year.mask(tidy["measure"] == "population_0_17", first_year + 1)
    tidy["published"] = pd.to_datetime({"year": first_year, "month": schedule.month, "day": 1})
    return tidy


def _typed(tidy: pd.DataFrame) -> pd.DataFrame:
    """Give the tidy columns their documented types, once for the whole table."""
    for column in (
        "geographic_level",
        "la_code",
        "la_name",
        "region_code",
        "region_name",
        "measure",
        "unit",
        "suppression",
        "source_file",
    ):
        tidy[column] = tidy[column].astype("string")
    tidy["old_la_code"] = tidy["old_la_code"].astype("Int64")
    tidy["value"] = tidy["value"].astype(float)
    tidy["source_row"] = tidy["source_row"].astype("Int64")
    tidy["source_column"] = tidy["source_column"].astype("string")
    return tidy[list(TIDY_COLUMNS)]


def _fill_geography(tidy: pd.DataFrame) -> pd.DataFrame:
    """Fill the ONS code, LA number, name and region of LA rows from the other files' rows.

    The EES files name every LA with both codes; the 2010 SFR files have only the LA number
    and the MHCLG files only the ONS code.
    """
    coded = tidy[
        (tidy["geographic_level"] == LOCAL_AUTHORITY)
        & tidy["la_code"].notna()
        & tidy["old_la_code"].notna()
    ].sort_values("year", kind="stable")
    ees = coded[coded["region_code"].notna()].drop_duplicates("la_code", keep="last")
    by_code = ees.set_index("la_code")
    # The 2010 files predate every ONS recode, so they take the code the 2011 files give.
    by_old = coded.drop_duplicates("old_la_code").set_index("old_la_code")
    is_la = tidy["geographic_level"] == LOCAL_AUTHORITY
    needs_code = is_la & tidy["la_code"].isna() & tidy["old_la_code"].notna()
    if needs_code.any():
        tidy.loc[needs_code, "la_code"] = tidy.loc[needs_code, "old_la_code"].map(by_old["la_code"])
    needs_old = is_la & tidy["old_la_code"].isna() & tidy["la_code"].notna()
    if needs_old.any():
        tidy.loc[needs_old, "old_la_code"] = (
            tidy.loc[needs_old, "la_code"].map(by_code["old_la_code"]).astype("Int64")
        )
    for column in ("region_code", "region_name"):
        gap = is_la & tidy[column].isna()
        tidy.loc[gap, column] = tidy.loc[gap, "la_code"].map(by_code[column])
    # LA names vary in spelling between publishers ('Barking & Dagenham'); the DfE's wins.
    named = is_la & tidy["la_code"].isin(by_code.index)
    tidy.loc[named, "la_name"] = tidy.loc[named, "la_code"].map(by_code["la_name"])
    return tidy


def source_paths(folder: Path | None = None) -> list[Path]:
    """Return the path of every declared source file."""
    folder = folder or external_dir()
    return [folder / s.path for s in SOURCES]


def _fingerprint(folder: Path) -> str:
    # The parser is part of the key: a changed reader must never serve an old table.
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in source_paths(folder):
        digest.update(path.as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest() if path.is_file() else b"-")
    return digest.hexdigest()[:20]


def cache_path(fingerprint: str) -> Path:
    """Where the parsed table for the given input fingerprint is cached on disk."""
    return cache_dir() / f"external_tidy_{fingerprint}.pkl"


@functools.lru_cache(maxsize=4)
def _load_cached(folder: str, fingerprint: str, use_disk: bool) -> pd.DataFrame:
    cached = cache_path(fingerprint)
    if use_disk and cached.is_file():
        try:
            frame = pd.read_pickle(cached)
            if list(frame.columns) == list(TIDY_COLUMNS):
                return frame
        except Exception:  # a stale or truncated cache is rebuilt, never trusted
            pass
    frame = parse_all(Path(folder))
    if use_disk:
        buffer = io.BytesIO()
        frame.to_pickle(buffer)
        atomic_write_bytes(cached, buffer.getvalue())
        for stale in cached.parent.glob("external_tidy_*.pkl"):
            if stale != cached:
                stale.unlink(missing_ok=True)
    return frame


def parse_all(folder: Path | None = None) -> pd.DataFrame:
    """Parse every declared source (no cache), reporting the problems of all files together.

    Raises
    ------
    InputError
        With the problems of every file that failed.
    """
    parts: list[pd.DataFrame] = []
    problems: list[Problem] = []
    for source in SOURCES:
        try:
            parts.append(_read_source(source, folder))
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    tidy = _fill_geography(_typed(pd.concat(parts, ignore_index=True)))
    return tidy.sort_values(
        ["source_file", "measure", "geographic_level", "la_code", "year"], kind="stable"
    ).reset_index(drop=True)


def load_external(folder: Path | None = None, *, use_cache: bool = True) -> pd.DataFrame:
    """Return every published figure in ``data/raw/external`` as one tidy long table.

    Parameters
    ----------
    folder
        The folder of external files; ``data/raw/external`` by default.
    use_cache
        Reuse the table parsed from identical files (in memory and in
        ``data/processed/cache``). The cache key is the SHA-256 of every file and of this
        module's code, so an edited file or a changed reader is always re-read.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`; one row per geography, year, measure and source file.
        Callers must not modify it in place (it is shared through the cache).

    Raises
    ------
    InputError
        When any file is missing or unreadable, naming file, columns, row and value.
    """
    folder = (folder or external_dir()).resolve()
    if not use_cache:
        return parse_all(folder)
    tidy = _load_cached(str(folder), _fingerprint(folder), True)
    freeze_long_lived()  # the cached table stays for the process's life, as its modules do
    return tidy


# --------------------------------------------------------------------------------------------
# Using the table
# --------------------------------------------------------------------------------------------

T = TypeVar("T")

#: What has been worked out from a table: (id of the table, name) -> (the table, the result),
#: the most recently used last. Each entry holds its table, so the id cannot pass to another.
_PER_TABLE: OrderedDict[tuple[int, str], tuple[pd.DataFrame, object]] = OrderedDict()

#: Entries kept: a month's published table and what is derived from it, the council views of
#: the last few reports, and room for a second month, without keeping every table a long-lived
#: kernel has seen.
PER_TABLE_LIMIT = 32


def once_per_table(table: pd.DataFrame, name: str, compute: Callable[[pd.DataFrame], T]) -> T:
    """``compute(table)``, worked out once for each table object and ``name``, then reused.

    The published tables are shared and never modified in place (:func:`load_external`), so
    what one council's report derives from them (the figures published by a month, where each
    council's rows are, the council lookup) also serves the next council: a batch keeps its
    kernels, and so this module, from council to council. ``name`` must say everything other
    than the table that the result depends on. The result is shared too: do not modify it.
    """
    key = (id(table), name)
    if key in _PER_TABLE:
        _PER_TABLE.move_to_end(key)
        return _PER_TABLE[key][1]  # type: ignore[return-value]
    result = compute(table)
    _PER_TABLE[key] = (table, result)
    while len(_PER_TABLE) > PER_TABLE_LIMIT:
        _PER_TABLE.popitem(last=False)
    return result


@dataclass(frozen=True)
class RowIndex:
    """Where each geography's rows are in a tidy table, as ascending row positions, so that
    finding one council's rows is a dictionary look-up instead of comparing every row's code
    (a tenth of a second for a council's report over the 157,000 published rows)."""

    by_code: dict[str, np.ndarray]
    by_la_number: dict[int, np.ndarray]
    by_joint_member: dict[str, np.ndarray]
    not_la: np.ndarray

    def of_code(self, code: str) -> np.ndarray:
        """The rows whose ``la_code`` is ``code`` (any geographic level)."""
        return self.by_code.get(code, _NO_ROWS)

    def of_codes(self, codes: Iterable[str]) -> np.ndarray:
        """The rows whose ``la_code`` is any of ``codes``, in table order."""
        return np.unique(np.concatenate([_NO_ROWS, *(self.of_code(c) for c in codes)]))

    def of_la_number(self, number: int) -> np.ndarray:
        """The local-authority rows whose ``old_la_code`` (DfE LA number) is ``number``."""
        return self.by_la_number.get(number, _NO_ROWS)

    def of_joint_member(self, code: str) -> np.ndarray:
        """The local-authority rows published for ``code`` together with other councils
        (``la_code`` ``E06000061 / E06000062`` is a row of each)."""
        return self.by_joint_member.get(code, _NO_ROWS)


_NO_ROWS = np.empty(0, dtype=np.intp)


def _build_row_index(tidy: pd.DataFrame) -> RowIndex:
    is_la = (tidy["geographic_level"] == LOCAL_AUTHORITY).to_numpy(dtype=bool)
    # a council's own extract, or a test's table, may have no DfE LA numbers
    numbers = tidy["old_la_code"].where(is_la) if "old_la_code" in tidy else pd.Series()
    by_code = tidy.groupby("la_code", sort=False).indices
    members: dict[str, list[np.ndarray]] = {}
    for text, positions in by_code.items():
        for member in text.split(" / ") if " / " in text else ():
            members.setdefault(member, []).append(positions[is_la[positions]])
    return RowIndex(
        by_code=by_code,
        by_la_number=numbers.groupby(numbers, sort=False).indices,
        by_joint_member={code: np.unique(np.concatenate(p)) for code, p in members.items()},
        not_la=np.flatnonzero(~is_la),
    )


def row_index(tidy: pd.DataFrame) -> RowIndex:
    """The :class:`RowIndex` of a tidy table (built once per table object)."""
    return once_per_table(tidy, "row_index", _build_row_index)


def rows_of(tidy: pd.DataFrame, la_code: str) -> pd.DataFrame:
    """The rows whose ``la_code`` is ``la_code`` (any geographic level), in table order."""
    return tidy.iloc[row_index(tidy).of_code(la_code)]


def latest_values(tidy: pd.DataFrame) -> pd.DataFrame:
    """Keep one row per geography, period end and measure: the one from the latest edition.

    Files overlap (the England CLA time series, the 2025 CLA file and the SFR files all give
    England's CLA at 31 March); the latest publication carries the latest revision. An LA's
    rows are keyed by its DfE LA number, so an ONS recode does not create a duplicate. A
    table without ``edition``/``old_la_code`` (a council's own extract) is keyed by code.
    """
    key = tidy["la_code"].astype("string")
    if "old_la_code" in tidy:
        key = tidy["old_la_code"].astype("string").fillna(key)
    order = [c for c in ("edition", "published") if c in tidy]
    ranked = tidy.assign(_key=key)
    if order:
        ranked = ranked.sort_values(order, kind="stable")
    subset = [c for c in ("geographic_level", "_key", "period_end", "measure") if c in ranked]
    latest = ranked.drop_duplicates(subset, keep="last")
    return latest.drop(columns="_key").sort_index()


def published_as_of(tidy: pd.DataFrame, reporting_month: str) -> pd.DataFrame:
    """Keep the figures that had been published by the end of ``reporting_month``.

    A figure counts as published from the month its reporting year's edition first appeared
    (:data:`PUBLICATION_SCHEDULE`), so a run for March 2025 sees CLA up to the year ending
    March 2024 (published November 2024) but not 2025 (November 2025).

    The same table object is returned for the same ``tidy`` and month
    (:func:`once_per_table`): do not modify it.

    Raises
    ------
    InputError
        When ``reporting_month`` is neither YYYY-MM nor YYYY-YY Pn.
    """
    month = parse_reporting_month(reporting_month).to_timestamp(how="start")
    return once_per_table(
        tidy, f"published_as_of {month:%Y-%m}", lambda t: t[t["published"] <= month]
    )


def _geography_rows(tidy: pd.DataFrame, la_code: str) -> pd.DataFrame:
    """The rows of one geography's series: an LA's by its DfE LA number when it has one."""
    index = row_index(tidy)
    rows = tidy.iloc[index.of_code(str(la_code).strip().upper())]
    if rows.empty:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="la_code",
                    value=la_code,
                    expected="an ONS code present in the published files, such "
                    "as E09000002 (see analysis.external.la_lookup())",
                )
            ]
        )
    old = rows["old_la_code"].dropna()
    if rows["geographic_level"].iloc[0] == LOCAL_AUTHORITY and not old.empty:
        rows = tidy.iloc[index.of_la_number(int(old.iloc[-1]))]
    return rows


def _as_series(rows: pd.DataFrame, measure: str) -> pd.Series:
    chosen = rows.sort_values("period_end")
    return pd.Series(
        chosen["value"].to_numpy(),
        index=pd.DatetimeIndex(chosen["period_end"], name="period_end"),
        name=measure,
    )


def series(tidy: pd.DataFrame, la_code: str, measure: str) -> pd.Series:
    """Return one geography's values of one measure, indexed by period end.

    An LA's series follows its DfE LA number, so it carries on across an ONS recode
    (Barnsley E08000016 to E08000038; North Yorkshire E10000023 to E06000065). Where files
    overlap, the latest edition's value is used (:func:`latest_values`).

    Raises
    ------
    InputError
        When the code or the measure does not occur in the table.
    """
    rows = _geography_rows(tidy, la_code)
    chosen = rows[rows["measure"] == measure]
    if chosen.empty:
        known = sorted(rows["measure"].unique())
        close = difflib.get_close_matches(measure, known, n=5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="measure",
                    value=measure,
                    expected=f"a measure published for {str(la_code).strip().upper()}{hint}",
                )
            ]
        )
    return _as_series(latest_values(chosen), measure)


def series_of_measures(
    tidy: pd.DataFrame, la_code: str, measures: Sequence[str]
) -> dict[str, pd.Series]:
    """:func:`series` of each of ``measures`` published for one geography, in their order,
    leaving out those it has none of; the geography's rows are found once for all of them.

    Raises
    ------
    InputError
        When the code does not occur in the table.
    """
    rows = _geography_rows(tidy, la_code)
    # latest_values keeps one row per measure and period end, so choosing the latest rows of
    # all the measures at once keeps, for each measure, the rows it would keep on its own.
    latest = latest_values(rows[rows["measure"].isin(list(measures))])
    groups = dict(tuple(latest.groupby("measure", sort=False)))
    return {m: _as_series(groups[m], m) for m in measures if m in groups}


def la_lookup(tidy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return every local authority in the published files: codes, name and region.

    One row per ONS code, with ``la_code``, ``old_la_code``, ``la_name``, ``region_code``,
    ``region_name``, ``first_year`` and ``last_year`` (reporting years with any figure). The
    table is shared (:func:`once_per_table`): do not modify it.

    Raises
    ------
    InputError
        When the published files cannot be read.
    """
    return once_per_table(load_external() if tidy is None else tidy, "la_lookup", _build_lookup)


def _build_lookup(tidy: pd.DataFrame) -> pd.DataFrame:
    columns = ["old_la_code", "la_name", "region_code", "region_name"]
    # only the columns needed: copying every column of 150,000 rows took most of the time
    mask = (tidy["geographic_level"] == LOCAL_AUTHORITY) & tidy["la_code"].notna()
    las = tidy.loc[mask, ["la_code", "year", *columns]]
    span = las.groupby("la_code")["year"].agg(first_year="min", last_year="max")
    ees = las[las["region_code"].notna()].sort_values("year")
    names = ees.drop_duplicates("la_code", keep="last").set_index("la_code")
    others = las.sort_values("year").drop_duplicates("la_code", keep="last").set_index("la_code")
    info = names[columns].combine_first(others[columns])
    table = info.join(span).reset_index().sort_values("la_code", ignore_index=True)
    return table[["la_code", *columns, "first_year", "last_year"]]


def resolve_la(code_or_name: str, lookup: pd.DataFrame | None = None) -> pd.Series:
    """Find one LA by ONS code, DfE LA number or name (case-insensitive).

    Parameters
    ----------
    code_or_name
        ``E09000002``, ``301`` or ``barking and dagenham`` ('&' matches 'and').
    lookup
        The table from :func:`la_lookup`; built from the published files when omitted.

    Returns
    -------
    pandas.Series
        The LA's row of the lookup.

    Raises
    ------
    InputError
        When nothing matches, listing the closest names.
    """
    table = la_lookup() if lookup is None else lookup
    text = str(code_or_name).strip()

    def norm(value: str) -> str:
        return re.sub(r"\s+", " ", value.lower().replace("&", "and")).strip()

    wanted = norm(text)
    hit = table[
        (table["la_code"].str.upper() == text.upper())
        | (table["old_la_code"].astype("string") == text)
        | (table["la_name"].map(lambda n: norm(str(n))) == wanted)
    ]
    if len(hit) >= 1:
        return hit.sort_values("last_year").iloc[-1]
    names = [str(n) for n in table["la_name"].dropna().unique()]
    by_norm = {norm(n): n for n in names}
    close = [by_norm[c] for c in difflib.get_close_matches(wanted, list(by_norm), n=5, cutoff=0.6)]
    close += [n for n in names if wanted and wanted in norm(n) and n not in close][:5]
    hint = (
        f"; the closest are {', '.join(close)}"
        if close
        else "; see analysis.external.la_lookup() for the list"
    )
    raise InputError(
        [
            Problem(
                file="parameters",
                column="la_code",
                value=code_or_name,
                expected="an English local authority's ONS code (such as "
                f"E09000002), DfE LA number (301) or name{hint}",
            )
        ]
    )


def boundary_changes(tidy: pd.DataFrame) -> pd.DataFrame:
    """Report the LAs that appear, disappear or change ONS code between reporting years.

    A change is looked for within each measure, between consecutive years that both have
    figures for it, so a gap in coverage (CLA at 31 March 2018-2020) is not a change.

    Returns
    -------
    pandas.DataFrame
        One row per LA, year and change (``appears``: first year present; ``disappears``: the
        first year absent; ``code changed``: the LA number's ONS code differs from the year
        before), with ``old_la_code``, ``la_name``, ``previous_code``, the number of measures
        showing it and the source files.
    """
    las = tidy[(tidy["geographic_level"] == LOCAL_AUTHORITY) & tidy["la_code"].notna()]
    present = pd.DataFrame(
        {
            "measure": las["measure"].astype(str),
            "year": las["year"].astype(int),
            "la_code": las["la_code"].astype(str),
            "old_la_code": las["old_la_code"],
            "la_name": las["la_name"].astype(str),
            "source_file": las["source_file"].astype(str),
        }
    ).drop_duplicates(["measure", "year", "la_code"])
    covered = present[["measure", "year"]].drop_duplicates()
    # Pairs (measure, year) whose year before also has figures: only these are compared.
    compared = covered.merge(covered.assign(year=covered["year"] + 1), on=["measure", "year"])
    after = present.merge(compared, on=["measure", "year"])
    before = present.merge(compared.assign(year=compared["year"] - 1), on=["measure", "year"])
    shifted_before = before.assign(year=before["year"] + 1)
    shifted_after = after.assign(year=after["year"] - 1)

    def absent(rows: pd.DataFrame, other: pd.DataFrame, on: list[str]) -> pd.Series:
        match = rows[on].merge(other[on].drop_duplicates(), on=on, how="left", indicator=True)
        return pd.Series(match["_merge"].to_numpy() == "left_only", index=rows.index)

    new = after[absent(after, shifted_before, ["measure", "year", "la_code"])]
    previous = shifted_before.dropna(subset=["old_la_code"]).drop_duplicates(
        ["measure", "year", "old_la_code"]
    )[["measure", "year", "old_la_code", "la_code"]]
    new = new.merge(
        previous.rename(columns={"la_code": "previous_code"}),
        on=["measure", "year", "old_la_code"],
        how="left",
    )
    new["change"] = np.where(new["previous_code"].notna(), "code changed", "appears")
    gone = before[absent(before, shifted_after, ["measure", "year", "la_code"])]
    recoded = ~absent(
        gone.dropna(subset=["old_la_code"]), shifted_after, ["measure", "year", "old_la_code"]
    )
    gone = gone.drop(index=recoded.index[recoded])
    gone = gone.assign(year=gone["year"] + 1, change="disappears", previous_code=pd.NA)
    found = pd.concat([new, gone], ignore_index=True)
    columns = ["year", "change", "la_code", "old_la_code", "la_name", "previous_code"]
    if found.empty:
        return pd.DataFrame(columns=[*columns, "measures", "source_files"])
    found["previous_code"] = found["previous_code"].astype("string")
    grouped = found.groupby(columns, dropna=False, sort=True).agg(
        measures=("measure", "nunique"),
        source_files=("source_file", lambda s: "; ".join(sorted(set(s)))),
    )
    return grouped.reset_index()
