"""Reporting months, financial years and periods (P1 = April)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.periods import (
    financial_year_of,
    months_from,
    parse_reporting_month,
    period_of,
    start_year_of_label,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-09", pd.Period("2019-09", "M")),
        ("2024-25 P3", pd.Period("2024-06", "M")),
        ("2024-25 P1", pd.Period("2024-04", "M")),
        ("2024-25 P12", pd.Period("2025-03", "M")),
        ("2019/20 p10", pd.Period("2020-01", "M")),
        (" 2021-04 ", pd.Period("2021-04", "M")),
    ],
)
def test_both_spellings_of_a_reporting_month_are_read(text: str, expected: pd.Period) -> None:
    assert parse_reporting_month(text) == expected


@pytest.mark.parametrize(
    "text", ["2019-13", "201909", "2024-26 P3", "2024-25 P13", "", None, 202401]
)
def test_a_malformed_month_names_the_value_and_both_forms(text: object) -> None:
    with pytest.raises(InputError) as caught:
        parse_reporting_month(text, source="the --month option")
    message = caught.value.report()
    assert "In the --month option" in message
    assert "YYYY-MM" in message and "YYYY-YY Pn" in message


@pytest.mark.parametrize(
    ("month", "year", "period"),
    [
        ("2019-04", "2019/20", 1),
        ("2019-09", "2019/20", 6),
        ("2020-03", "2019/20", 12),
        ("2020-01", "2019/20", 10),
        ("2099-12", "2099/00", 9),
    ],
)
def test_financial_year_and_period(month: str, year: str, period: int) -> None:
    assert financial_year_of(month) == year
    assert period_of(month) == period
    assert financial_year_of(pd.Period(month, "M")) == year


def test_part_year_months_follow_the_month_a_change_takes_effect() -> None:
    assert months_from("2021/22", "2021-04") == 12
    assert months_from("2021/22", "2021-10") == 6
    assert months_from("2021/22", "2022-03") == 1
    assert months_from("2021/22", "2022-04") == 0
    assert months_from("2022/23", "2021-10") == 12


def test_a_badly_written_financial_year_is_refused() -> None:
    assert start_year_of_label("2021/22") == 2021
    with pytest.raises(InputError, match="2019/21"):
        start_year_of_label("2019/21")
