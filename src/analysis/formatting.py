"""How numbers are written in reports: pounds with thousands separators, FTE to one decimal,
percentages to one decimal, and counts of children.

Every table and sentence in a report goes through these functions so that the whole pack
writes figures the same way. Missing values are written as an en dash, never as ``nan``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

MISSING = "–"


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def gbp(value: float | None, *, signed: bool = False) -> str:
    """Write pounds to the nearest pound with thousands separators: ``£1,234,567``.

    ``signed=True`` writes a plus sign on positive values (for variances and differences).
    """
    if _is_missing(value):
        return MISSING
    amount = round(float(value))
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    return f"{sign}£{abs(amount):,.0f}"


def gbp_m(value: float | None, *, decimals: int = 1, signed: bool = False) -> str:
    """Write pounds as millions: ``£18.0m`` (committee style for headlines)."""
    if _is_missing(value):
        return MISSING
    millions = float(value) / 1e6
    rounded = round(millions, decimals)
    sign = "-" if rounded < 0 else ("+" if signed and rounded > 0 else "")
    return f"{sign}£{abs(rounded):,.{decimals}f}m"


def gbp_millions(value_m: float | None, *, decimals: int = 1) -> str:
    """Write a figure already in £ million: ``5.25`` -> ``£5.3m`` (budget lines are printed so)."""
    if _is_missing(value_m):
        return MISSING
    return gbp_m(float(value_m) * 1e6, decimals=decimals)


def fte(value: float | None) -> str:
    """Write full-time equivalents to one decimal: ``349.0``."""
    if _is_missing(value):
        return MISSING
    return f"{float(value):,.1f}"


def pct(fraction: float | None, *, decimals: int = 1, signed: bool = False) -> str:
    """Write a fraction as a percentage to one decimal: ``0.153`` -> ``15.3%``."""
    if _is_missing(fraction):
        return MISSING
    value = float(fraction) * 100
    sign = "+" if signed and round(value, decimals) > 0 else ""
    return f"{sign}{value:,.{decimals}f}%"


def count(value: float | None) -> str:
    """Write a whole count with thousands separators: ``5,307``."""
    if _is_missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def number(value: float | None, decimals: int = 1) -> str:
    """Write a plain number (a rate per 10,000, a caseload) with ``decimals`` places."""
    if _is_missing(value) or not math.isfinite(float(value)):
        return MISSING
    return f"{float(value):,.{decimals}f}"


#: Formatter for each column-name suffix, so a results table formats itself from its names.
SUFFIX_FORMATS = {
    "_gbp": gbp,
    "_gbp_m": gbp_millions,
    "_fte": fte,
    "fte": fte,
    "_share": pct,
    "_rate": pct,
    "_fraction": pct,
    "_count": count,
}


_UNIT_SUFFIXES = (("_gbp_m", " (£m)"), ("_gbp", " (£)"), ("_fte", " (FTE)"))


def column_label(column: str) -> str:
    """A column name in the users' words with its unit: ``true_cost_gbp`` -> ``True cost (£)``."""
    name = str(column)
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)] + unit
            break
    else:
        if name == "fte":
            name = "FTE"
    name = name.replace("_", " ").replace(" fte", " FTE")
    return name[:1].upper() + name[1:]


def format_table(frame: pd.DataFrame, formats: Mapping[str, object] | None = None) -> pd.DataFrame:
    """Return a copy of ``frame`` with numbers written as text for display.

    Columns are formatted by the explicit ``formats`` mapping (column -> function), or else
    by their name's suffix (``_gbp``, ``_fte``, ``_share``, ...). Other columns are left as
    they are.
    """
    formats = dict(formats or {})
    shown = frame.copy()
    for column in shown.columns:
        formatter = formats.get(column)
        if formatter is None:
            name = str(column)
            for suffix, candidate in sorted(SUFFIX_FORMATS.items(), key=lambda kv: -len(kv[0])):
                if name.endswith(suffix):
                    formatter = candidate
                    break
        if formatter is not None:
            shown[column] = [formatter(v) for v in shown[column]]
    return shown
