"""Reconciliation of the published seed tables: do they add up, as a finance reviewer checks?

This module owns the checks of whether the published figures are consistent with themselves,
and the findings table that reports each check. It never corrects a published figure: a
difference is reported (where, by how much, against what tolerance), not fixed.

Checks
------
``tom_structures.csv``
    each structure's ``Total`` row against the sum of its budget areas, for every numeric
    column; each row's funding sources (care and support + other council + external) against
    its true cost; each row's true cost not below its base cost.
``budget_trajectory.csv``
    opening + movements against closing, for the budget and the out-turn of each year; each
    year's closing against the next year's opening; the published variance against out-turn
    closing minus budget closing.

Tolerances respect the printed rounding
---------------------------------------
A figure printed to one decimal (``34.4``) is good to half a unit of its last printed digit
(±0.05). The tolerance is read from the text as printed in the raw file, never from the
parsed number, because ``1.0`` and ``1`` are the same float but not the same print. For a sum
the half-units add up over every printed figure involved (the terms and the published total);
for the same figure printed twice (a closing carried to the next opening) it is half a unit of
the coarser print. Whole numbers in ``tom_structures.csv`` are pounds and posts printed in full,
not rounded, so their tolerance is zero: a difference of £1 there is a real difference.

Blank published cells
---------------------
A blank cell is "not printed", never zero. A check that needs it is reported with status
``not_printed``: computed from the printed figures only (said so in words), plus a finding for
the blank cell giving the value the printed figures imply for it.

Findings
--------
One row per check, columns :data:`FINDING_COLUMNS`: ``table`` (the file), ``row`` (the row as a
person counts it in the file, header = 1), ``column``, ``published``, ``computed``,
``difference`` (published minus computed), ``tolerance``, ``status`` (``agrees``, ``differs``
or ``not_printed``) and ``check`` (the check in words, with its tolerance). Other modules that
reconcile (for example a stock-and-flow of children looked after) build their rows with
:func:`finding` so that every findings table has the same shape.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import pandas as pd

from analysis.loaders import FUNDING_COLUMNS, SEED_TABLES, TOTAL_AREA
from analysis.paths import seed_dir

FINDING_COLUMNS = (
    "table",
    "row",
    "column",
    "published",
    "computed",
    "difference",
    "tolerance",
    "status",
    "check",
)

AGREES = "agrees"
DIFFERS = "differs"
NOT_PRINTED = "not_printed"
#: Statuses in the order a reviewer reads them: what is wrong first.
STATUS_ORDER = (DIFFERS, NOT_PRINTED, AGREES)

TOM_FILE = SEED_TABLES["tom_structures"][0]
TRAJECTORY_FILE = SEED_TABLES["budget_trajectory"][0]

_TOM_NUMERIC = (
    "fte",
    "cost_gbp",
    "true_cost_gbp",
    *FUNDING_COLUMNS,
)
_TRAJECTORY_SIDES = ("budget", "outturn")

# Binary floating point turns 34.4 - 34.34 into 0.0600000000000023; every printed figure has
# far fewer decimals than this, so rounding here removes only that noise.
_NOISE_DECIMALS = 9


def finding(
    *,
    table: str,
    row: int | None,
    column: str,
    check: str,
    published: float,
    computed: float,
    tolerance: float,
    comparison: Literal["equal", "at_least"] = "equal",
    not_printed: bool = False,
) -> dict[str, object]:
    """Return one findings row, with its difference and status worked out.

    Parameters
    ----------
    table
        The file the published figure comes from, as a person knows it.
    row
        The row of the published figure as a person counts it in the file (header = 1).
    column
        The column of the published figure.
    check
        The check in words, including its tolerance.
    published
        The figure as printed; NaN when the cell is blank.
    computed
        The figure the other published figures imply; NaN when it cannot be computed.
    tolerance
        How far apart the two may be because of printed rounding (same unit as the figures).
    comparison
        ``"equal"``: agrees when ``|published - computed| <= tolerance``; ``"at_least"``:
        agrees when ``published >= computed - tolerance`` (for example true cost not below
        base cost).
    not_printed
        True when a figure the check needs was not printed: the status is then
        ``not_printed`` whatever the numbers say.

    Returns
    -------
    dict
        Keyed by :data:`FINDING_COLUMNS`; ``difference`` is published minus computed.

    Raises
    ------
    ValueError
        When ``tolerance`` is negative or ``comparison`` is unknown.
    """
    if tolerance < 0 or math.isnan(tolerance):
        raise ValueError(f"tolerance must be zero or more, not {tolerance}")
    if comparison not in ("equal", "at_least"):
        raise ValueError(f"comparison must be 'equal' or 'at_least', not {comparison!r}")
    difference = round(published - computed, _NOISE_DECIMALS)
    if not_printed or math.isnan(difference):
        status = NOT_PRINTED
    elif comparison == "equal":
        status = AGREES if abs(difference) <= tolerance else DIFFERS
    else:
        status = AGREES if difference >= -tolerance else DIFFERS
    return {
        "table": table,
        "row": row,
        "column": column,
        "published": published,
        "computed": round(computed, _NOISE_DECIMALS),
        "difference": difference,
        "tolerance": round(tolerance, _NOISE_DECIMALS),
        "status": status,
        "check": check,
    }


def findings_frame(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Return findings rows (from :func:`finding`) as a DataFrame with the standard columns."""
    frame = pd.DataFrame(list(rows), columns=list(FINDING_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    for column in ("published", "computed", "difference", "tolerance"):
        frame[column] = frame[column].astype(float)
    return frame


def half_unit(printed: str, *, whole_numbers_exact: bool = False) -> float:
    """Return half a unit of the last printed digit of ``printed``: how far rounding can move it.

    ``"34.4"`` gives 0.05, ``"-1.12"`` gives 0.005, ``"0.922"`` gives 0.0005. A whole number
    gives 0.5, or 0 when ``whole_numbers_exact`` (figures printed in full, such as whole pounds).
    A blank cell gives 0: it enters no sum.

    Raises
    ------
    ValueError
        When ``printed`` is not a plain number.
    """
    text = printed.strip()
    if text == "":
        return 0.0
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        raise ValueError(f"not a plain number: {printed!r}") from None
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {printed!r}")
    if exponent >= 0 and whole_numbers_exact:
        return 0.0
    return 0.5 * 10.0**exponent


def read_printed_text(path: Path) -> pd.DataFrame:
    """Return every cell of a CSV file as printed (stripped text), indexed like the loaders.

    The index is the row as a person counts it in the file (header = 1), matching the index
    of :func:`analysis.tables.read_table`, so a loaded figure can be paired with its print.

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    text = Path(path).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    header = [name.strip() for name in rows[0]]
    records = {
        number: [cell.strip() for cell in cells]
        for number, cells in enumerate(rows[1:], start=2)
        if any(cell.strip() for cell in cells)
    }
    return pd.DataFrame.from_dict(records, orient="index", columns=header).rename_axis("row")


@dataclass(frozen=True)
class _Cell:
    """One published figure: where it is, what it says, and how it was printed."""

    row: int
    column: str
    label: str
    value: float
    text: str

    @property
    def blank(self) -> bool:
        return math.isnan(self.value)


def _cell(frame: pd.DataFrame, printed: pd.DataFrame, row: int, column: str, label: str) -> _Cell:
    return _Cell(
        row=int(row),
        column=column,
        label=label,
        value=float(frame.at[row, column]),
        text=str(printed.at[row, column]),
    )


def _number(value: float) -> str:
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _tolerance_words(tolerance: float, figures: int, how: str) -> str:
    if tolerance == 0:
        return f"tolerance 0 ({how})"
    return f"tolerance ±{_number(tolerance)} ({how}, {figures} figures)"


def _sum_check(
    *,
    table: str,
    published: _Cell,
    terms: Sequence[_Cell],
    description: str,
    whole_numbers_exact: bool,
) -> list[dict[str, object]]:
    """Check a published figure against the sum of other published figures.

    Blank terms are left out of the sum and reported: the check is then ``not_printed``, and
    when exactly one term is blank a second finding gives the value it would have to hold.
    """
    printed_terms = [t for t in terms if not t.blank]
    blank_terms = [t for t in terms if t.blank]
    computed = math.fsum(t.value for t in printed_terms)
    halves = [half_unit(c.text, whole_numbers_exact=whole_numbers_exact) for c in printed_terms]
    if not published.blank:
        halves.append(half_unit(published.text, whole_numbers_exact=whole_numbers_exact))
    tolerance = math.fsum(halves)
    how = (
        "whole figures printed in full"
        if whole_numbers_exact and tolerance == 0
        else "half the last printed digit of each figure, added up"
    )
    words = f"{description}; {_tolerance_words(tolerance, len(halves), how)}"
    if published.blank:
        words += f"; the published '{published.label}' is not printed"
    rows = []
    if blank_terms:
        left_out = ", ".join(f"'{t.label}' (row {t.row})" for t in blank_terms)
        words += f"; not printed, so left out of the sum (not taken as zero): {left_out}"
        if not published.blank:
            gap = round(published.value - computed, _NOISE_DECIMALS)
            verdict = "agree" if abs(gap) <= tolerance else "differ"
            nil = "it were" if len(blank_terms) == 1 else "they were"
            words += f"; if {nil} nil the figures would {verdict}"
    rows.append(
        finding(
            table=table,
            row=published.row,
            column=published.column,
            check=words,
            published=published.value,
            computed=computed,
            tolerance=tolerance,
            not_printed=bool(blank_terms),
        )
    )
    if len(blank_terms) == 1 and not published.blank:
        blank = blank_terms[0]
        rows.append(
            finding(
                table=table,
                row=blank.row,
                column=blank.column,
                check=f"'{blank.label}' is not printed; computed is the value the other printed "
                f"figures imply for it ('{published.label}', row {published.row}, minus the "
                f"printed terms), ±{_number(tolerance)}",
                published=math.nan,
                computed=published.value - computed,
                tolerance=tolerance,
                not_printed=True,
            )
        )
    return rows


def _check_printed_matches(
    frame: pd.DataFrame, printed: pd.DataFrame, columns: Sequence[str]
) -> None:
    """Refuse to reconcile a table against the print of a different file."""
    for column in columns:
        for row, value in frame[column].items():
            text = printed.at[row, column] if row in printed.index else None
            as_printed = math.nan if not text else float(text)
            same = (math.isnan(value) and math.isnan(as_printed)) or value == as_printed
            if not same:
                raise ValueError(
                    f"row {row}, column {column!r}: the table holds {value} but the file prints "
                    f"{text!r}; reconcile a table with the file it was loaded from"
                )


def reconcile_tom_structures(
    structures: pd.DataFrame, printed: pd.DataFrame, *, table: str = TOM_FILE
) -> pd.DataFrame:
    """Check the Target Operating Model structures table adds up.

    Parameters
    ----------
    structures
        As returned by :func:`analysis.loaders.load_tom_structures`.
    printed
        The same file's cells as printed (:func:`read_printed_text`), for the tolerances.
    table
        The file name used in the findings.

    Returns
    -------
    pandas.DataFrame
        Findings (:data:`FINDING_COLUMNS`): per structure with a ``Total`` row, that row
        against the sum of its budget areas for every numeric column (a structure of several
        areas without one is reported as not printed; a single-area structure, like the
        published Before structure, is its own total); per row, funding
        sources against true cost and true cost not below base cost. Whole pounds and posts
        are printed in full, so the tolerances are zero.

    Raises
    ------
    ValueError
        When ``printed`` is not the print of ``structures``.
    """
    _check_printed_matches(structures, printed, _TOM_NUMERIC)
    rows: list[dict[str, object]] = []
    for structure in structures["structure"].drop_duplicates():
        group = structures[structures["structure"] == structure]
        areas = group[group["budget_area"] != TOTAL_AREA]
        totals = group[group["budget_area"] == TOTAL_AREA]
        span = f"rows {int(areas.index.min())}-{int(areas.index.max())}" if len(areas) else ""
        if totals.empty and len(areas) > 1:
            rows += [
                finding(
                    table=table,
                    row=None,
                    column=column,
                    check=f"{structure}: no Total row printed; computed is the sum of its "
                    f"{len(areas)} budget areas ({span})",
                    published=math.nan,
                    computed=math.fsum(areas[column].dropna()),
                    tolerance=0.0,
                    not_printed=True,
                )
                for column in _TOM_NUMERIC
            ]
        if totals.empty or areas.empty:
            continue
        total_row = int(totals.index[0])
        for column in _TOM_NUMERIC:
            terms = [
                _cell(structures, printed, r, column, f"{structure} {area}")
                for r, area in areas["budget_area"].items()
            ]
            rows += _sum_check(
                table=table,
                published=_cell(structures, printed, total_row, column, f"{structure} Total"),
                terms=terms,
                description=f"{structure} Total {column} against the sum of its "
                f"{len(terms)} budget areas ({span})",
                whole_numbers_exact=True,
            )
    for row, record in structures.iterrows():
        label = f"{record['structure']} {record['budget_area']}"
        rows += _sum_check(
            table=table,
            published=_cell(structures, printed, row, "true_cost_gbp", f"{label} true cost"),
            terms=[_cell(structures, printed, row, c, c) for c in FUNDING_COLUMNS],
            description=f"{label}: funding sources (care and support + other council + "
            "external) against true cost",
            whole_numbers_exact=True,
        )
    for row, record in structures.iterrows():
        true_cost = _cell(structures, printed, row, "true_cost_gbp", "true cost")
        base_cost = _cell(structures, printed, row, "cost_gbp", "base cost")
        tolerance = half_unit(true_cost.text, whole_numbers_exact=True) + half_unit(
            base_cost.text, whole_numbers_exact=True
        )
        rows.append(
            finding(
                table=table,
                row=int(row),
                column="true_cost_gbp",
                check=f"{record['structure']} {record['budget_area']}: true cost not below "
                f"base cost (cost_gbp); {_tolerance_words(tolerance, 2, 'figures in full')}",
                published=true_cost.value,
                computed=base_cost.value,
                tolerance=tolerance,
                comparison="at_least",
            )
        )
    return findings_frame(rows)


def _one(frame: pd.DataFrame, year: str, side: str, kind: str) -> pd.DataFrame:
    mask = (frame["financial_year"] == year) & (frame["side"] == side) & (frame["kind"] == kind)
    return frame[mask]


def reconcile_budget_trajectory(
    trajectory: pd.DataFrame, printed: pd.DataFrame, *, table: str = TRAJECTORY_FILE
) -> pd.DataFrame:
    """Check the budget and out-turn build-up adds up, year by year and across years.

    Parameters
    ----------
    trajectory
        As returned by :func:`analysis.loaders.load_budget_trajectory` (£m).
    printed
        The same file's cells as printed (:func:`read_printed_text`), for the tolerances.
    table
        The file name used in the findings.

    Returns
    -------
    pandas.DataFrame
        Findings (:data:`FINDING_COLUMNS`): per year and side (budget, out-turn), opening +
        movements against closing; each closing against the next year's opening; each
        published variance against out-turn closing minus budget closing. Tolerances are half
        the last printed digit of each figure, added up (a figure printed to £0.1m is good to
        ±£0.05m).

    Raises
    ------
    ValueError
        When ``printed`` is not the print of ``trajectory``, or a year and side has more than
        one opening, closing or published variance.
    """
    _check_printed_matches(trajectory, printed, ("amount_gbp_m",))
    column = "amount_gbp_m"

    def cell(row: object) -> _Cell:
        return _cell(trajectory, printed, int(row), column, str(trajectory.at[row, "line"]))

    def single(year: str, side: str, kind: str) -> _Cell | None:
        found = _one(trajectory, year, side, kind)
        if len(found) > 1:
            raise ValueError(f"{year} {side}: {len(found)} {kind} lines; expected one")
        return cell(found.index[0]) if len(found) else None

    years = sorted(trajectory["financial_year"].unique())
    rows: list[dict[str, object]] = []
    for year in years:
        for side in _TRAJECTORY_SIDES:
            opening = single(year, side, "opening")
            closing = single(year, side, "closing")
            if opening is None or closing is None:
                continue
            movements = [cell(r) for r in _one(trajectory, year, side, "movement").index]
            moves = f"{len(movements)} movements" if movements else "no movements (none printed)"
            rows += _sum_check(
                table=table,
                published=closing,
                terms=[opening, *movements],
                description=f"{year} {side}: '{opening.label}' + {moves} against '{closing.label}'",
                whole_numbers_exact=False,
            )
    for earlier, later in zip(years, years[1:], strict=False):
        for side in _TRAJECTORY_SIDES:
            closing = single(earlier, side, "closing")
            opening = single(later, side, "opening")
            if closing is None or opening is None:
                continue
            tolerance = max(half_unit(closing.text), half_unit(opening.text))
            rows.append(
                finding(
                    table=table,
                    row=opening.row,
                    column=column,
                    check=f"{later} {side} opening '{opening.label}' against the {earlier} "
                    f"closing '{closing.label}' (row {closing.row}); "
                    + _tolerance_words(
                        tolerance,
                        2,
                        "the same figure printed twice: half the last digit of the coarser print",
                    ),
                    published=opening.value,
                    computed=closing.value,
                    tolerance=tolerance,
                    not_printed=opening.blank or closing.blank,
                )
            )
    for year in years:
        variance = single(year, "variance", "published")
        budget = single(year, "budget", "closing")
        outturn = single(year, "outturn", "closing")
        if variance is None or budget is None or outturn is None:
            continue
        tolerance = math.fsum(half_unit(c.text) for c in (variance, budget, outturn))
        rows.append(
            finding(
                table=table,
                row=variance.row,
                column=column,
                check=f"{year} published variance against out-turn closing '{outturn.label}' "
                f"(row {outturn.row}) minus budget closing '{budget.label}' (row {budget.row}); "
                + _tolerance_words(
                    tolerance, 3, "half the last printed digit of each figure, added up"
                ),
                published=variance.value,
                computed=outturn.value - budget.value,
                tolerance=tolerance,
                not_printed=budget.blank or outturn.blank,
            )
        )
    return findings_frame(rows)


def reconcile_seed_tables(
    tables: Mapping[str, pd.DataFrame], folder: Path | None = None
) -> pd.DataFrame:
    """Reconcile every published seed table that has figures to add up.

    Parameters
    ----------
    tables
        As returned by :func:`analysis.loaders.load_seed_tables`.
    folder
        The folder the tables were loaded from (default: the seed folder); its files are read
        again as text for the printed precision of each figure.

    Returns
    -------
    pandas.DataFrame
        Every finding (:data:`FINDING_COLUMNS`), Target Operating Model structures first, then
        the budget trajectory, in the order of the checks.

    Raises
    ------
    KeyError
        When ``tables`` lacks ``tom_structures`` or ``budget_trajectory``.
    ValueError
        When a table does not match the file it is said to come from.
    OSError
        When a file cannot be read.
    """
    folder = folder or seed_dir()
    parts = [
        reconcile_tom_structures(
            tables["tom_structures"], read_printed_text(folder / TOM_FILE), table=TOM_FILE
        ),
        reconcile_budget_trajectory(
            tables["budget_trajectory"],
            read_printed_text(folder / TRAJECTORY_FILE),
            table=TRAJECTORY_FILE,
        ),
    ]
    return pd.concat(parts, ignore_index=True)


def _figure(value: float, *, signed: bool = False, plus_minus: bool = False) -> str:
    if pd.isna(value):
        return "not printed" if not signed else "–"
    text = _number(value)
    if plus_minus:
        return f"±{text}" if value else "0"
    return f"+{text}" if signed and value > 0 else text


def format_findings(findings: pd.DataFrame) -> str:
    """Return the findings as a plain-text table for a terminal, differences first.

    Each finding takes one line of figures and, indented below it, the check in words. The
    last line counts the findings by status.

    Raises
    ------
    KeyError
        When ``findings`` lacks one of :data:`FINDING_COLUMNS`.
    """
    order = {status: rank for rank, status in enumerate(STATUS_ORDER)}
    ranked = findings.assign(_rank=findings["status"].map(order).fillna(len(order)))
    ranked = ranked.sort_values("_rank", kind="stable")
    headings = ("status", "where", "column", "published", "computed", "difference", "tolerance")
    lines = [
        (
            str(r["status"]),
            f"{r['table']} row {r['row']}" if not pd.isna(r["row"]) else str(r["table"]),
            str(r["column"]),
            _figure(r["published"]),
            _figure(r["computed"]),
            _figure(r["difference"], signed=True),
            _figure(r["tolerance"], plus_minus=True),
            str(r["check"]),
        )
        for _, r in ranked.iterrows()
    ]
    widths = [max([len(h), *(len(line[i]) for line in lines)]) for i, h in enumerate(headings)]
    right = {3, 4, 5, 6}

    def layout(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    out = [layout(headings), layout(["-" * w for w in widths])]
    for line in lines:
        out.append(layout(line[:-1]))
        out.append(f"    {line[-1]}")
    counts = findings["status"].value_counts()
    verbs = {DIFFERS: "differ", NOT_PRINTED: "not printed", AGREES: "agree"}
    summary = ", ".join(f"{int(counts.get(status, 0))} {verbs[status]}" for status in STATUS_ORDER)
    out.append("")
    out.append(f"{len(findings)} checks: {summary}.")
    return "\n".join(out)
