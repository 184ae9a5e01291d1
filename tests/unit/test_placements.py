"""Cost of demand: placement mix, cost per child looked after, and the cost of a forecast."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.external import load_external
from analysis.placements import (
    WEEKS_PER_YEAR,
    UnitCosts,
    annual_cost_per_child_gbp,
    budget_and_outturn,
    cost_per_child,
    forecast_placement_cost,
    placement_cost_summary,
    placement_mix,
)

COSTS = UnitCosts(
    fostering_gbp_per_week=650, residential_gbp_per_week=5000, other_gbp_per_week=1000
)


def _mix(fostering: float, residential: float, other: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "placement_group": ["fostering", "residential", "other"],
            "share": [fostering, residential, other],
        }
    )


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    return load_external()


def test_cost_per_child_worked_by_hand() -> None:
    """Mix 70% fostering, 10% residential, 20% other at £650, £5,000 and £1,000 a week:
    0.7 x 650 + 0.1 x 5,000 + 0.2 x 1,000 = £1,155 a week; x 365.25 / 7 = £60,266.25 a year."""
    table = cost_per_child(_mix(0.7, 0.1, 0.2), COSTS).set_index("placement_group")
    assert table.loc["total", "weekly_cost_gbp"] == pytest.approx(1155)
    assert table.loc["total", "weighted_annual_cost_gbp"] == pytest.approx(60266.25)
    assert table.loc["residential", "annual_cost_per_placement_gbp"] == pytest.approx(
        5000 * WEEKS_PER_YEAR
    )
    assert annual_cost_per_child_gbp(_mix(0.7, 0.1, 0.2), COSTS) == pytest.approx(60266.25)


def test_shares_must_add_to_one() -> None:
    with pytest.raises(InputError) as caught:
        cost_per_child(_mix(0.7, 0.1, 0.1), COSTS)
    assert "column 'share'" in caught.value.report()


def test_negative_unit_cost_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        UnitCosts(fostering_gbp_per_week=-1, residential_gbp_per_week=0, other_gbp_per_week=0)
    assert "unit_cost_fostering_gbp_per_week" in caught.value.report()


def test_forecast_cost_averages_opening_and_closing_stock() -> None:
    """400 looked after at 31 March 2025; forecasts 420 (2026) and 440 (2027).
    Average children: (400 + 420) / 2 = 410 in 2025/26 and (420 + 440) / 2 = 430 in 2026/27;
    at £60,266.25 a child: £24,709,162.50 and £25,914,487.50. Lower 80% bounds 380 and 370:
    (400 + 380) / 2 = 390 and (380 + 370) / 2 = 375 children."""
    forecast = pd.DataFrame(
        {
            "period_end": pd.to_datetime(["2026-03-31", "2027-03-31"]),
            "forecast": [420.0, 440.0],
            "lower_80": [380.0, 370.0],
            "upper_80": [460.0, 510.0],
            "lower_95": [360.0, 340.0],
            "upper_95": [480.0, 540.0],
        }
    )
    cost = forecast_placement_cost(forecast, 400, 60266.25).set_index("financial_year")
    assert list(cost.index) == ["2025/26", "2026/27"]
    assert cost.loc["2025/26", "children_looked_after_avg"] == 410
    assert cost.loc["2025/26", "placement_cost_gbp"] == pytest.approx(24709162.5)
    assert cost.loc["2026/27", "placement_cost_gbp"] == pytest.approx(25914487.5)
    assert cost.loc["2026/27", "placement_cost_lower_80_gbp"] == pytest.approx(375 * 60266.25)
    assert cost.loc["2025/26", "placement_cost_upper_95_gbp"] == pytest.approx(440 * 60266.25)


def test_more_children_cost_more() -> None:
    base = pd.DataFrame(
        {
            "period_end": pd.to_datetime(["2026-03-31"]),
            **{c: [420.0] for c in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95")},
        }
    )
    more = base.assign(forecast=[460.0])
    cheap = forecast_placement_cost(base, 400, 60000)["placement_cost_gbp"].iloc[0]
    dear = forecast_placement_cost(more, 400, 60000)["placement_cost_gbp"].iloc[0]
    assert dear - cheap == pytest.approx(20 * 60000)


def test_missing_last_actual_is_refused() -> None:
    with pytest.raises(InputError):
        forecast_placement_cost(pd.DataFrame(), math.nan, 60000)


def test_england_mix_2024_from_the_published_file(tidy: pd.DataFrame) -> None:
    """England, 31 March 2024: 56,390 fostered of 83,630; residential = children's homes and
    secure 8,640 + other residential 1,260 + residential schools 90 = 9,990; the rest 17,250."""
    mix = placement_mix(tidy, "england").set_index("placement_group")
    assert mix.loc["fostering", "children"] == 56390
    assert mix.loc["residential", "children"] == 9990
    assert mix.loc["other", "children"] == 17250
    assert mix["share"].sum() == pytest.approx(1)
    assert set(mix["year"]) == {2024}


def test_la_mix_fills_suppressed_cells_from_the_total(tidy: pd.DataFrame) -> None:
    """Barking and Dagenham, 31 March 2017 (SFR50): 409 looked after; fostering 313; secure and
    children's homes 21, other residential x, residential schools 0; adoption x, with parents 15,
    other community 44, other 0. The 16 children hidden by the two x cells (409 - 393) are
    shared 8 and 8: residential 29, other 67."""
    mix = placement_mix(tidy, "la", la_code="E09000002").set_index("placement_group")
    assert mix.loc["fostering", "children"] == 313
    assert mix.loc["residential", "children"] == 29
    assert mix.loc["other", "children"] == 67
    assert mix.loc["residential", "suppressed_cells"] == 1
    assert set(mix["year"]) == {2017}


def test_unknown_la_has_no_mix(tidy: pd.DataFrame) -> None:
    with pytest.raises(InputError) as caught:
        placement_mix(tidy, "la", la_code="E09999999")
    assert "E09999999" in caught.value.report()


def test_budget_and_outturn_of_barking_and_dagenham(tidy: pd.DataFrame) -> None:
    """RA 2021/22 total children's social care £60,540k; RSX 2021/22 net £70,340k; RA 2023/24
    £70,172k, RSX 2023/24 £85,661k (data/raw/external/README.md)."""
    finance = budget_and_outturn(tidy, "E09000002").set_index("financial_year")
    assert finance.loc["2021/22", "csc_budget_gbp"] == 60_540_000
    assert finance.loc["2021/22", "csc_net_outturn_gbp"] == 70_340_000
    assert finance.loc["2023/24", "csc_budget_gbp"] == 70_172_000
    assert finance.loc["2023/24", "csc_net_outturn_gbp"] == 85_661_000
    assert finance.loc["2023/24", "cla_budget_gbp"] == 22_784_000


def test_summary_puts_cost_beside_finance() -> None:
    forecast = pd.DataFrame(
        {
            "period_end": pd.to_datetime(["2026-03-31"]),
            **{c: [420.0] for c in ("forecast", "lower_80", "upper_80", "lower_95", "upper_95")},
        }
    )
    cost = forecast_placement_cost(forecast, 400, 60000)
    finance = pd.DataFrame(
        {"financial_year": ["2023/24"], "csc_budget_gbp": [1.0], "cla_budget_gbp": [2.0]}
    )
    summary = placement_cost_summary(cost, finance, {"la": 50000}).set_index("financial_year")
    assert list(summary.index) == ["2023/24", "2025/26"]
    assert summary.loc["2025/26", "placement_cost_at_la_mix_gbp"] == pytest.approx(410 * 50000)
    assert math.isnan(summary.loc["2025/26", "csc_budget_gbp"])
