"""Figures are written the way committee reports write them."""

from __future__ import annotations

import math

import pandas as pd

from analysis import formatting as fmt


def test_pounds_have_thousands_separators_and_no_pence() -> None:
    assert fmt.gbp(18041082) == "£18,041,082"
    assert fmt.gbp(-1140745.4) == "-£1,140,745"
    assert fmt.gbp(1886682, signed=True) == "+£1,886,682"
    assert fmt.gbp(math.nan) == fmt.MISSING


def test_millions_fte_and_percentages_to_one_decimal() -> None:
    assert fmt.gbp_m(18041082) == "£18.0m"
    assert fmt.gbp_m(-1150000, signed=True) == "-£1.1m"
    assert fmt.fte(349) == "349.0"
    assert fmt.fte(1234.56) == "1,234.6"
    assert fmt.pct(0.155) == "15.5%"
    assert fmt.pct(0.02, signed=True) == "+2.0%"
    assert fmt.count(5307) == "5,307"
    assert fmt.pct(None) == fmt.MISSING


def test_format_table_uses_column_suffixes() -> None:
    table = pd.DataFrame(
        {"budget_area": ["Total"], "cost_gbp": [16859582.0], "fte": [349.0], "agency_share": [0.15]}
    )
    shown = fmt.format_table(table)
    assert shown.iloc[0].tolist() == ["Total", "£16,859,582", "349.0", "15.0%"]


def test_figures_already_in_millions_and_labels_with_units() -> None:
    assert fmt.gbp_millions(5.26) == "£5.3m"
    assert fmt.gbp_millions(-1.14) == "-£1.1m"
    assert fmt.gbp_millions(34.4) == "£34.4m"
    table = pd.DataFrame({"variance_gbp_m": [2.4]})
    assert fmt.format_table(table).iloc[0, 0] == "£2.4m"
    assert fmt.column_label("true_cost_gbp") == "True cost (£)"
    assert fmt.column_label("model_variance_gbp_m") == "Model variance (£m)"
    assert fmt.column_label("agency_eligible_fte") == "Agency eligible (FTE)"
