"""Reporting months, financial years and periods of the English local-government year.

The financial year runs April to March: April is period 1 (P1) and March is period 12 (P12).
Financial years are written as the seed tables print them, ``2019/20``. A reporting month is
given either as a calendar month (``2019-09``) or as a financial year and period
(``2019-20 P6``); both name the same month, which this module returns as a monthly
:class:`pandas.Period`.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.errors import InputError, Problem

_CALENDAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_AND_PERIOD = re.compile(r"^(\d{4})[-/](\d{2})\s*P(\d{1,2})$", re.IGNORECASE)
_FINANCIAL_YEAR = re.compile(r"^(\d{4})/(\d{2})$")

#: The calendar month in which period 1 falls.
FIRST_MONTH_OF_YEAR = 4

_EXPECTED_MONTH = (
    "a reporting month written as YYYY-MM (for example 2019-09) or as a financial year and "
    "period, YYYY-YY Pn (for example 2024-25 P3, where P1 is April and P12 is March)"
)


def _as_month(month: pd.Period | str) -> pd.Period:
    return month if isinstance(month, pd.Period) else parse_reporting_month(month)


def parse_reporting_month(text: object, source: str = "the reporting_month parameter") -> pd.Period:
    """Return the reporting month named by ``text`` as a monthly period.

    Parameters
    ----------
    text
        ``YYYY-MM`` (``2019-09``) or ``YYYY-YY Pn`` (``2024-25 P3``, period 1 = April).
    source
        Where the text came from, named in the error (a parameter, a command-line option).

    Raises
    ------
    InputError
        When the text is neither form, the month is not 01-12, the two years of a financial
        year are not consecutive, or the period is not 1-12.
    """
    raw = "" if text is None else str(text).strip()
    match = _CALENDAR_MONTH.match(raw)
    if match and 1 <= int(match.group(2)) <= 12:
        return pd.Period(year=int(match.group(1)), month=int(match.group(2)), freq="M")
    match = _YEAR_AND_PERIOD.match(raw)
    if match:
        start, end, period = int(match.group(1)), int(match.group(2)), int(match.group(3))
        if (start + 1) % 100 == end and 1 <= period <= 12:
            first = pd.Period(year=start, month=FIRST_MONTH_OF_YEAR, freq="M")
            return first + (period - 1)
    raise InputError([Problem(file=source, value=text, expected=_EXPECTED_MONTH)])


def financial_year_start(month: pd.Period | str) -> int:
    """Return the calendar year in which the financial year holding ``month`` starts."""
    month = _as_month(month)
    return month.year if month.month >= FIRST_MONTH_OF_YEAR else month.year - 1


def financial_year_label(start_year: int) -> str:
    """Write the financial year starting in April of ``start_year`` as ``2019/20``."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year_of(month: pd.Period | str) -> str:
    """Return the financial year of a reporting month, written like ``2019/20``.

    Raises
    ------
    InputError
        When ``month`` is text that :func:`parse_reporting_month` refuses.
    """
    return financial_year_label(financial_year_start(month))


def period_of(month: pd.Period | str) -> int:
    """Return the period number of a month in its financial year (April = 1, March = 12).

    Raises
    ------
    InputError
        When ``month`` is text that :func:`parse_reporting_month` refuses.
    """
    month = _as_month(month)
    return (month.month - FIRST_MONTH_OF_YEAR) % 12 + 1


def start_year_of_label(financial_year: str) -> int:
    """Return the starting calendar year of a financial year written like ``2019/20``.

    Raises
    ------
    InputError
        When the label is not two consecutive years written like ``2019/20``.
    """
    match = _FINANCIAL_YEAR.match(str(financial_year).strip())
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise InputError(
            [
                Problem(
                    file="a financial year",
                    value=financial_year,
                    expected="a financial year written like 2019/20 (two consecutive years)",
                )
            ]
        )
    return int(match.group(1))


def months_from(financial_year: str, first_month: pd.Period | str) -> int:
    """Return how many months of ``financial_year`` fall on or after ``first_month`` (0-12).

    Used for part-year effects: a change taking effect in October 2021 affects 6 months of
    2021/22 and all 12 of 2022/23.

    Raises
    ------
    InputError
        When the financial year or the month is written wrongly.
    """
    start = pd.Period(year=start_year_of_label(financial_year), month=FIRST_MONTH_OF_YEAR, freq="M")
    first = _as_month(first_month)
    before = (first - start).n
    return int(min(max(12 - before, 0), 12))
