"""Demand forecasts: one series at a time, honest baselines, and a rolling-origin backtest.

This module owns the forecasting of a count of children (referrals, children in need, child
protection plans, children looked after, care leavers) ``h`` periods ahead, with 80% and 95%
prediction intervals, and the evidence for which method to trust:

* the series is either **annual** (the DfE's published statistics: 5 to 16 years per LA, some
  years suppressed or not published) or **monthly** (a council's own management information,
  with seasonality);
* methods, simplest first: ``naive`` (the last value), ``seasonal_naive`` (the same month last
  year; monthly only), ``drift`` (the straight line from the first to the last value),
  ``ses``, ``holt`` and ``damped_holt`` (exponential smoothing with additive errors and no
  trend, a linear or a damped trend, plus an additive season for monthly data) and ``arima``
  (ARIMA(1,1,0) with drift for annual data, the seasonal "airline" ARIMA(0,1,1)(0,1,1) for
  monthly data);
* how the models are fitted: for **annual** series, by exact maximum likelihood in
  :mod:`analysis.series_models`, which fits a model to every training window of every series
  at once in a few vectorised NumPy calls, in statsmodels' parametrisation and bounds, and
  reaches statsmodels' estimates or better ones (statsmodels' numerical optimiser often stops
  short on these short series); for **monthly** series, by statsmodels (``ETSModel`` and
  ``ARIMA``), one fit per window. The backtest and the published forecast use the same
  estimator;
* the **rolling-origin backtest** refits every method on the data up to each origin, forecasts
  1..h periods ahead and scores the forecasts against what was then published: MAPE, MASE
  (forecast errors scaled by the in-sample mean absolute error of the last-value forecast) and
  the share of actual values inside the 80% and 95% intervals;
* the method used for a measure is **chosen by that backtest** across every English LA
  (lowest median MASE; a tie as shown to two decimals goes to the simpler method), never by
  hand.

Series are ``pd.Series`` of counts indexed by period end (a date). Gaps (suppressed or
unpublished years) are allowed: the baselines and ARIMA use only what was observed (a change
over a gap is the sum of that many yearly changes), and exponential smoothing, which needs an
unbroken series, fits through interior gaps filled by straight-line interpolation. Forecasts
and interval bounds are counts, so they are floored at zero. statsmodels' warnings are
silenced inside these functions so that they never reach a committee's HTML report.

The functions are pure: series or tidy tables in, tidy tables out. Turning the backtest into
``docs/forecast_accuracy.md`` is :func:`accuracy_markdown`; writing it is the caller's job
(``benchmarks/bench_forecast.py --write-docs``).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

# Imported here, not inside the fitting functions: importing statsmodels' exceptions module
# installs an "always show ConvergenceWarning" filter, which would override our silencing if it
# first ran inside :func:`_quiet`.
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from analysis import series_models

Frequency = Literal["annual", "monthly"]

#: Periods in a seasonal cycle.
SEASON_LENGTH: Mapping[str, int] = {"annual": 1, "monthly": 12}

#: Every method, simplest first: a tie in backtest accuracy goes to the earlier one.
METHODS: tuple[str, ...] = (
    "naive",
    "seasonal_naive",
    "drift",
    "ses",
    "holt",
    "damped_holt",
    "arima",
)
BASELINE_METHODS: tuple[str, ...] = ("naive", "seasonal_naive", "drift")
MODEL_METHODS: tuple[str, ...] = ("ses", "holt", "damped_holt", "arima")

#: What each method is, in words for a report.
METHOD_DESCRIPTIONS: Mapping[str, str] = {
    "naive": "last value carried forward",
    "seasonal_naive": "same month of the previous year",
    "drift": "straight line from the first to the last value",
    "ses": "simple exponential smoothing: a level, no trend (plus a season for monthly data)",
    "holt": "exponential smoothing with a linear trend (Holt; Holt-Winters for monthly data)",
    "damped_holt": "exponential smoothing with a damped trend (plus a season for monthly data)",
    "arima": "ARIMA(1,1,0) with drift (annual); ARIMA(0,1,1)(0,1,1)12 (monthly)",
}

#: Fewest observed values a fitted model (ETS, ARIMA) is given: below this only baselines are
#: used. Annual ETS with a damped trend estimates five parameters; monthly models need three
#: full years to see the season more than twice.
MIN_MODEL_POINTS: Mapping[str, int] = {"annual": 8, "monthly": 36}

#: Fewest observed values for the baselines to give a forecast and an interval: the drift
#: interval needs two residuals; seasonal naive needs a full year.
MIN_BASELINE_POINTS: Mapping[str, int] = {"naive": 2, "drift": 3, "seasonal_naive": 13}

FORECAST_COLUMNS: tuple[str, ...] = (
    "period_end",
    "step",
    "method",
    "forecast",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
    "note",
)

BACKTEST_COLUMNS: tuple[str, ...] = (
    "origin",
    "period_end",
    "step",
    "method",
    "forecast",
    "actual",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
    "scale",
)

ACCURACY_COLUMNS: tuple[str, ...] = (
    "method",
    "n_origins",
    "n_forecasts",
    "mape",
    "mase",
    "inside_80",
    "inside_95",
    "coverage_80",
    "coverage_95",
)

_Z80 = float(norm.ppf(0.90))
_Z95 = float(norm.ppf(0.975))


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence statsmodels' convergence and estimation warnings and numpy's float warnings."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# --------------------------------------------------------------------------------------------
# Putting a series on a regular calendar


def _period_number(index: pd.DatetimeIndex, frequency: Frequency) -> np.ndarray:
    if frequency == "annual":
        return index.year.to_numpy()
    return (index.year * 12 + index.month - 1).to_numpy()


def _check_frequency(frequency: str) -> None:
    if frequency not in SEASON_LENGTH:
        raise ValueError(f"frequency must be 'annual' or 'monthly'; found {frequency!r}")


def _regularise(series: pd.Series, frequency: Frequency) -> tuple[np.ndarray, pd.Timestamp]:
    """Return the values on an unbroken calendar (NaN where missing) and the last period end.

    Leading and trailing missing values are dropped: a forecast starts after the last value
    that was actually published.
    """
    _check_frequency(frequency)
    values = pd.to_numeric(pd.Series(series), errors="coerce").astype(float)
    values.index = pd.DatetimeIndex(pd.to_datetime(values.index))
    values = values.dropna().sort_index()
    if values.empty:
        return np.array([], dtype=float), pd.NaT
    numbers = _period_number(values.index, frequency)
    if len(set(numbers)) != len(numbers):
        raise ValueError(
            f"the series has two values for the same {frequency} period "
            f"(period ends {list(values.index.strftime('%Y-%m-%d'))})"
        )
    regular = np.full(numbers[-1] - numbers[0] + 1, np.nan)
    regular[numbers - numbers[0]] = values.to_numpy()
    return regular, values.index[-1]


def _future_period_ends(last: pd.Timestamp, horizon: int, frequency: Frequency) -> list:
    if frequency == "annual":
        return [last + pd.DateOffset(years=k) for k in range(1, horizon + 1)]
    month = pd.Period(last, freq="M")
    return [(month + k).to_timestamp(how="end").normalize() for k in range(1, horizon + 1)]


# --------------------------------------------------------------------------------------------
# The methods, on a regular array whose last value is observed. Each returns the mean forecast
# and its standard deviation for steps 1..horizon.


def _naive_residual_scale(y: np.ndarray, lag: int) -> float:
    """Mean absolute error of the in-sample lag-``lag`` naive forecast (MASE's denominator)."""
    if len(y) <= lag:
        return math.nan
    diffs = np.abs(y[lag:] - y[:-lag])
    diffs = diffs[~np.isnan(diffs)]
    return float(diffs.mean()) if diffs.size else math.nan


def _seasonal_naive(y: np.ndarray, horizon: int, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Last value (``lag`` 1) or same season last cycle; sd = sigma * sqrt(cycles ahead)."""
    n = len(y)
    mean = np.full(horizon, np.nan)
    cycles = np.ceil(np.arange(1, horizon + 1) / lag)
    for k in range(1, horizon + 1):
        position = n - 1 + k - lag * int(cycles[k - 1])
        # a suppressed value at that position: take the same season one cycle earlier
        while position >= 0 and np.isnan(y[position]):
            position -= lag
        if position >= 0:
            mean[k - 1] = y[position]
    residuals = y[lag:] - y[:-lag] if n > lag else np.array([])
    residuals = residuals[~np.isnan(residuals)]
    sigma = math.sqrt(float(np.mean(residuals**2))) if residuals.size else math.nan
    return mean, sigma * np.sqrt(cycles)


def _drift(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Straight line through the first and last values; sd = sigma * sqrt(h (1 + h / span))."""
    observed = np.flatnonzero(~np.isnan(y))
    first, last = observed[0], observed[-1]
    span = last - first
    steps = np.arange(1, horizon + 1)
    if span == 0:
        return np.full(horizon, np.nan), np.full(horizon, np.nan)
    slope = (y[last] - y[first]) / span
    mean = y[last] + slope * steps
    residuals = np.diff(y) - slope
    residuals = residuals[~np.isnan(residuals)]
    # one parameter (the slope) was estimated from the residuals' own data
    sigma = (
        math.sqrt(float(np.sum(residuals**2)) / (residuals.size - 1))
        if residuals.size > 1
        else math.nan
    )
    return mean, sigma * np.sqrt(steps * (1 + steps / span))


def _ets(y: np.ndarray, horizon: int, season: int, trend: str) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels ETS with additive errors and an additive season (monthly series)."""
    filled = pd.Series(y).interpolate(limit_area="inside")
    model = ETSModel(
        filled,
        error="add",
        trend=None if trend == "none" else "add",
        damped_trend=trend == "damped",
        seasonal="add",
        seasonal_periods=season,
    )
    fitted = model.fit(disp=False)
    prediction = fitted.get_prediction(start=len(y), end=len(y) + horizon - 1)
    return (
        np.asarray(prediction.predicted_mean, dtype=float),
        np.sqrt(np.asarray(prediction.forecast_variance, dtype=float)),
    )


def _arima(y: np.ndarray, horizon: int, season: int) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels' seasonal "airline" ARIMA (monthly series)."""
    # the state-space ARIMA skips missing values in its likelihood, so gaps need no filling
    model = ARIMA(y, order=(0, 1, 1), seasonal_order=(0, 1, 1, season))
    # no standard errors of the parameters are used, and their numerical derivatives cost
    # about 5% of a fit (the estimates and forecasts are the same, checked on 539 fits)
    forecast = model.fit(cov_type="none").get_forecast(horizon)
    return (
        np.asarray(forecast.predicted_mean, dtype=float),
        np.sqrt(np.asarray(forecast.var_pred_mean, dtype=float)),
    )


def _interpolate(y: np.ndarray) -> np.ndarray:
    """Interior gaps filled by a straight line between the published values either side."""
    missing = np.isnan(y)
    if not missing.any():
        return y
    positions = np.arange(len(y))
    return np.interp(positions, positions[~missing], y[~missing])


def _fit_annual(
    windows: list[np.ndarray], horizon: int, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd forecasts of an annual model for many windows, by one vectorised fit."""
    if method == "arima":
        fits = series_models.fit_arima_drift(windows, horizon)
    else:
        trend = _ETS_TRENDS[method]
        fits = series_models.fit_ets([_interpolate(y) for y in windows], trend, horizon)
    return fits.mean, fits.sd


_ETS_TRENDS = {"ses": "none", "holt": "linear", "damped_holt": "damped"}


def _minimum_points(method: str, frequency: Frequency) -> int:
    if method in MODEL_METHODS:
        return MIN_MODEL_POINTS[frequency]
    return MIN_BASELINE_POINTS[method]


def applicable_methods(n_observed: int, frequency: Frequency = "annual") -> list[str]:
    """Return the methods that can forecast a series with ``n_observed`` published values.

    Parameters
    ----------
    n_observed
        Number of non-missing values in the series.
    frequency
        ``"annual"`` or ``"monthly"``; seasonal naive applies to monthly series only.

    Returns
    -------
    list of str
        Method names in :data:`METHODS` order (simplest first); empty for an empty series.

    Raises
    ------
    ValueError
        If ``frequency`` is neither ``"annual"`` nor ``"monthly"``.
    """
    _check_frequency(frequency)
    methods = []
    for method in METHODS:
        if method == "seasonal_naive" and frequency != "monthly":
            continue
        if n_observed >= _minimum_points(method, frequency):
            methods.append(method)
    if not methods and n_observed >= 1:
        # one value still gives a last-value forecast, without an interval
        methods.append("naive")
    return methods


@dataclass(frozen=True)
class _Forecast:
    method: str
    mean: np.ndarray
    sd: np.ndarray
    note: str


def _last_value(y: np.ndarray, horizon: int, note: str) -> _Forecast:
    mean, sd = _seasonal_naive(y, horizon, 1)
    return _Forecast("naive", mean, sd, note)


def _checked(y: np.ndarray, method: str, mean: np.ndarray, sd: np.ndarray) -> _Forecast:
    """The forecast, or the last value with a note when the model gave no finite numbers."""
    if method in BASELINE_METHODS or np.all(np.isfinite(mean) & np.isfinite(sd)):
        return _Forecast(method, mean, sd, "")
    return _last_value(
        y,
        len(mean),
        f"{method} failed to fit (a forecast that was not a finite number): last value used",
    )


def _run_method(y: np.ndarray, horizon: int, method: str, frequency: Frequency) -> _Forecast:
    """Forecast one window with a baseline or a monthly statsmodels model."""
    season = SEASON_LENGTH[frequency]
    with _quiet():
        try:
            if method == "naive":
                mean, sd = _seasonal_naive(y, horizon, 1)
            elif method == "seasonal_naive":
                mean, sd = _seasonal_naive(y, horizon, season)
            elif method == "drift":
                mean, sd = _drift(y, horizon)
            elif method in _ETS_TRENDS:
                mean, sd = _ets(y, horizon, season, _ETS_TRENDS[method])
            else:
                mean, sd = _arima(y, horizon, season)
        # statsmodels raises many kinds of error on short or flat series; any of them means
        # "this model cannot forecast this series", and the note says so
        except Exception as error:
            return _last_value(
                y, horizon, f"{method} failed to fit ({type(error).__name__}): last value used"
            )
    return _checked(y, method, mean, sd)


def _run_annual_model(windows: list[np.ndarray], horizon: int, method: str) -> list[_Forecast]:
    """Fit an annual model to every window at once; a window that fails falls back alone."""
    with _quiet():
        try:
            means, sds = _fit_annual(windows, horizon, method)
        # a numerical failure in the batch: fit the windows one by one, so that only the
        # windows that cannot be fitted fall back to the last value
        except (ValueError, np.linalg.LinAlgError) as error:
            if len(windows) == 1:
                return [
                    _last_value(
                        windows[0],
                        horizon,
                        f"{method} failed to fit ({type(error).__name__}): last value used",
                    )
                ]
            return [_run_annual_model([y], horizon, method)[0] for y in windows]
    return [_checked(y, method, m, sd) for y, m, sd in zip(windows, means, sds, strict=True)]


def _forecast_windows(
    windows: Sequence[np.ndarray], horizon: int, method: str, frequency: Frequency
) -> list[_Forecast]:
    """Forecast every window with ``method``, falling back to the last value when it cannot.

    The windows are regular arrays whose last value is published. Annual models are fitted to
    all the windows in one vectorised call (:mod:`analysis.series_models`); baselines and
    monthly models window by window.
    """
    minimum = _minimum_points(method, frequency)
    results: list[_Forecast | None] = [None] * len(windows)
    to_fit = []
    for i, y in enumerate(windows):
        n_observed = int(np.sum(~np.isnan(y)))
        if n_observed < minimum and method != "naive":
            results[i] = _last_value(
                y,
                horizon,
                f"{method} needs at least {minimum} values and the series has {n_observed}: "
                "the last value is used instead",
            )
        else:
            to_fit.append(i)
    if frequency == "annual" and method in MODEL_METHODS and to_fit:
        fitted = _run_annual_model([windows[i] for i in to_fit], horizon, method)
    else:
        fitted = [_run_method(windows[i], horizon, method, frequency) for i in to_fit]
    for i, forecast in zip(to_fit, fitted, strict=True):
        results[i] = forecast
    return [r for r in results if r is not None]


def _interval_frame(forecast: _Forecast) -> dict[str, np.ndarray]:
    """Point forecast and interval bounds, floored at zero because they count children."""
    mean, sd = forecast.mean, forecast.sd
    return {
        "forecast": np.maximum(mean, 0.0),
        "lower_80": np.maximum(mean - _Z80 * sd, 0.0),
        "upper_80": np.maximum(mean + _Z80 * sd, 0.0),
        "lower_95": np.maximum(mean - _Z95 * sd, 0.0),
        "upper_95": np.maximum(mean + _Z95 * sd, 0.0),
    }


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})


# --------------------------------------------------------------------------------------------
# Public: forecast one series


def _check_horizon(horizon: int) -> None:
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a whole number of periods, 1 or more; found {horizon!r}")


def _requested_methods(method: str | Sequence[str], frequency: Frequency) -> list[str]:
    names = [method] if isinstance(method, str) else list(method)
    unknown = [name for name in names if name not in (*METHODS, "auto", "all")]
    if unknown:
        raise ValueError(
            f"unknown forecasting method(s) {unknown}; expected 'auto', 'all' or one of "
            f"{list(METHODS)}"
        )
    if "seasonal_naive" in names and frequency != "monthly":
        raise ValueError("seasonal_naive needs a monthly series (frequency='monthly')")
    return names


def forecast_series(
    series: pd.Series,
    horizon: int,
    method: str | Sequence[str] = "auto",
    frequency: Frequency = "annual",
    *,
    backtest_horizon: int | None = None,
) -> pd.DataFrame:
    """Forecast one series ``horizon`` periods ahead with 80% and 95% prediction intervals.

    Parameters
    ----------
    series
        Counts indexed by period end (dates). Missing values (suppressed years) are allowed.
    horizon
        Number of periods (years or months) to forecast.
    method
        A name from :data:`METHODS`, a list of names, ``"all"`` (every method that applies to
        the series) or ``"auto"``: the method with the lowest MASE in a rolling-origin
        backtest on this series itself (:func:`backtest_series`), the last value when the
        series is too short to backtest. For a measure across LAs prefer the method chosen by
        :func:`choose_methods`, which rests on about 150 series rather than one.
    frequency
        ``"annual"`` (published statistics) or ``"monthly"`` (a council's own extract).
    backtest_horizon
        Steps scored by the ``"auto"`` backtest; defaults to ``horizon``.

    Returns
    -------
    pandas.DataFrame
        One row per method and step: ``period_end``, ``step``, ``method`` (the method actually
        used), ``forecast``, ``lower_80``, ``upper_80``, ``lower_95``, ``upper_95`` and
        ``note`` (why a method fell back to the last value; blank otherwise). Empty when the
        series has no values. Interval bounds are NaN where the series is too short to
        estimate the spread (a single value).

    Raises
    ------
    ValueError
        If ``horizon`` is not a whole number of at least 1, ``frequency`` or ``method`` is not
        known, or the series has two values for one period.
    """
    _check_horizon(horizon)
    _check_frequency(frequency)
    names = _requested_methods(method, frequency)
    y, last = _regularise(series, frequency)
    if y.size == 0:
        return _empty(FORECAST_COLUMNS)
    n_observed = int(np.sum(~np.isnan(y)))
    if "all" in names:
        names = applicable_methods(n_observed, frequency)
    elif "auto" in names:
        names = [_auto_method(series, backtest_horizon or horizon, frequency)]
    period_ends = _future_period_ends(last, horizon, frequency)
    forecasts = [
        _forecast_windows([y], horizon, name, frequency)[0] for name in dict.fromkeys(names)
    ]
    return _forecast_table([(period_ends, forecast) for forecast in forecasts])


def _forecast_table(parts: Sequence[tuple[list, _Forecast]]) -> pd.DataFrame:
    """The forecast rows of many forecasts, each with the period ends it forecasts."""
    columns: dict[str, list] = {name: [] for name in FORECAST_COLUMNS}
    for period_ends, forecast in parts:
        horizon = len(period_ends)
        columns["period_end"].append(np.array(period_ends, dtype="datetime64[ns]"))
        columns["step"].append(np.arange(1, horizon + 1))
        columns["method"].append(np.repeat(forecast.method, horizon))
        for name, values in _interval_frame(forecast).items():
            columns[name].append(values)
        columns["note"].append(np.repeat(forecast.note, horizon))
    return pd.DataFrame({name: np.concatenate(values) for name, values in columns.items()})


def _auto_method(series: pd.Series, horizon: int, frequency: Frequency) -> str:
    backtest = backtest_series(series, horizon, frequency=frequency)
    if backtest.empty:
        return "naive"
    accuracy = score_backtest(backtest)
    return _best_by_mase(accuracy.set_index("method")["mase"])


# --------------------------------------------------------------------------------------------
# Public: rolling-origin backtest of one series


def backtest_series(
    series: pd.Series,
    horizon: int,
    methods: Sequence[str] | None = None,
    frequency: Frequency = "annual",
    *,
    max_origins: int | None = 5,
) -> pd.DataFrame:
    """Score every method by rolling-origin backtest on one series.

    Each origin is a published period. The methods are fitted on the values up to and
    including the origin only, forecast 1..``horizon`` periods ahead, and each forecast is set
    against the value later published (periods with no published value are not scored). All
    methods are scored at the same origins: the earliest origin has at least
    :data:`MIN_MODEL_POINTS` values when a fitted model is among the methods. A series too
    short for the fitted models is scored on the baselines only.

    Parameters
    ----------
    series
        Counts indexed by period end; missing values allowed.
    horizon
        Steps ahead to score (for example 3 years).
    methods
        Methods to score; defaults to every method that applies to ``frequency``.
    frequency
        ``"annual"`` or ``"monthly"``.
    max_origins
        Use only the latest this-many origins (the years that matter most, and a bound on the
        run time); ``None`` uses every origin.

    Returns
    -------
    pandas.DataFrame
        One row per origin, method and scored step: ``origin`` and ``period_end`` (dates),
        ``step``, ``method``, ``forecast``, ``actual``, the four interval bounds and
        ``scale`` (the in-sample mean absolute error of the naive forecast at that origin:
        lag 1 for annual, lag 12 for monthly data, as MASE prescribes). Empty when the series
        is too short to backtest even the baselines. ``method`` is the method scored; where a
        model failed to fit at an origin its forecast there is the last value, as a user of
        :func:`forecast_series` would have got.

    Raises
    ------
    ValueError
        If ``horizon``, ``frequency`` or a method name is not valid, or the series has two
        values for one period.
    """
    _check_horizon(horizon)
    _check_frequency(frequency)
    plan = _plan_backtest(series, horizon, _backtest_methods(methods, frequency), frequency)
    if plan is None:
        return _empty(BACKTEST_COLUMNS)
    if max_origins is not None:
        plan = plan.latest(max_origins)
    columns = _backtest_columns([plan], horizon, frequency)
    return pd.DataFrame({name: columns[name] for name in BACKTEST_COLUMNS})


def _backtest_methods(methods: Sequence[str] | None, frequency: Frequency) -> list[str]:
    if methods is None:
        return applicable_methods(10**6, frequency)
    _requested_methods(list(methods), frequency)
    return [m for m in METHODS if m in methods]


@dataclass(frozen=True)
class _BacktestPlan:
    """One series' backtest: its values on a regular calendar, the methods and the origins."""

    y: np.ndarray
    period_ends: np.ndarray
    methods: list[str]
    origins: list[int]

    def latest(self, count: int) -> _BacktestPlan:
        return _BacktestPlan(self.y, self.period_ends, self.methods, self.origins[-count:])


def _plan_backtest(
    series: pd.Series, horizon: int, methods: list[str], frequency: Frequency
) -> _BacktestPlan | None:
    """Origins at which every method can be scored (the baselines alone if the models can't)."""
    y, last = _regularise(series, frequency)
    if y.size == 0:
        return None
    observed = np.flatnonzero(~np.isnan(y))
    for candidate in (methods, [m for m in methods if m in BASELINE_METHODS]):
        if not candidate:
            continue
        minimum = max(_minimum_points(m, frequency) for m in candidate)
        origins = [
            int(position)
            for count, position in enumerate(observed, start=1)
            if count >= minimum and np.any(~np.isnan(y[position + 1 : position + 1 + horizon]))
        ]
        if origins:
            period_ends = np.array(_period_ends_of(y, last, frequency), dtype="datetime64[ns]")
            return _BacktestPlan(y, period_ends, candidate, origins)
    return None


def _backtest_columns(
    plans: Sequence[_BacktestPlan], horizon: int, frequency: Frequency
) -> dict[str, np.ndarray]:
    """Backtest rows of many series; column ``series`` is the row's position in ``plans``.

    Each method is fitted to the training windows of every series and origin in one call, so
    an annual model is one vectorised fit for the lot. Rows are in series, origin, method
    order.
    """
    forecasts: dict[tuple[int, int, str], _Forecast] = {}
    for method in METHODS:
        keys = [
            (number, origin)
            for number, plan in enumerate(plans)
            if method in plan.methods
            for origin in plan.origins
        ]
        if not keys:
            continue
        windows = [plans[number].y[: origin + 1] for number, origin in keys]
        fitted = _forecast_windows(windows, horizon, method, frequency)
        for (number, origin), forecast in zip(keys, fitted, strict=True):
            forecasts[(number, origin, method)] = forecast
    lag = SEASON_LENGTH[frequency]
    columns: dict[str, list] = {name: [] for name in ("series", *BACKTEST_COLUMNS)}
    for number, plan in enumerate(plans):
        y, period_ends = plan.y, plan.period_ends
        for origin in plan.origins:
            # the steps ahead that were published (and so can be scored)
            steps = np.arange(1, horizon + 1)
            steps = steps[origin + steps < len(y)]
            steps = steps[~np.isnan(y[origin + steps])]
            scale = _naive_residual_scale(y[: origin + 1], lag)
            for method in plan.methods:
                bounds = _interval_frame(forecasts[(number, origin, method)])
                columns["series"].append(np.full(steps.size, number))
                columns["origin"].append(np.repeat(period_ends[origin], steps.size))
                columns["period_end"].append(period_ends[origin + steps])
                columns["step"].append(steps)
                columns["method"].append(np.repeat(method, steps.size))
                columns["actual"].append(y[origin + steps])
                columns["scale"].append(np.full(steps.size, scale))
                for name, values in bounds.items():
                    columns[name].append(values[steps - 1])
    return {name: np.concatenate(parts) for name, parts in columns.items()}


def _period_ends_of(y: np.ndarray, last: pd.Timestamp, frequency: Frequency) -> list:
    """Period end of every position of the regular array (the last one is ``last``)."""
    n = len(y)
    if frequency == "annual":
        return [last - pd.DateOffset(years=n - 1 - i) for i in range(n)]
    month = pd.Period(last, freq="M")
    return [(month - (n - 1 - i)).to_timestamp(how="end").normalize() for i in range(n)]


def score_backtest(backtest: pd.DataFrame) -> pd.DataFrame:
    """Summarise a backtest of one series: accuracy of each method.

    Parameters
    ----------
    backtest
        A table from :func:`backtest_series`.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``n_origins``, ``n_forecasts``, ``mape`` (mean absolute
        percentage error, %, over actual values above zero), ``mase`` (mean absolute error
        divided by the in-sample naive MAE at each origin; NaN when the history never moved),
        ``inside_80``/``inside_95`` (forecasts whose actual fell inside the interval) and
        ``coverage_80``/``coverage_95`` (those as shares of ``n_forecasts``).

    Raises
    ------
    KeyError
        If ``backtest`` lacks a column of :data:`BACKTEST_COLUMNS`.
    """
    missing = [c for c in BACKTEST_COLUMNS if c not in backtest.columns]
    if missing:
        raise KeyError(f"backtest table lacks columns {missing}")
    if backtest.empty:
        return _empty(ACCURACY_COLUMNS)
    return _score(backtest, [])[list(ACCURACY_COLUMNS)]


def _score(backtest: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Accuracy of each method for each group of ``keys`` (in the order the groups appear)."""
    frame = backtest.copy()
    error = (frame["forecast"] - frame["actual"]).abs()
    frame["ape"] = np.where(frame["actual"] > 0, 100 * error / frame["actual"], np.nan)
    frame["scaled"] = np.where(frame["scale"] > 0, error / frame["scale"], np.nan)
    frame["in80"] = (frame["actual"] >= frame["lower_80"]) & (frame["actual"] <= frame["upper_80"])
    frame["in95"] = (frame["actual"] >= frame["lower_95"]) & (frame["actual"] <= frame["upper_95"])
    grouped = frame.groupby([*keys, "method"], sort=False)
    accuracy = pd.DataFrame(
        {
            "n_origins": grouped["origin"].nunique(),
            "n_forecasts": grouped.size(),
            "mape": grouped["ape"].mean(),
            "mase": grouped["scaled"].mean(),
            "inside_80": grouped["in80"].sum(),
            "inside_95": grouped["in95"].sum(),
        }
    ).reset_index()
    accuracy["coverage_80"] = accuracy["inside_80"] / accuracy["n_forecasts"]
    accuracy["coverage_95"] = accuracy["inside_95"] / accuracy["n_forecasts"]
    rank = {m: i for i, m in enumerate(METHODS)}
    accuracy["_rank"] = accuracy["method"].map(rank)
    return (
        accuracy.sort_values([*keys, "_rank"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _best_by_mase(mase: pd.Series, decimals: int = 2) -> str:
    """Lowest MASE as shown to ``decimals``; a tie goes to the simpler method."""
    shown = mase.dropna().round(decimals)
    if shown.empty:
        return "naive"
    best = shown.min()
    return next(m for m in METHODS if m in shown.index and shown[m] == best)


# --------------------------------------------------------------------------------------------
# Public: every English LA


#: Measures forecast from the published statistics, in the order a report shows them.
PUBLISHED_MEASURES: tuple[str, ...] = (
    "referrals",
    "cin_at_31_march",
    "cpp_at_31_march",
    "cla_at_31_march",
    "cla_starts",
    "cla_ceases",
    "care_leavers_17_18",
    "care_leavers_19_21",
)

_LOCAL_AUTHORITY = "Local authority"


@dataclass(frozen=True)
class _SeriesTask:
    measure: str
    la_code: str
    la_name: str
    series: pd.Series


def _la_series(tidy: pd.DataFrame, measures: Sequence[str]) -> list[_SeriesTask]:
    """Split a tidy table into one series per LA and measure.

    An LA is followed by its DfE LA number where the table has one, so a series carries on
    across an ONS recode; it is labelled with its latest code and name. Where two files give
    the same year, the latest edition's value is kept.
    """
    needed = {"la_code", "la_name", "measure", "period_end", "value"}
    missing = needed - set(tidy.columns)
    if missing:
        raise KeyError(f"tidy table lacks columns {sorted(missing)}")
    rows = tidy[tidy["measure"].isin(list(measures))]
    if "geographic_level" in rows.columns:
        rows = rows[rows["geographic_level"] == _LOCAL_AUTHORITY]
    key = rows["la_code"].astype(str)
    if "old_la_code" in rows.columns:
        key = rows["old_la_code"].astype("string").fillna(key).astype(str)
    order = [c for c in ("edition", "published") if c in rows.columns]
    rows = rows.assign(_key=key).sort_values([*order, "period_end"], kind="stable")
    rows = rows.drop_duplicates(["_key", "measure", "period_end"], keep="last")
    tasks = []
    for (measure, _), group in rows.groupby(["measure", "_key"], sort=True):
        group = group.sort_values("period_end")
        tasks.append(
            _SeriesTask(
                measure=str(measure),
                la_code=str(group["la_code"].iloc[-1]),
                la_name=str(group["la_name"].iloc[-1]),
                series=pd.Series(
                    group["value"].to_numpy(dtype=float),
                    index=pd.DatetimeIndex(group["period_end"]),
                ),
            )
        )
    return tasks


#: Environment of the worker processes. Each statsmodels fit runs scipy's L-BFGS-B, whose
#: tiny linear algebra OpenBLAS spreads over every core; two workers doing that on two cores
#: fight for them, and a fit took about ten times longer (measured: 0.16 s against 0.016 s).
_SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _map(function, items: list, workers: int) -> list:
    """Apply ``function`` to every item, over ``workers`` processes when more than one.

    Workers are spawned, not forked, so that they load OpenBLAS afresh under
    :data:`_SINGLE_THREADED` (a forked child keeps the parent's thread settings).
    """
    if workers <= 1 or len(items) < 2:
        return [function(item) for item in items]
    chunksize = max(1, math.ceil(len(items) / (workers * 4)))
    context = multiprocessing.get_context("spawn")
    with (
        _environment(_SINGLE_THREADED),
        ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
    ):
        return list(pool.map(function, items, chunksize=chunksize))


@dataclass(frozen=True)
class _BacktestJob:
    tasks: Sequence[_SeriesTask]
    horizon: int
    frequency: Frequency
    methods: list[str]
    max_origins: int | None


def _backtest_tasks(job: _BacktestJob) -> pd.DataFrame:
    """Backtest and score a batch of series: each method is fitted once for the batch."""
    tasks, plans = [], []
    for task in job.tasks:
        plan = _plan_backtest(task.series, job.horizon, job.methods, job.frequency)
        if plan is not None:
            tasks.append(task)
            plans.append(plan if job.max_origins is None else plan.latest(job.max_origins))
    columns = ("measure", "la_code", "la_name", *ACCURACY_COLUMNS)
    if not plans:
        return _empty(columns)
    backtest = pd.DataFrame(_backtest_columns(plans, job.horizon, job.frequency))
    accuracy = _score(backtest, ["series"])
    for name in ("measure", "la_code", "la_name"):
        accuracy[name] = [getattr(tasks[number], name) for number in accuracy["series"]]
    return accuracy[list(columns)]


def backtest_all(
    tidy: pd.DataFrame,
    measures: Sequence[str] = PUBLISHED_MEASURES,
    horizon: int = 3,
    frequency: Frequency = "annual",
    *,
    methods: Sequence[str] | None = None,
    max_origins: int | None = 5,
    workers: int = 1,
) -> pd.DataFrame:
    """Backtest every method on every English LA's series of each measure.

    Parameters
    ----------
    tidy
        The tidy long table of published statistics (:mod:`analysis.external`), or any table
        with ``la_code``, ``la_name``, ``measure``, ``period_end`` and ``value``; only rows with
        ``geographic_level`` "Local authority" are used when that column is present.
    measures
        Measures to backtest.
    horizon
        Steps ahead scored at each origin.
    frequency
        ``"annual"`` or ``"monthly"``.
    methods
        Methods to score; defaults to every method that applies to ``frequency``.
    max_origins
        Latest origins per series (see :func:`backtest_series`).
    workers
        Processes to use, each backtesting an equal share of the series. The annual models'
        fits are vectorised (about 10 s for every LA in one process), so starting worker
        processes, each importing pandas and statsmodels, no longer pays: two workers took
        21 s against 12 s in this process on a busy 2-core machine. The default is this
        process; more workers may help monthly series, fitted by statsmodels one by one.

    Returns
    -------
    pandas.DataFrame
        One row per measure, LA and method scored: ``measure``, ``la_code``, ``la_name`` and
        the columns of :func:`score_backtest`. Series too short to backtest have no rows.

    Raises
    ------
    KeyError
        If ``tidy`` lacks a needed column.
    ValueError
        If ``horizon`` or ``frequency`` is not valid.
    """
    _check_horizon(horizon)
    _check_frequency(frequency)
    wanted = _backtest_methods(methods, frequency)
    tasks = _la_series(tidy, measures)
    workers = max(1, workers)
    # one batch per worker: the fits of a batch are vectorised, so fewer, bigger batches
    size = max(1, math.ceil(len(tasks) / workers))
    jobs = [
        _BacktestJob(tasks[start : start + size], horizon, frequency, wanted, max_origins)
        for start in range(0, len(tasks), size)
    ]
    results = [r for r in _map(_backtest_tasks, jobs, workers) if not r.empty]
    if not results:
        return _empty(("measure", "la_code", "la_name", *ACCURACY_COLUMNS))
    return pd.concat(results, ignore_index=True)


def summarise_accuracy(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of each method on each measure across LAs.

    Parameters
    ----------
    accuracy
        A table from :func:`backtest_all`.

    Returns
    -------
    pandas.DataFrame
        One row per measure and method: ``n_series``, ``n_forecasts``, ``mean_mape`` (mean
        over LAs of each LA's MAPE, %), ``median_mase`` (median over LAs of each LA's MASE),
        and ``coverage_80``/``coverage_95``: the share of all scored forecasts whose actual
        value fell inside the interval (0.80 and 0.95 when the intervals are right).

    Raises
    ------
    KeyError
        If ``accuracy`` lacks a column of :func:`backtest_all`'s table.
    """
    needed = {"measure", "method", "n_forecasts", "mape", "mase", "inside_80", "inside_95"}
    missing = needed - set(accuracy.columns)
    if missing:
        raise KeyError(f"accuracy table lacks columns {sorted(missing)}")
    grouped = accuracy.groupby(["measure", "method"], sort=False)
    summary = pd.DataFrame(
        {
            "n_series": grouped.size(),
            "n_forecasts": grouped["n_forecasts"].sum(),
            "mean_mape": grouped["mape"].mean(),
            "median_mase": grouped["mase"].median(),
            "coverage_80": grouped["inside_80"].sum() / grouped["n_forecasts"].sum(),
            "coverage_95": grouped["inside_95"].sum() / grouped["n_forecasts"].sum(),
        }
    ).reset_index()
    rank = {m: i for i, m in enumerate(METHODS)}
    summary["_rank"] = summary["method"].map(rank)
    return (
        summary.sort_values(["measure", "_rank"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def _median_mase_fully_scored(accuracy: pd.DataFrame) -> dict[str, pd.Series]:
    """Each measure's median MASE by method over the LAs on which the most methods were scored
    for it (like for like). Grouped once for every measure: filtering the table for each
    measure took three quarters of the choice."""
    methods = accuracy.groupby(["measure", "la_code"], sort=False)["method"].transform("nunique")
    most = methods.groupby(accuracy["measure"]).transform("max")
    medians = accuracy[methods == most].groupby(["measure", "method"])["mase"].median()
    return {
        str(measure): group.droplevel("measure")
        for measure, group in medians.groupby(level="measure")
    }


def choose_methods(accuracy: pd.DataFrame, decimals: int = 2) -> dict[str, str]:
    """Choose each measure's forecasting method from the all-LA backtest.

    The chosen method has the lowest median MASE across the LAs on which every candidate was
    scored (so all methods are compared on the same series); a tie when rounded to
    ``decimals`` goes to the simpler method (:data:`METHODS` order).

    Parameters
    ----------
    accuracy
        A table from :func:`backtest_all`.
    decimals
        Decimals of MASE below which a difference counts as a tie.

    Returns
    -------
    dict
        Measure -> method name.

    Raises
    ------
    KeyError
        If ``accuracy`` lacks the ``measure``, ``la_code``, ``method`` or ``mase`` column.
    """
    medians = _median_mase_fully_scored(accuracy)
    none = pd.Series(dtype=float)
    return {
        str(measure): _best_by_mase(medians.get(str(measure), none), decimals)
        for measure in dict.fromkeys(accuracy["measure"])
    }


def compare_with_naive(accuracy: pd.DataFrame, chosen: Mapping[str, str]) -> pd.DataFrame:
    """Does each measure's chosen method beat the last-value baseline, LA by LA?

    Parameters
    ----------
    accuracy
        A table from :func:`backtest_all`.
    chosen
        Measure -> method, from :func:`choose_methods`.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``method``, ``n_series`` (LAs where both were scored),
        ``median_mase_method``, ``median_mase_naive``, ``share_las_better`` (share of those LAs
        where the method's MASE is below the baseline's) and ``beats_naive`` (its median MASE
        is lower; False when the chosen method is the baseline itself).

    Raises
    ------
    KeyError
        If ``accuracy`` lacks the ``measure``, ``la_code``, ``method`` or ``mase`` column.
    """
    rows = []
    for measure, method in chosen.items():
        table = accuracy[accuracy["measure"] == measure].pivot_table(
            index="la_code", columns="method", values="mase", aggfunc="first"
        )
        if method not in table.columns or "naive" not in table.columns:
            continue
        paired = table[list(dict.fromkeys([method, "naive"]))].dropna()
        ours, naive = paired[method], paired["naive"]
        rows.append(
            {
                "measure": measure,
                "method": method,
                "n_series": len(paired),
                "median_mase_method": ours.median(),
                "median_mase_naive": naive.median(),
                "share_las_better": float((ours < naive).mean()) if len(paired) else math.nan,
                "beats_naive": bool(method != "naive" and ours.median() < naive.median()),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _ForecastJob:
    tasks: Sequence[_SeriesTask]
    horizon: int
    chosen: Mapping[str, str]
    frequency: Frequency


def _forecast_tasks(job: _ForecastJob) -> pd.DataFrame:
    """Forecast a batch of series, each method fitted once to all the series that use it."""
    regular = [_regularise(task.series, job.frequency) for task in job.tasks]
    numbers = [number for number, (y, _) in enumerate(regular) if y.size]
    forecasts: dict[int, _Forecast] = {}
    for method in dict.fromkeys(job.chosen.values()):
        using = [n for n in numbers if job.chosen[job.tasks[n].measure] == method]
        windows = [regular[n][0] for n in using]
        for n, forecast in zip(
            using, _forecast_windows(windows, job.horizon, method, job.frequency), strict=True
        ):
            forecasts[n] = forecast
    if not numbers:
        return _empty(("measure", "la_code", "la_name", *FORECAST_COLUMNS))
    table = _forecast_table(
        [
            (_future_period_ends(regular[n][1], job.horizon, job.frequency), forecasts[n])
            for n in numbers
        ]
    )
    for name in ("la_name", "la_code", "measure"):
        labels = [getattr(job.tasks[n], name) for n in numbers]
        table.insert(0, name, np.repeat(labels, job.horizon))
    return table


def forecast_all(
    tidy: pd.DataFrame,
    chosen: Mapping[str, str],
    horizon: int = 3,
    frequency: Frequency = "annual",
    *,
    la_codes: Sequence[str] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Forecast each measure in ``chosen`` for every LA (or the LAs in ``la_codes``).

    Parameters
    ----------
    tidy
        The tidy long table of published statistics (see :func:`backtest_all`).
    chosen
        Measure -> method (from :func:`choose_methods`); "naive" for a measure forecast by the
        last value.
    horizon
        Periods ahead.
    frequency
        ``"annual"`` or ``"monthly"``.
    la_codes
        Only these LAs (ONS codes); every LA when ``None``.
    workers
        Processes to use, each forecasting an equal share of the series. The annual models are
        fitted to all series at once (damped Holt for every LA and measure: about 3 s in this
        process), too little work to repay starting worker processes, so the default is this
        process.

    Returns
    -------
    pandas.DataFrame
        ``measure``, ``la_code``, ``la_name`` and the columns of :func:`forecast_series`.

    Raises
    ------
    KeyError
        If ``tidy`` lacks a needed column.
    ValueError
        If ``horizon``, ``frequency`` or a method is not valid.
    """
    _check_horizon(horizon)
    for method in chosen.values():
        _requested_methods(method, frequency)
    tasks = _la_series(tidy, list(chosen))
    if la_codes is not None:
        wanted = {str(code).strip().upper() for code in la_codes}
        tasks = [task for task in tasks if task.la_code in wanted]
    size = max(1, math.ceil(len(tasks) / max(workers, 1)))
    jobs = [
        _ForecastJob(tasks[start : start + size], horizon, dict(chosen), frequency)
        for start in range(0, len(tasks), size)
    ]
    results = [r for r in _map(_forecast_tasks, jobs, workers) if not r.empty]
    if not results:
        return _empty(("measure", "la_code", "la_name", *FORECAST_COLUMNS))
    return pd.concat(results, ignore_index=True)


def forecast_measures(
    tidy: pd.DataFrame,
    la_code: str,
    measures: Sequence[str],
    horizon: int,
    chosen: Mapping[str, str] | None = None,
    frequency: Frequency = "annual",
) -> pd.DataFrame:
    """Forecast one LA's measures, each with the method the all-LA backtest chose for it.

    Parameters
    ----------
    tidy
        The tidy long table (published statistics, or a council's monthly extract in the same
        long shape).
    la_code
        ONS code of the LA.
    measures
        Measures to forecast.
    horizon
        Periods ahead.
    chosen
        Measure -> method from :func:`choose_methods`; a measure missing from it (or ``None``)
        is forecast by the last value.
    frequency
        ``"annual"`` or ``"monthly"``.

    Returns
    -------
    pandas.DataFrame
        As :func:`forecast_all`, for this LA only; a measure with no values has no rows.

    Raises
    ------
    KeyError
        If ``tidy`` lacks a needed column.
    ValueError
        If ``horizon``, ``frequency`` or a method is not valid.
    """
    methods = {m: (chosen or {}).get(m, "naive") for m in measures}
    return forecast_all(tidy, methods, horizon, frequency, la_codes=[la_code], workers=1)


# --------------------------------------------------------------------------------------------
# Public: the accuracy report


def _fmt(value: float, pattern: str) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (pattern.format(value))
    )


def accuracy_markdown(
    accuracy: pd.DataFrame,
    chosen: Mapping[str, str],
    *,
    horizon: int,
    max_origins: int | None,
    sources: str,
    generated_by: str,
    narrow_below: float = 0.90,
) -> str:
    """Write the all-LA backtest as the Markdown of ``docs/forecast_accuracy.md``.

    Every figure comes from ``accuracy``; the verdicts (does the chosen method beat the last
    value?) are worded from the numbers, including where it does not.

    Parameters
    ----------
    accuracy
        A table from :func:`backtest_all`.
    chosen
        Measure -> method, from :func:`choose_methods`.
    horizon
        Steps ahead that were scored.
    max_origins
        Origins per series that were scored (``None``: all).
    sources
        One line naming the data (files and editions) the backtest ran on.
    generated_by
        The command that regenerates the page, and when it ran (Markdown).
    narrow_below
        A method whose 95% intervals held a smaller share of the actual values than this is
        named as having intervals that are too narrow.

    Returns
    -------
    str
        The Markdown page.

    Raises
    ------
    KeyError
        If ``accuracy`` lacks a column of :func:`backtest_all`'s table.
    """
    summary = summarise_accuracy(accuracy)
    versus = compare_with_naive(accuracy, chosen).set_index("measure")
    known = list(PUBLISHED_MEASURES)
    ordered = sorted(chosen, key=lambda m: (known.index(m) if m in known else len(known), m))
    origins = "every origin" if max_origins is None else f"the latest {max_origins} origins"
    lines = [
        "# Forecast accuracy: rolling-origin backtest across English local authorities",
        "",
        f"Generated by {generated_by}. Do not edit by hand.",
        "",
        f"Data: {sources}",
        "",
        "How to read this page. For each LA and measure, every method was fitted on the "
        f"published years up to an origin year, forecast 1 to {horizon} years ahead and "
        f"compared with what was later published ({origins} per series; the fitted models need "
        f"at least {MIN_MODEL_POINTS['annual']} published years, so shorter series are scored "
        "on the baselines only). **MAPE** is the mean absolute percentage error. **MASE** "
        "divides each absolute error by the mean year-on-year change of the series up to the "
        "origin: 1.0 means the forecast missed by as much as a typical year's change; lower is "
        "better. **Coverage** is the share of actual values that fell inside the 80% and 95% "
        "prediction intervals; it should be close to 80% and 95%. The method for each measure "
        "is the one with the lowest median MASE across the LAs where every method was scored "
        "(a tie to two decimals goes to the simpler method).",
        "",
        "## Chosen method per measure, against the last-value baseline",
        "",
        "| measure | chosen method | LAs | median MASE, chosen | median MASE, last value "
        "| LAs where chosen is better | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    verdicts = []
    for measure in ordered:
        method = chosen[measure]
        if measure not in versus.index:
            continue
        row = versus.loc[measure]
        if method == "naive":
            verdict = "no method beat the last value; the last value is used"
            better = "n/a"
        else:
            verdict = (
                "beats the last value" if row["beats_naive"] else "does not beat the last value"
            )
            if row["share_las_better"] < 0.5:
                verdict += f", and is worse in most LAs ({1 - row['share_las_better']:.0%})"
            better = _fmt(row["share_las_better"], "{:.0%}")
        verdicts.append((measure, method, verdict))
        lines.append(
            f"| {measure} | {method} | {int(row['n_series'])} "
            f"| {_fmt(row['median_mase_method'], '{:.2f}')} "
            f"| {_fmt(row['median_mase_naive'], '{:.2f}')} | {better} | {verdict} |"
        )
    lines += ["", "In plain words:", ""]
    for measure, method, verdict in verdicts:
        row = versus.loc[measure]
        chosen_row = summary[(summary["measure"] == measure) & (summary["method"] == method)]
        coverage = (
            f" Its 80% and 95% intervals held {_fmt(chosen_row['coverage_80'].iloc[0], '{:.0%}')}"
            f" and {_fmt(chosen_row['coverage_95'].iloc[0], '{:.0%}')} of the values later "
            "published."
        )
        if method == "naive":
            lines.append(
                f"- **{measure}**: no method forecast better than carrying the last published "
                f"value forward (median MASE {_fmt(row['median_mase_naive'], '{:.2f}')}), so "
                f"the last value is the forecast.{coverage}"
            )
        else:
            lines.append(
                f"- **{measure}**: {method} ({METHOD_DESCRIPTIONS[method]}) {verdict}: median "
                f"MASE {_fmt(row['median_mase_method'], '{:.2f}')} against "
                f"{_fmt(row['median_mase_naive'], '{:.2f}')}, better in "
                f"{_fmt(row['share_las_better'], '{:.0%}')} of {int(row['n_series'])} LAs."
                f"{coverage}"
            )
    pooled = accuracy.groupby("method")[["inside_80", "inside_95", "n_forecasts"]].sum()
    pooled = pooled.loc[[m for m in METHODS if m in pooled.index]]
    narrow = [
        m
        for m in pooled.index
        if pooled.loc[m, "inside_95"] / pooled.loc[m, "n_forecasts"] < narrow_below
    ]
    lines += [
        "",
        "## Prediction intervals",
        "",
        "Share of the values later published that fell inside each method's intervals, all "
        "measures and LAs together:",
        "",
        "| method | forecasts | 80% interval | 95% interval |",
        "|---|---:|---:|---:|",
        *[
            f"| {m} | {int(r['n_forecasts'])} | {r['inside_80'] / r['n_forecasts']:.1%} "
            f"| {r['inside_95'] / r['n_forecasts']:.1%} |"
            for m, r in pooled.iterrows()
        ],
        "",
        (
            f"The intervals of {', '.join(narrow)} are too narrow: their 95% intervals held "
            f"fewer than {narrow_below:.0%} of the later values, so read those bands as "
            "optimistic."
            if narrow
            else f"Every method's 95% intervals held at least {narrow_below:.0%} of the later "
            "values."
        ),
        "",
    ]
    lines += ["## Every method, by measure", ""]
    for measure in ordered:
        table = summary[summary["measure"] == measure]
        if table.empty:
            continue
        lines += [
            f"### {measure}",
            "",
            "| method | LAs | forecasts | mean MAPE | median MASE | 80% coverage | 95% coverage |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for _, row in table.iterrows():
            mark = " (chosen)" if row["method"] == chosen[measure] else ""
            lines.append(
                f"| {row['method']}{mark} | {int(row['n_series'])} | {int(row['n_forecasts'])} "
                f"| {_fmt(row['mean_mape'], '{:.1f}%')} | {_fmt(row['median_mase'], '{:.2f}')} "
                f"| {_fmt(row['coverage_80'], '{:.1%}')} | {_fmt(row['coverage_95'], '{:.1%}')} |"
            )
        lines.append("")
    lines += [
        "## Methods",
        "",
        *[f"- `{name}`: {text}." for name, text in METHOD_DESCRIPTIONS.items()],
        "",
    ]
    return "\n".join(lines)
