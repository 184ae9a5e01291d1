"""Disclosure control: what may be published of a table of counts of children.

This module owns the one decision every table and chart of counts of children goes through,
:func:`protect_counts`, and the way a protected count is written (:func:`format_count`).

The rules follow the Department for Education's published conventions for its children's
social care statistics (children in need census, SSDA903 children looked after):

* **Primary suppression.** At local-authority level "any number between 1 and 5 inclusive has
  been suppressed and replaced by 'c'" (DfE, *Characteristics of children in need*, methodology,
  confidentiality). ``threshold`` (default 5) is the largest count suppressed. A non-whole count
  (a forecast) is suppressed when it would be written as 1 to ``threshold``, or is above 0 but
  would be written as 0.
* **Zero is published.** "Where any number is shown as zero, the original figure submitted was
  zero" (DfE, *Children looked after*, methodology): zeros are not suppressed, unless a zero is
  the only cell left that can stop a suppressed cell being worked out (see below).
* **Secondary suppression.** "Secondary suppression has been applied where necessary, to
  preserve confidentiality." A reader knows every published cell and every total (a table's
  own totals, and, by default, the sum along any axis without a total in the table, since such
  totals are usually published elsewhere). A suppressed cell must not be derivable from those
  by addition and subtraction. Whenever a row or column group has exactly one suppressed cell,
  the next-smallest published cell of that group is suppressed too (non-zero cells before
  zeros, inner cells before totals), repeated until no group has exactly one. Patterns in which
  every group has two suppressed cells can still give a cell away (a suppressed cell joining
  two otherwise separate blocks of suppressions); an exact linear-algebra check finds such
  cells and suppresses a further cell next to them.
* **Rounding.** "England and regional totals are rounded to the nearest 10" (same source).
  ``rounding_base=10`` rounds every published cell to the nearest 10 (halves up); for national
  and regional tables use ``threshold=0, rounding_base=10``. A cell that is not zero but rounds
  to zero is shown as ``k`` (GSS symbol: "rounds to zero but is not zero").

Cells missing in the input (NaN: not available, or already suppressed by the publisher) stay
hidden, shown as ``x``, and are protected as if suppressed: a total published here could
otherwise give them away.

Symbols are the Government Statistical Service's: ``c`` confidential, ``x`` not available,
``k`` rounds to zero but is not zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.formatting import count

CONFIDENTIAL = "c"
NOT_AVAILABLE = "x"
ROUNDS_TO_ZERO = "k"

#: How far a null-space component must be from zero to count (values are 0, ±1 combinations).
_NULL_TOLERANCE = 1e-9


def _round_half_up(values: np.ndarray, base: int) -> np.ndarray:
    return np.floor(values / base + 0.5) * base


def _as_long(
    counts: pd.DataFrame, value: str | None, groups: Sequence[str] | None
) -> tuple[pd.DataFrame, list[str], str]:
    """Return the table as one row per cell, its group columns and its value column."""
    if value is None:
        row_axis = counts.index.name or "row"
        column_axis = counts.columns.name or "column"
        if row_axis == column_axis:
            raise ValueError(f"the index and columns are both named {row_axis!r}")
        long = (
            counts.rename_axis(index=row_axis, columns=column_axis)
            .stack(future_stack=True)
            .rename("count")
            .reset_index()
        )
        return long, [row_axis, column_axis], "count"
    if value not in counts.columns:
        raise ValueError(f"no column {value!r}; the columns are {list(counts.columns)}")
    chosen = list(groups) if groups is not None else [c for c in counts.columns if c != value]
    missing = [g for g in chosen if g not in counts.columns]
    if missing:
        raise ValueError(f"no group column(s) {missing}; the columns are {list(counts.columns)}")
    if not chosen:
        raise ValueError("a long table needs at least one group column besides the value")
    return counts.reset_index(drop=True), chosen, value


def _lines(
    labels: pd.DataFrame, total_label: object, margins_known: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return every additive relation between cells: (cell positions, coefficients).

    Along each group column, the cells that share every other group's label form a line. A
    line holding a total cell says inner cells minus the total is zero; a line without one says
    its sum is known (only when ``margins_known``).
    """
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    is_total_label = (labels == total_label).to_numpy()
    cells = labels.index.to_numpy()
    for column_number, axis in enumerate(labels.columns):
        others = [c for c in labels.columns if c != axis]
        # Lines in the order their first cell appears, cells in table order (as iterating a
        # groupby gives them), found with NumPy rather than a pandas look-up per line.
        line_of = (
            labels.groupby(others, sort=False, dropna=False).ngroup().to_numpy()
            if others
            else np.zeros(len(labels), dtype=int)
        )
        order = np.argsort(line_of, kind="stable")
        for rows in np.split(order, np.flatnonzero(np.diff(line_of[order])) + 1):
            totals = is_total_label[rows, column_number]
            if totals.all():
                continue
            if not totals.any() and not margins_known:
                continue
            lines.append((cells[rows], np.where(totals, -1.0, 1.0)))
    return lines


def _determined(lines: list[tuple[np.ndarray, np.ndarray]], hidden: np.ndarray) -> np.ndarray:
    """Return which hidden cells a reader can work out exactly from the published ones.

    A hidden cell is determined when every change to the hidden cells that keeps all the
    line relations true leaves it unchanged: its component is zero in every null-space
    vector of the relations restricted to the hidden cells.
    """
    hidden_positions = np.flatnonzero(hidden)
    result = np.zeros_like(hidden)
    if hidden_positions.size == 0:
        return result
    column_of = {int(p): i for i, p in enumerate(hidden_positions)}
    rows = []
    for positions, coefficients in lines:
        row = np.zeros(hidden_positions.size)
        for position, coefficient in zip(positions, coefficients, strict=True):
            if int(position) in column_of:
                row[column_of[int(position)]] = coefficient
        if row.any():
            rows.append(row)
    if not rows:
        return result
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > _NULL_TOLERANCE * max(matrix.shape)).sum())
    null_space = vt[rank:]
    free = (np.abs(null_space) > _NULL_TOLERANCE).any(axis=0)
    result[hidden_positions[~free]] = True
    return result


def _secondary(
    values: np.ndarray,
    hidden: np.ndarray,
    is_total: np.ndarray,
    lines: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Return the cells to suppress besides ``hidden`` so no hidden cell can be worked out."""
    hidden = hidden.copy()
    preference = np.lexsort((np.arange(values.size), values, is_total, values == 0))
    rank = np.empty(values.size, dtype=int)
    rank[preference] = np.arange(values.size)

    def best(candidates: np.ndarray) -> int | None:
        visible = candidates[~hidden[candidates]]
        return int(visible[np.argmin(rank[visible])]) if visible.size else None

    while True:
        added = False
        for positions, _ in lines:
            if hidden[positions].sum() == 1:
                pick = best(positions)
                if pick is not None:
                    hidden[pick] = True
                    added = True
        if added:
            continue
        for cell in np.flatnonzero(_determined(lines, hidden)):
            neighbours = np.unique(np.concatenate([p for p, _ in lines if cell in p]))
            pick = best(neighbours)
            if pick is not None:
                hidden[pick] = True
                added = True
                break
        if not added:
            return hidden


def protect_counts(
    counts: pd.DataFrame,
    *,
    value: str | None = None,
    groups: Sequence[str] | None = None,
    total_label: object = "Total",
    threshold: int = 5,
    rounding_base: int | None = None,
    margins_known: bool = True,
) -> pd.DataFrame:
    """Decide what may be published of a table of counts of children.

    Parameters
    ----------
    counts
        Either a **long** table (one row per cell: group columns and a value column; pass
        ``value``), or a **2-D** table (index = row labels, columns = column labels, cells =
        counts; leave ``value`` as None). Either may hold totals, labelled ``total_label`` in
        a group column (long) or in the index or columns (2-D).
    value
        The column of counts in a long table; None for a 2-D table.
    groups
        The group columns of a long table (default: every column but ``value``). Other
        columns are carried through unchanged.
    total_label
        The label of a total in any group (``"Total"``).
    threshold
        The largest count suppressed (DfE: 5, so 1 to 5 become ``c``). 0 turns suppression off.
    rounding_base
        Round every published count to the nearest multiple (DfE national and regional
        figures: 10). None publishes counts unrounded (DfE local-authority figures).
    margins_known
        Whether a reader knows the sum along a group that has no total in the table (it is
        usually published elsewhere). True is the safe default.

    Returns
    -------
    pandas.DataFrame
        One row per cell (a 2-D table comes back long, with columns named after its index and
        columns, or ``row`` and ``column``, and ``count``): the group columns, the value column
        holding what may be published (NaN where hidden), ``symbol`` (``""``, ``"c"``,
        ``"x"`` or ``"k"``) and ``reason`` (why it is hidden or changed; ``""`` when
        published as it is). Write each cell with :func:`format_count`.

    Raises
    ------
    ValueError
        When a count is negative or infinite, a cell appears twice,
        ``threshold`` is negative or ``rounding_base`` is below 1, or a named column is
        missing.
    """
    if threshold < 0:
        raise ValueError(f"threshold must be 0 or more, not {threshold}")
    if rounding_base is not None and rounding_base < 1:
        raise ValueError(f"rounding_base must be 1 or more, not {rounding_base}")
    long, group_columns, value_column = _as_long(counts, value, groups)
    values = pd.to_numeric(long[value_column], errors="raise").to_numpy(dtype=float)
    if (values < 0).any() or np.isinf(values).any():
        bad = values[(values < 0) | np.isinf(values)][0]
        raise ValueError(f"counts must be finite and zero or more; found {bad}")
    labels = long[group_columns]
    duplicated = labels.duplicated(keep=False)
    if duplicated.any():
        first = labels[duplicated].iloc[0].tolist()
        raise ValueError(f"the cell {first} appears more than once")
    is_total = (labels == total_label).any(axis=1).to_numpy()

    missing = np.isnan(values)
    primary = (values > 0) & (values < threshold + 0.5) if threshold > 0 else np.zeros_like(missing)
    lines = _lines(labels, total_label, margins_known)
    hidden = _secondary(values, primary | missing, is_total, lines)
    secondary = hidden & ~primary & ~missing

    published = np.where(hidden, np.nan, values)
    symbol = np.full(values.size, "", dtype=object)
    reason = np.full(values.size, "", dtype=object)
    if rounding_base is not None:
        rounded = _round_half_up(published, rounding_base)
        changed = ~hidden & (rounded != published)
        reason[changed] = f"rounded to the nearest {rounding_base}"
        to_zero = ~hidden & (rounded == 0) & (published > 0)
        symbol[to_zero] = ROUNDS_TO_ZERO
        reason[to_zero] = f"not zero, but rounds to zero at the nearest {rounding_base}"
        published = np.where(to_zero, np.nan, rounded)
    symbol[missing] = NOT_AVAILABLE
    reason[missing] = "not available in the input"
    symbol[primary] = CONFIDENTIAL
    reason[primary] = f"a count of 1 to {threshold}: suppressed so no child can be identified"
    symbol[secondary] = CONFIDENTIAL
    reason[secondary] = "suppressed so that another 'c' cell cannot be worked out from the totals"

    result = long.copy()
    result[value_column] = published
    result["symbol"] = pd.Series(symbol, index=result.index, dtype="str")
    result["reason"] = pd.Series(reason, index=result.index, dtype="str")
    return result


def format_count(value: float | None, symbol: str = "") -> str:
    """Write a protected count for a table or chart label: its symbol, or ``1,234``.

    ``format_count(3, "c")`` gives ``"c"``, ``format_count(1234.0)`` gives ``"1,234"``; a
    missing value without a symbol gives the house's missing mark.
    """
    return symbol or count(value)


def display_table(
    protected: pd.DataFrame, *, index: str, columns: str, value: str = "count"
) -> pd.DataFrame:
    """Return a protected long table as a 2-D table of written counts (``c``, ``1,234``).

    Labels keep the order they first appear in, so a 2-D table given to
    :func:`protect_counts` comes back in its own layout.

    Raises
    ------
    KeyError
        When a named column is missing.
    """
    written = protected.assign(
        _shown=[
            format_count(v, s) for v, s in zip(protected[value], protected["symbol"], strict=True)
        ]
    )
    wide = written.pivot(index=index, columns=columns, values="_shown")
    wide = wide.reindex(
        index=protected[index].drop_duplicates().tolist(),
        columns=protected[columns].drop_duplicates().tolist(),
    )
    return wide.rename_axis(index=index, columns=columns)
