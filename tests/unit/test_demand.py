"""Forecasts, intervals and the rolling-origin backtest, on series whose answers are known."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from analysis import demand

Z80 = norm.ppf(0.90)
Z95 = norm.ppf(0.975)


def annual(values, first_year: int = 2013) -> pd.Series:
    index = pd.to_datetime([f"{first_year + i}-03-31" for i in range(len(values))])
    return pd.Series(np.asarray(values, dtype=float), index=index)


def monthly(values, first: str = "2020-04") -> pd.Series:
    index = pd.period_range(first, periods=len(values), freq="M").to_timestamp(how="end")
    return pd.Series(np.asarray(values, dtype=float), index=index.normalize())


LINEAR = annual(100 + 5 * np.arange(13))


# --- baselines, by hand ------------------------------------------------------------------------


def test_naive_forecast_and_interval_by_hand():
    series = annual([10, 13, 12, 14])  # changes +3, -1, +2
    sigma = math.sqrt((9 + 1 + 4) / 3)
    frame = demand.forecast_series(series, 2, "naive")
    assert list(frame["forecast"]) == [14, 14]
    assert list(frame["period_end"]) == list(pd.to_datetime(["2017-03-31", "2018-03-31"]))
    assert frame["upper_80"].iloc[0] == pytest.approx(14 + Z80 * sigma)
    assert frame["upper_80"].iloc[1] == pytest.approx(14 + Z80 * sigma * math.sqrt(2))
    assert frame["lower_95"].iloc[1] == pytest.approx(14 - Z95 * sigma * math.sqrt(2))
    assert set(frame["note"]) == {""}


def test_drift_forecast_and_interval_by_hand():
    series = annual([10, 13, 12, 16])  # slope (16 - 10) / 3 = 2; residuals 1, -3, 2
    sigma = math.sqrt((1 + 9 + 4) / 2)
    frame = demand.forecast_series(series, 2, "drift")
    assert list(frame["forecast"]) == [18, 20]
    sd2 = sigma * math.sqrt(2 * (1 + 2 / 3))
    assert frame["upper_95"].iloc[1] == pytest.approx(20 + Z95 * sd2)
    assert frame["lower_80"].iloc[1] == pytest.approx(20 - Z80 * sd2)


def test_gaps_use_what_was_published():
    # 2014 suppressed: the drift slope spans 2013 to 2016 (3 years); naive uses 2016
    series = annual([100, np.nan, 120, 130])
    drift = demand.forecast_series(series, 1, "drift")
    assert drift["forecast"].iloc[0] == pytest.approx(130 + 10)
    # the last year suppressed: the forecast starts after the last published year
    series = annual([100, 110, 120, np.nan])
    naive = demand.forecast_series(series, 1, "naive")
    assert naive["forecast"].iloc[0] == 120
    assert naive["period_end"].iloc[0] == pd.Timestamp("2016-03-31")


def test_seasonal_naive_repeats_last_year_and_is_exact_on_a_periodic_series():
    season = np.array([50, 55, 60, 58, 52, 49, 47, 51, 63, 70, 66, 54], dtype=float)
    series = monthly(np.tile(season, 4))
    frame = demand.forecast_series(series, 14, "seasonal_naive", "monthly")
    assert list(frame["forecast"]) == list(season) + list(season[:2])
    assert frame["period_end"].iloc[0] == pd.Timestamp("2024-04-30")
    # a periodic series has no seasonal residual, so the interval collapses onto the forecast
    assert (frame["upper_95"] == frame["forecast"]).all()
    backtest = demand.backtest_series(series, 12, ["seasonal_naive"], "monthly", max_origins=3)
    assert (backtest["forecast"] == backtest["actual"]).all()


def test_counts_are_floored_at_zero():
    frame = demand.forecast_series(annual([30, 20, 10, 5]), 3, "drift")
    assert (frame[["forecast", "lower_80", "lower_95"]] >= 0).all().all()
    assert frame["forecast"].iloc[-1] == 0


# --- short series and bad arguments -----------------------------------------------------------


def test_short_series_fall_back_to_the_last_value_with_a_note():
    frame = demand.forecast_series(annual([10, 12, 11]), 2, "damped_holt")
    assert set(frame["method"]) == {"naive"}
    assert "damped_holt needs at least 8 values and the series has 3" in frame["note"].iloc[0]
    assert list(frame["forecast"]) == [11, 11]


def test_one_value_gives_a_forecast_without_an_interval_and_none_gives_no_rows():
    one = demand.forecast_series(annual([42]), 2, "all")
    assert list(one["method"]) == ["naive", "naive"]
    assert list(one["forecast"]) == [42, 42]
    assert one["upper_80"].isna().all()
    empty = demand.forecast_series(annual([np.nan, np.nan]), 2, "all")
    assert empty.empty
    assert list(empty.columns) == list(demand.FORECAST_COLUMNS)
    assert demand.backtest_series(annual([1, 2, 3]), 3).empty


def test_all_methods_that_apply_to_a_short_annual_series():
    frame = demand.forecast_series(annual([10, 12, 11, 13, 15]), 1, "all")
    assert list(frame["method"]) == ["naive", "drift"]
    assert demand.applicable_methods(8) == ["naive", "drift", "ses", "holt", "damped_holt", "arima"]
    assert demand.applicable_methods(36, "monthly") == list(demand.METHODS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2, "method": "prophet"}, "unknown forecasting method"),
        ({"horizon": 2, "method": "seasonal_naive"}, "monthly"),
        ({"horizon": 2, "frequency": "weekly"}, "frequency"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        demand.forecast_series(LINEAR, **kwargs)


def test_two_values_for_one_year_are_refused():
    series = pd.Series([1.0, 2.0], index=pd.to_datetime(["2020-03-31", "2020-09-30"]))
    with pytest.raises(ValueError, match="two values for the same annual period"):
        demand.forecast_series(series, 1, "naive")


# --- fitted models ----------------------------------------------------------------------------


def test_fitted_models_track_a_trend_with_ordered_intervals_and_no_warnings():
    rng = np.random.default_rng(7)
    series = annual(400 + 20 * np.arange(13) + rng.normal(0, 5, 13))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = demand.forecast_series(series, 3, ["ses", "holt", "damped_holt", "arima"])
    assert caught == []
    assert list(frame["method"].unique()) == ["ses", "holt", "damped_holt", "arima"]
    # simple exponential smoothing has no trend: a flat forecast near the last value
    ses = frame.loc[frame["method"] == "ses", "forecast"]
    assert ses.nunique() == 1
    assert ses.iloc[0] == pytest.approx(series.iloc[-1], abs=15)
    truth = 400 + 20 * np.arange(13, 16)
    for _, rows in frame[frame["method"] != "ses"].groupby("method"):
        assert np.allclose(rows["forecast"], truth, rtol=0.05)
    ordered = ["lower_95", "lower_80", "forecast", "upper_80", "upper_95"]
    assert (frame[ordered].diff(axis=1).iloc[:, 1:] >= 0).all().all()
    # intervals widen with the horizon
    for _, rows in frame.groupby("method"):
        assert rows["upper_95"].sub(rows["lower_95"]).is_monotonic_increasing


def test_exponential_smoothing_fits_through_a_suppressed_year():
    values = 400 + 20 * np.arange(12, dtype=float)
    values[4] = np.nan
    frame = demand.forecast_series(annual(values), 1, ["holt", "arima"])
    assert list(frame["method"]) == ["holt", "arima"]
    assert frame["forecast"].to_numpy() == pytest.approx([640, 640], rel=0.02)


# --- backtest machinery on known answers --------------------------------------------------------


def test_drift_has_no_error_on_a_straight_line():
    backtest = demand.backtest_series(LINEAR, 3, ["naive", "drift"])
    accuracy = demand.score_backtest(backtest).set_index("method")
    assert accuracy.loc["drift", "mape"] == 0
    assert accuracy.loc["drift", "mase"] == 0
    assert accuracy.loc["drift", "coverage_95"] == 1
    # 5 origins (years 8..12 of 13) x up to 3 steps with an actual: 3+3+3+2+1
    assert accuracy.loc["drift", "n_origins"] == 5
    assert accuracy.loc["drift", "n_forecasts"] == 12
    # naive misses by 5 a year: MASE is the mean step, (1*3 + 2*3 + 3*2 + ...)/12 steps
    steps = backtest.loc[backtest["method"] == "naive", "step"]
    assert accuracy.loc["naive", "mase"] == pytest.approx(steps.mean())


def test_naive_has_no_error_on_a_constant_series():
    backtest = demand.backtest_series(annual([250] * 10), 2, ["naive", "drift"])
    accuracy = demand.score_backtest(backtest).set_index("method")
    assert accuracy.loc["naive", "mape"] == 0
    assert (backtest["forecast"] == 250).all()
    # the history never moved, so MASE has no scale and is left undefined
    assert math.isnan(accuracy.loc["naive", "mase"])


def test_naive_mase_on_a_random_walk_is_about_one_and_its_intervals_cover():
    rng = np.random.default_rng(2024)
    walk = annual(10_000 + np.cumsum(rng.normal(0, 50, 300)), first_year=1900)
    backtest = demand.backtest_series(walk, 1, ["naive"], max_origins=None)
    accuracy = demand.score_backtest(backtest).iloc[0]
    assert accuracy["n_forecasts"] == 300 - 2 + 1 - 1  # origins from the 2nd value on
    assert accuracy["mase"] == pytest.approx(1.0, abs=0.12)
    assert accuracy["coverage_80"] == pytest.approx(0.80, abs=0.06)
    assert accuracy["coverage_95"] == pytest.approx(0.95, abs=0.04)


def test_backtest_scores_only_published_years():
    values = 100 + 5 * np.arange(13, dtype=float)
    values[11] = np.nan
    backtest = demand.backtest_series(annual(values), 3, ["drift"], max_origins=None)
    assert pd.Timestamp("2024-03-31") not in set(backtest["period_end"])
    assert backtest["actual"].notna().all()


# --- choosing across LAs ----------------------------------------------------------------------


def accuracy_table(rows):
    frame = pd.DataFrame(rows, columns=["measure", "la_code", "method", "mase"])
    frame["la_name"] = frame["la_code"]
    frame["n_forecasts"] = 10
    frame["mape"] = frame["mase"] * 10
    frame["inside_80"] = 8
    frame["inside_95"] = 9
    return frame


def test_choice_is_the_lowest_median_mase_with_ties_to_the_simpler_method():
    rows = []
    for la, (naive, drift, holt) in {
        "E1": (1.0, 0.8, 0.5),
        "E2": (1.2, 0.9, 0.7),
        "E3": (0.9, 0.7, 2.0),
    }.items():
        rows += [("referrals", la, "naive", naive), ("referrals", la, "drift", drift)]
        rows += [("referrals", la, "holt", holt)]
        # a tie to two decimals: the simpler method wins
        rows += [("cla_starts", la, "naive", 1.001), ("cla_starts", la, "arima", 0.998)]
    accuracy = accuracy_table(rows)
    chosen = demand.choose_methods(accuracy)
    assert chosen == {"referrals": "holt", "cla_starts": "naive"}
    versus = demand.compare_with_naive(accuracy, chosen).set_index("measure")
    assert versus.loc["referrals", "median_mase_method"] == pytest.approx(0.7)
    assert versus.loc["referrals", "median_mase_naive"] == pytest.approx(1.0)
    assert versus.loc["referrals", "share_las_better"] == pytest.approx(2 / 3)
    assert bool(versus.loc["referrals", "beats_naive"])
    assert not bool(versus.loc["cla_starts", "beats_naive"])
    summary = demand.summarise_accuracy(accuracy).set_index(["measure", "method"])
    assert summary.loc[("referrals", "drift"), "median_mase"] == pytest.approx(0.8)
    assert summary.loc[("referrals", "drift"), "coverage_80"] == pytest.approx(0.8)
    page = demand.accuracy_markdown(
        accuracy, chosen, horizon=3, max_origins=5, sources="test", generated_by="pytest"
    )
    assert "| referrals | holt | 3 | 0.70 | 1.00 | 67% | beats the last value |" in page
    assert "no method beat the last value; the last value is used" in page


def test_choice_compares_methods_on_the_same_las():
    # holt was only scored on the LA where it happened to do well: it must not win on that
    scores = {"E1": (0.6, 0.5, None), "E2": (0.6, 0.5, 0.1), "E3": (0.6, 0.5, 0.9)}
    scores["E4"] = scores["E3"]
    rows = [
        ("cin", la, method, mase)
        for la, values in scores.items()
        for method, mase in zip(("naive", "drift", "holt"), values, strict=True)
        if mase is not None
    ]
    assert demand.choose_methods(accuracy_table(rows)) == {"cin": "drift"}


def test_each_measure_compares_its_methods_on_its_own_fully_scored_las():
    # cin was scored by three methods on E1 only, cla_starts by two on every LA: cla_starts
    # keeps all three LAs (drift's median 0.5, not E1's 0.9), cin keeps E1 alone
    rows = [("cin", "E1", "naive", 0.9), ("cin", "E1", "drift", 0.8), ("cin", "E1", "holt", 0.7)]
    rows += [("cin", la, "naive", 0.1) for la in ("E2", "E3")]
    rows += [("cla_starts", "E1", "naive", 0.6), ("cla_starts", "E1", "drift", 0.9)]
    for la in ("E2", "E3"):
        rows += [("cla_starts", la, "naive", 0.6), ("cla_starts", la, "drift", 0.5)]
    assert demand.choose_methods(accuracy_table(rows)) == {"cin": "holt", "cla_starts": "drift"}


def tidy_table() -> pd.DataFrame:
    """Three LAs: a straight line, a straight line with a suppressed year, a constant."""
    rows = []
    lines = {
        "E09000001": 100 + 5 * np.arange(10, dtype=float),
        "E09000002": 431 + 7 * np.arange(10, dtype=float),
        "E09000003": np.full(10, 50.0),
    }
    lines["E09000002"][3] = np.nan
    for code, values in lines.items():
        for i, value in enumerate(values):
            rows.append(
                {
                    "geographic_level": "Local authority",
                    "la_code": code,
                    "la_name": f"LA {code[-1]}",
                    "measure": "cla_starts",
                    "period_end": pd.Timestamp(f"{2016 + i}-03-31"),
                    "value": value,
                }
            )
    rows.append({**rows[0], "geographic_level": "National", "la_code": "E92000001"})
    return pd.DataFrame(rows)


def test_backtest_all_scores_every_la_and_the_straight_lines_choose_drift():
    accuracy = demand.backtest_all(
        tidy_table(), ["cla_starts"], horizon=2, methods=["naive", "drift", "holt"], workers=1
    )
    assert set(accuracy["la_code"]) == {"E09000001", "E09000002", "E09000003"}
    drift = accuracy[accuracy["method"] == "drift"].set_index("la_code")
    assert drift.loc["E09000001", "mase"] == pytest.approx(0, abs=1e-9)
    assert drift.loc["E09000002", "mase"] == pytest.approx(0, abs=1e-9)
    assert demand.choose_methods(accuracy) == {"cla_starts": "drift"}
    forecast = demand.forecast_measures(
        tidy_table(), "E09000002", ["cla_starts"], 2, {"cla_starts": "drift"}
    )
    assert list(forecast["forecast"]) == pytest.approx([431 + 7 * 10, 431 + 7 * 11])
    assert set(forecast["la_code"]) == {"E09000002"}


def test_annual_models_are_one_vectorised_fit_and_a_failed_window_falls_back_alone(
    monkeypatch,
):
    calls = []
    fit = demand.series_models.fit_arima_drift

    def failing_on_a_flat_window(windows, horizon):
        calls.append(len(windows))
        if any(np.nanstd(w) == 0 for w in windows):
            raise np.linalg.LinAlgError("flat")
        return fit(windows, horizon)

    monkeypatch.setattr(demand.series_models, "fit_arima_drift", failing_on_a_flat_window)
    backtest = demand.backtest_series(
        annual(100 + 5 * np.arange(12) + [0, 3, -2, 4, -1, 2, 0, -3, 1, 2, -2, 1]), 2, ["arima"]
    )
    assert calls == [4]  # four origins, one call
    calls.clear()
    accuracy = demand.backtest_all(tidy_table(), ["cla_starts"], 2, methods=["arima"], workers=1)
    # one call for the three LAs' five windows (two origins each; one for the LA with a
    # suppressed year), then one per window after the flat LA's made the batch fail
    assert calls == [5, 1, 1, 1, 1, 1]
    assert set(accuracy["la_code"]) == {"E09000001", "E09000002", "E09000003"}
    forecast = demand.forecast_series(annual(np.full(9, 50.0)), 2, "arima")
    assert list(forecast["method"]) == ["naive", "naive"]
    assert forecast["note"].iloc[0] == "arima failed to fit (LinAlgError): last value used"
    assert not backtest.empty


@pytest.mark.slow  # starts two worker processes, each importing pandas and statsmodels
def test_parallel_run_matches_the_serial_one():
    tidy = tidy_table()
    serial = demand.forecast_all(tidy, {"cla_starts": "drift"}, 2, workers=1)
    parallel = demand.forecast_all(tidy, {"cla_starts": "drift"}, 2, workers=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_auto_picks_by_backtest_and_ties_go_to_the_simpler_method():
    # on a straight line drift and Holt are both exact: the tie goes to drift
    line = annual(100 + 5 * np.arange(9))  # one origin: 8 years fitted, the 9th scored
    frame = demand.forecast_series(line, 2, "auto")
    assert list(frame["method"]) == ["drift", "drift"]
    assert list(frame["forecast"]) == [145, 150]
    # too short to backtest: the last value
    assert set(demand.forecast_series(annual([5, 6]), 1, "auto")["method"]) == {"naive"}


def test_seasonal_models_on_a_monthly_series_with_trend_and_season():
    rng = np.random.default_rng(3)
    months = np.arange(48)
    truth = 200 + 0.5 * months + 15 * np.sin(2 * np.pi * months / 12)
    series = monthly(truth[:36] + rng.normal(0, 1, 36))
    frame = demand.forecast_series(series, 12, ["holt", "seasonal_naive"], "monthly")
    assert list(frame["method"].unique()) == ["holt", "seasonal_naive"]
    rows = frame[frame["method"] == "holt"]
    assert np.abs(rows["forecast"].to_numpy() - truth[36:]).max() < 6
    assert (rows["upper_95"] - rows["lower_95"] > rows["upper_80"] - rows["lower_80"]).all()
    # seasonal naive misses by the trend of one year (0.5 a month x 12) plus noise
    naive = frame.loc[frame["method"] == "seasonal_naive", "forecast"].to_numpy()
    assert np.abs(naive - truth[36:] + 6).max() < 4


def test_accuracy_page_says_plainly_when_the_chosen_method_is_worse_in_most_las():
    rows = [
        ("cpp", "E1", "naive", 1.0),
        ("cpp", "E1", "drift", 0.5),
        ("cpp", "E2", "naive", 1.0),
        ("cpp", "E2", "drift", 1.1),
        ("cpp", "E3", "naive", 1.0),
        ("cpp", "E3", "drift", 1.2),
    ]
    accuracy = accuracy_table(rows)
    # drift forced, as if chosen elsewhere: its median (1.1) is above the baseline's (1.0)
    page = demand.accuracy_markdown(
        accuracy, {"cpp": "drift"}, horizon=3, max_origins=5, sources="test", generated_by="x"
    )
    assert "does not beat the last value, and is worse in most LAs (67%)" in page
    assert "| drift (chosen) | 3 | 30 | 9.3% | 1.10 | 80.0% | 90.0% |" in page
