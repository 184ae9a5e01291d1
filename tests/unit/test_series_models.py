"""The vectorised maximum-likelihood fits against hand-checkable cases and statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal, norm
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from analysis import demand, series_models
from analysis.external import load_external

TRENDS = {"ses": "none", "holt": "linear", "damped_holt": "damped"}
Z95 = norm.ppf(0.975)


def statsmodels_ets(y: np.ndarray, trend: str) -> ETSModel:
    return ETSModel(
        pd.Series(y),
        error="add",
        trend=None if trend == "none" else "add",
        damped_trend=trend == "damped",
    )


def statsmodels_arima(y: np.ndarray, *, diffuse: bool = False) -> ARIMA:
    model = ARIMA(y, order=(1, 1, 0), trend="t")
    if diffuse:
        # statsmodels' default prior on the initial level, N(0, 10^6), is not diffuse for
        # counts in the thousands; a variance of 10^12 is, to many digits
        model.ssm.initial_variance = 1e12
        model.initialize_default(1e12)
    return model


def ets_model_params(params: np.ndarray, trend: str) -> np.ndarray:
    """statsmodels' parameter vector from ours (alpha, beta, phi, level, trend)."""
    alpha, beta, phi, level, slope = params
    return {
        "none": np.array([alpha, level]),
        "linear": np.array([alpha, beta, level, slope]),
        "damped": np.array([alpha, beta, phi, level, slope]),
    }[trend]


# --------------------------------------------------------------------------------------------
# Hand-checkable cases


def test_ses_on_a_constant_series_forecasts_the_constant_with_no_spread():
    fits = series_models.fit_ets([np.full(10, 431.0)], "none", 3)
    np.testing.assert_allclose(fits.mean[0], [431.0, 431.0, 431.0], atol=1e-6)
    np.testing.assert_allclose(fits.sd[0], 0.0, atol=1e-6)


def test_holt_on_a_straight_line_continues_it_exactly():
    line = 200.0 + 15.0 * np.arange(9)
    fits = series_models.fit_ets([line], "linear", 3)
    np.testing.assert_allclose(fits.mean[0], [335.0, 350.0, 365.0], atol=1e-5)
    np.testing.assert_allclose(fits.sd[0], 0.0, atol=1e-4)
    # the initial states are the line itself, one step before its first value
    np.testing.assert_allclose(fits.params[0, 3:], [185.0, 15.0], atol=1e-5)


def test_ses_estimates_replay_through_the_textbook_recursion():
    y = np.array([100.0, 110.0, 100.0, 120.0, 110.0, 140.0, 130.0, 140.0])
    fits = series_models.fit_ets([y], "none", 2)
    alpha, level = fits.params[0, 0], fits.params[0, 3]
    sse = 0.0
    for value in y:
        sse += (value - level) ** 2
        level += alpha * (value - level)
    assert fits.sigma2[0] == pytest.approx(sse / len(y))
    np.testing.assert_allclose(fits.mean[0], [level, level])
    np.testing.assert_allclose(fits.sd[0], np.sqrt(sse / len(y) * np.array([1, 1 + alpha**2])))
    # no smoothing level on a fine grid does better
    grid = np.linspace(1e-4, 1 - 1e-4, 999)
    best = max(series_models.ets_loglike(y, "none", a) for a in grid)
    assert fits.loglike[0] >= best - 1e-9


def test_arima_on_a_known_ar1_path():
    # yearly changes 10, 20, 5, 12.5, 8.75, ... that revert to a drift of 10 at rate -0.5,
    # with one shock: the likelihood is that of a multivariate normal, computed directly
    changes = [10.0, 20.0, 5.0, 12.5, 8.75, 10.625, 9.6875, 30.0, 0.0, 15.0, 7.5]
    y = 1000 + np.concatenate([[0.0], np.cumsum(changes)])
    fits = series_models.fit_arima_drift([y], 3)
    phi, drift = fits.params[0]
    variance = fits.sigma2[0] / (1 - phi**2)
    q = len(changes)
    correlation = phi ** np.abs(np.subtract.outer(np.arange(q), np.arange(q)))
    direct = multivariate_normal(np.full(q, drift), variance * correlation).logpdf(changes)
    assert fits.loglike[0] == pytest.approx(direct, abs=1e-8)
    assert fits.loglike[0] == pytest.approx(series_models.arima_drift_loglike(y, phi))
    assert phi < -0.3  # the changes swing about their mean
    # forecast: the last change's deviation decays by phi each year, added to the last value
    deviation = changes[-1] - drift
    expected = y[-1] + np.cumsum([drift + deviation * phi**k for k in (1, 2, 3)])
    np.testing.assert_allclose(fits.mean[0], expected)
    # variance: sigma2 times the sum of squared psi weights 1, 1 + phi, 1 + phi + phi^2
    psi = np.cumsum(phi ** np.arange(3))
    np.testing.assert_allclose(fits.sd[0], np.sqrt(fits.sigma2[0] * np.cumsum(psi**2)))


def test_bad_windows_are_refused():
    with pytest.raises(ValueError, match="missing values"):
        series_models.fit_ets([np.array([1.0, np.nan, 3.0, 4.0])], "none", 1)
    with pytest.raises(ValueError, match="first and last"):
        series_models.fit_arima_drift([np.array([np.nan, 1.0, 2.0, 3.0, 4.0])], 1)
    with pytest.raises(ValueError, match="trend"):
        series_models.fit_ets([np.ones(5)], "cubic", 1)


# --------------------------------------------------------------------------------------------
# Real training windows against statsmodels

#: A fixed sample of LAs (a unitary, a metropolitan district and a London borough): their annual
#: series at every origin with at least the 8 values the models need.
SAMPLE_LAS = ("E06000001", "E08000025", "E09000002")


@pytest.fixture(scope="module")
def windows() -> list[np.ndarray]:
    tasks = [
        task
        for task in demand._la_series(load_external(), demand.PUBLISHED_MEASURES)
        if task.la_code in SAMPLE_LAS
    ]
    result = []
    for task in tasks:
        y, _ = demand._regularise(task.series, "annual")
        observed = np.flatnonzero(~np.isnan(y))
        result += [y[: p + 1] for count, p in enumerate(observed, start=1) if count >= 8]
    # every other window keeps the statsmodels fits to about 200 (a few seconds)
    return result[::2]


def test_the_sample_holds_real_windows_with_and_without_gaps(windows):
    assert 45 <= len(windows) <= 60
    assert sum(np.isnan(w).any() for w in windows) >= 10


@pytest.mark.parametrize("method", ["ses", "holt", "damped_holt"])
def test_ets_never_finds_a_worse_optimum_than_statsmodels(windows, method):
    trend = TRENDS[method]
    filled = [demand._interpolate(w) for w in windows]
    ours = series_models.fit_ets(filled, trend, 3)
    agreeing = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(filled):
            theirs = statsmodels_ets(y, trend).fit(disp=False)
            assert ours.loglike[i] >= theirs.llf - 1e-6
            prediction = theirs.get_prediction(start=len(y), end=len(y) + 2)
            mean = np.asarray(prediction.predicted_mean)
            width = 2 * Z95 * np.sqrt(np.asarray(prediction.forecast_variance))
            # the same optimum: every estimate agrees (the likelihood is flat enough in the
            # initial states that an optimiser stopping early moves the forecasts)
            ours_estimates = ets_model_params(ours.params[i], trend)
            states = 1 if trend == "none" else 2
            tolerance = np.full(len(ours_estimates), 1e-3)
            tolerance[-states:] *= np.mean(y)  # initial states: 0.1% of the series' level
            if np.all(np.abs(ours_estimates - theirs.params) <= tolerance):
                agreeing += 1
                np.testing.assert_allclose(ours.mean[i], mean, rtol=0.005)
                np.testing.assert_allclose(2 * Z95 * ours.sd[i], width, rtol=0.005)
    assert agreeing >= len(windows) / 3


@pytest.mark.parametrize("trend", ["none", "linear", "damped"])
def test_ets_forecasts_are_statsmodels_at_the_same_estimates(windows, trend):
    filled = [demand._interpolate(w) for w in windows[::3]]
    ours = series_models.fit_ets(filled, trend, 3)
    for i, y in enumerate(filled):
        model = statsmodels_ets(y, trend)
        smoothed = model.smooth(ets_model_params(ours.params[i], trend))
        prediction = smoothed.get_prediction(start=len(y), end=len(y) + 2)
        assert ours.loglike[i] == pytest.approx(smoothed.llf, abs=1e-8)
        np.testing.assert_allclose(ours.mean[i], prediction.predicted_mean, rtol=1e-9)
        np.testing.assert_allclose(ours.sd[i] ** 2, prediction.forecast_variance, rtol=1e-9)


def test_arima_never_finds_a_worse_optimum_than_statsmodels(windows):
    ours = series_models.fit_arima_drift(windows, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(windows):
            theirs = statsmodels_arima(y).fit(cov_type="none")
            drift, phi = theirs.params[:2]
            # both estimates scored by the exact likelihood (statsmodels' own adds a prior)
            assert ours.loglike[i] >= series_models.arima_drift_loglike(y, phi) - 1e-6


def test_arima_forecasts_are_statsmodels_at_the_same_estimates(windows):
    sample = windows[::2]
    ours = series_models.fit_arima_drift(sample, 3)
    for i, y in enumerate(sample):
        phi, drift = ours.params[i]
        smoothed = statsmodels_arima(y, diffuse=True).smooth([drift, phi, ours.sigma2[i]])
        forecast = smoothed.get_forecast(3)
        assert ours.loglike[i] == pytest.approx(smoothed.llf, abs=1e-4)
        np.testing.assert_allclose(ours.mean[i], forecast.predicted_mean, rtol=1e-6)
        np.testing.assert_allclose(ours.sd[i] ** 2, forecast.var_pred_mean, rtol=1e-5)
