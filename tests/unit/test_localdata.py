"""A council's monthly extracts: the documented format, its errors and the synthetic fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.make_local_extract import (
    TEMPLATES,
    DemandTruth,
    WorkforceTruth,
    flow_mean,
    make_demand_extract,
    make_workforce_extract,
    template_demand,
    template_workforce,
    write_csv,
)

from analysis import localdata
from analysis.errors import InputError


@pytest.fixture()
def fixture_folder(tmp_path: Path) -> Path:
    write_csv(make_demand_extract(), tmp_path / localdata.DEMAND_FILE)
    write_csv(make_workforce_extract(), tmp_path / localdata.WORKFORCE_FILE)
    return tmp_path


def test_templates_are_the_generator_output_and_load_cleanly():
    demand_text = (TEMPLATES / "demand_monthly.csv").read_text(encoding="utf-8")
    assert demand_text == template_demand().to_csv(index=False, lineterminator="\n")
    workforce_text = (TEMPLATES / "workforce_monthly.csv").read_text(encoding="utf-8")
    assert workforce_text == template_workforce().to_csv(index=False, lineterminator="\n")
    demand = localdata.load_demand_extract(TEMPLATES / "demand_monthly.csv")
    assert set(demand["measure"]) == set(localdata.DEMAND_MEASURES)
    localdata.load_workforce_extract(TEMPLATES / "workforce_monthly.csv")


def test_absent_extracts_are_not_an_error(tmp_path):
    extracts = localdata.load_local_extracts(tmp_path)
    assert extracts.demand is None and extracts.workforce is None
    assert not extracts.has_demand
    assert "annual published statistics" in extracts.describe()


def test_present_extracts_are_read(fixture_folder):
    extracts = localdata.load_local_extracts(fixture_folder)
    assert extracts.has_demand
    assert len(extracts.demand) == 48 * len(localdata.DEMAND_MEASURES)
    assert "2021-04 to 2025-03" in extracts.describe()
    assert extracts.workforce["month"].nunique() == 12


def test_fixture_has_its_known_trend_and_season(fixture_folder):
    demand = localdata.load_demand_extract(fixture_folder / localdata.DEMAND_FILE)
    referrals = demand[demand["measure"] == "referrals"]
    months = pd.PeriodIndex(referrals["month"], freq="M")
    truth = DemandTruth().flows["referrals"]
    expected = flow_mean(truth, months)
    observed = referrals["count"].to_numpy()
    # Poisson noise: the mean relative error over 48 months is small.
    assert abs(observed.sum() / expected.sum() - 1) < 0.02
    by_month = pd.Series(observed / expected.mean(), index=months.month).groupby(level=0).mean()
    assert by_month.idxmax() in (10, 11, 12)  # the peak was put in November
    assert by_month.idxmin() in (4, 5, 6)  # and the trough half a year away
    annual = localdata.annual_from_monthly(demand)
    referrals_by_year = annual[annual["measure"] == "referrals"].set_index("year")["value"]
    growth = referrals_by_year.iloc[-1] / referrals_by_year.iloc[0]
    assert growth == pytest.approx(1.04**3, rel=0.03)


def test_fixture_stocks_obey_the_stock_flow_identity():
    demand = make_demand_extract()
    wide = demand.pivot(index="month", columns="measure", values="count")
    cla = wide["cla_at_month_end"].to_numpy()
    change = wide["cla_starts"].to_numpy()[1:] - wide["cla_ceases"].to_numpy()[1:]
    np.testing.assert_array_equal(cla[1:] - cla[:-1], change)
    assert (
        cla[0] == DemandTruth().cla_start + wide["cla_starts"].iloc[0] - wide["cla_ceases"].iloc[0]
    )


def test_fixture_workforce_has_its_known_agency_share_and_caseload():
    truth = WorkforceTruth()
    workforce = make_workforce_extract(truth=truth)
    march = workforce[(workforce["month"] == "2025-03") & (workforce["role"] == "social_worker")]
    filled = march[march["contract_type"] != "vacant"]
    agency = filled.loc[filled["contract_type"] == "agency", "fte"].sum()
    assert agency / filled["fte"].sum() == pytest.approx(truth.agency_share)
    qualified = filled[filled["contract_type"] != "asye"]
    assert qualified["cases_held"].sum() / qualified["fte"].sum() == pytest.approx(truth.caseload)


def test_the_same_seed_gives_the_same_extract_and_another_seed_differs():
    pd.testing.assert_frame_equal(make_demand_extract(seed=1), make_demand_extract(seed=1))
    assert not make_demand_extract(seed=1).equals(make_demand_extract(seed=2))


def test_annual_from_monthly_sums_flows_and_takes_stocks_at_march():
    demand = pd.DataFrame(
        {
            "month": [f"2024-{m:02d}" for m in range(4, 13)]
            + [f"2025-{m:02d}" for m in range(1, 4)],
            "measure": "cla_starts",
            "count": np.arange(1.0, 13.0),
        }
    )
    stock = demand.assign(measure="cla_at_month_end", count=np.arange(100.0, 112.0))
    partial = demand.iloc[:5].assign(month=[f"2025-{m:02d}" for m in range(4, 9)])
    annual = localdata.annual_from_monthly(pd.concat([demand, stock, partial]))
    assert annual.set_index("measure")["value"].to_dict() == {
        "cla_starts": 78.0,
        "cla_at_31_march": 111.0,
    }
    assert set(annual["year"]) == {2025}  # the incomplete 2026 is left out


def test_demand_as_tidy_matches_the_external_shape(fixture_folder):
    demand = localdata.load_demand_extract(fixture_folder / localdata.DEMAND_FILE)
    tidy = localdata.demand_as_tidy(demand, "E09000002", "Barking and Dagenham")
    cla = tidy[tidy["measure"] == "cla_at_month_end"]
    assert cla["period_end"].iloc[0] == pd.Timestamp("2021-04-30")
    assert cla["period_end"].iloc[-1] == pd.Timestamp("2025-03-31")
    assert (tidy["source_file"] == "local/demand_monthly.csv").all()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_demand_errors_name_row_column_and_value(tmp_path):
    path = _write(
        tmp_path / "demand_monthly.csv",
        "month,measure,count\n"
        "2024-04,referrals,10\n"
        "April 2024,referrals,11\n"
        "2024-05,referals,12\n"
        "2024-06,referrals,-3\n"
        "2024-07,referrals,2.5\n",
    )
    with pytest.raises(InputError) as caught:
        localdata.load_demand_extract(path)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert (4, "measure") in found  # 'referals' is not a measure
    message = caught.value.report()
    assert "'referals'" in message and "demand_monthly.csv" in message
    with pytest.raises(InputError) as caught:
        localdata.load_demand_extract(
            _write(
                tmp_path / "d2.csv",
                "month,measure,count\n2024-04,referrals,10\nApril 2024,referrals,11\n"
                "2024-06,referrals,-3\n2024-07,referrals,2.5\n",
            )
        )
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {(3, "month"), (4, "count"), (5, "count")} <= found


def test_a_gap_in_the_months_is_reported(tmp_path):
    path = _write(
        tmp_path / "demand_monthly.csv",
        "month,measure,count\n2024-04,referrals,10\n2024-05,referrals,11\n2024-08,referrals,9\n",
    )
    with pytest.raises(InputError, match="missing 2024-06, 2024-07"):
        localdata.load_demand_extract(path)


def test_workforce_errors(tmp_path):
    path = _write(
        tmp_path / "workforce_monthly.csv",
        "month,team,role,contract_type,fte,cases_held\n"
        "2025-03,Team A,social_worker,Agency,1.0,16\n"
        "2025-03,Team A,social_worker,vacant,1.0,5\n"
        "2025-03,Team A,social_worker,permanent,-1,16\n",
    )
    with pytest.raises(InputError) as caught:
        localdata.load_workforce_extract(path)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert {(2, "contract_type"), (4, "fte")} <= found
    path = _write(
        tmp_path / "workforce_monthly.csv",
        "month,team,role,contract_type,fte,cases_held\n2025-03,Team A,social_worker,vacant,1.0,5\n",
    )
    with pytest.raises(InputError, match="vacant post holds no cases"):
        localdata.load_workforce_extract(path)
