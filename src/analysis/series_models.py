"""Exact maximum likelihood for many short annual series at once.

This module owns the fitting of the annual forecasting models of :mod:`analysis.demand` to
many training windows in a few vectorised NumPy calls, instead of one statsmodels fit (and
one numerical optimiser run) per window. It reaches the maximum-likelihood estimates that
statsmodels aims for, in statsmodels' own parametrisation and bounds, and forecasts with
statsmodels' formulas:

* **ETS with additive errors and no season**, as ``statsmodels ETSModel`` with
  ``initialization_method="estimated"``: ``"none"`` (A,N,N: simple exponential smoothing),
  ``"linear"`` (A,A,N: Holt) and ``"damped"`` (A,Ad,N). The Gaussian likelihood concentrated
  over the error variance is ``-n/2 (log(2 pi SSE/n) + 1)``, a function of the sum of squared
  one-step errors. For fixed smoothing parameters those errors are affine in the initial
  states (level, trend), so the initial states come out by least squares, leaving the
  smoothing parameters: the level's ``alpha`` and ``beta/alpha`` in [0.0001, 0.9999] and the
  damping ``phi`` in [0.8, 0.98] (statsmodels' default bounds). They are searched on a grid
  shared by every window of a length (the errors of all windows at a grid point are one
  matrix product), then refined window by window by a compass search with halving steps.
  The forecast variance is ``sigma2 (1 + sum_{j<h} c_j^2)`` with
  ``c_j = alpha + beta (phi + ... + phi^j)`` and ``sigma2 = SSE / n``, as statsmodels has it.
* **ARIMA(1,1,0) with drift**, as ``statsmodels ARIMA(y, order=(1,1,0), trend="t")``: the
  year-on-year changes are a stationary AR(1) around a mean (the drift). Where years are
  missing, a published change spans several years and is the sum of that many AR(1) terms,
  exactly as statsmodels' Kalman filter treats the gap. The likelihood of the published
  changes, concentrated over the drift (generalised least squares) and the variance, is a
  function of the AR coefficient alone, searched on a grid in (-1, 1) shared by every window
  with the same published years, then refined window by window. Forecasts are the Gaussian
  conditional mean and variance of the future changes given the published ones.

Windows are 1-D float arrays on an unbroken annual calendar whose first and last values are
published. ETS needs no missing values (:mod:`analysis.demand` fills interior gaps by
straight-line interpolation first); ARIMA takes NaN for a missing year.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

EtsTrend = Literal["none", "linear", "damped"]

#: statsmodels ETSModel's default bounds: ``alpha`` and ``beta/alpha`` (its "beta star").
SMOOTHING_BOUNDS: tuple[float, float] = (1e-4, 1 - 1e-4)
#: statsmodels ETSModel's default bounds on the damping parameter.
DAMPING_BOUNDS: tuple[float, float] = (0.8, 0.98)
#: The AR coefficient is kept this close to the edge of stationarity, at most.
AR_BOUNDS: tuple[float, float] = (-1 + 1e-6, 1 - 1e-6)

#: Grid points per free parameter for each ETS model (alpha, beta/alpha, phi) and for AR(1).
_ETS_GRID: dict[str, tuple[int, ...]] = {"none": (101,), "linear": (41, 41), "damped": (21, 21, 8)}
_AR_GRID = 401
#: The compass search stops when its step is below this share of a parameter's range.
_TOLERANCE = 1e-7
#: Enough iterations for every halving to the tolerance and many moves; a guard, not a limit
#: that is reached.
_MAX_ITERATIONS = 2000


@dataclass(frozen=True)
class SeriesFits:
    """Maximum-likelihood fits of one model to many windows, and their forecasts.

    Attributes
    ----------
    mean, sd
        Forecast mean and standard deviation, one row per window, one column per step ahead.
    params
        Estimates, one row per window: ETS ``alpha, beta, phi, initial level, initial trend``
        (``beta`` = 0 and ``phi`` = 1 where the model has none); ARIMA ``ar, drift``.
    sigma2
        Estimated variance of the one-step errors (ETS) or innovations (ARIMA).
    loglike
        Maximised Gaussian log-likelihood of each window.
    """

    mean: np.ndarray
    sd: np.ndarray
    params: np.ndarray
    sigma2: np.ndarray
    loglike: np.ndarray


def _gaussian_loglike(sse: np.ndarray, n: int | np.ndarray) -> np.ndarray:
    """Gaussian log-likelihood concentrated over the variance, from the sum of squares."""
    with np.errstate(divide="ignore"):
        return -n / 2 * (np.log(2 * np.pi * sse / n) + 1)


def _grid(bounds: Sequence[tuple[float, float]], points: Sequence[int]) -> np.ndarray:
    axes = [np.linspace(lo, hi, k) for (lo, hi), k in zip(bounds, points, strict=True)]
    return np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=-1)


def _compass_search(
    objective: Callable[[np.ndarray, np.ndarray], np.ndarray],
    theta: np.ndarray,
    value: np.ndarray,
    bounds: np.ndarray,
    step: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``objective`` window by window from ``theta``, within ``bounds``.

    ``objective(candidates, rows)`` takes candidates of shape (windows, k, parameters) for the
    windows ``rows`` and returns values of shape (windows, k). Each window tries a step up and
    down along each parameter (a share ``step`` of its range), moves to the best candidate
    that is lower, and halves its step when none is, until the step is below the tolerance.
    """
    theta, value = theta.copy(), value.copy()
    lower, upper = bounds[:, 0], bounds[:, 1]
    span = upper - lower
    directions = np.concatenate([np.eye(len(span)), -np.eye(len(span))]) * span
    steps = np.full(len(theta), step)
    active = np.arange(len(theta))
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        candidates = np.clip(
            theta[active, None, :] + steps[active, None, None] * directions, lower, upper
        )
        values = objective(candidates, active)
        best = np.argmin(values, axis=1)
        best_value = values[np.arange(active.size), best]
        better = best_value < value[active]
        moved = active[better]
        theta[moved] = candidates[better, best[better]]
        value[moved] = best_value[better]
        steps[active[~better]] /= 2
        active = active[steps[active] >= _TOLERANCE]
    return theta, value


# --------------------------------------------------------------------------------------------
# ETS with additive errors


def _ets_free_bounds(trend: EtsTrend) -> np.ndarray:
    return np.array([SMOOTHING_BOUNDS, SMOOTHING_BOUNDS, DAMPING_BOUNDS][: _ets_free(trend)])


def _ets_free(trend: EtsTrend) -> int:
    return {"none": 1, "linear": 2, "damped": 3}[trend]


def _ets_parameters(theta: np.ndarray, trend: EtsTrend) -> tuple[np.ndarray, ...]:
    """(alpha, beta, phi) from the searched parameters (alpha, beta/alpha, phi)."""
    alpha = theta[..., 0]
    beta = theta[..., 1] * alpha if trend != "none" else np.zeros_like(alpha)
    phi = theta[..., 2] if trend == "damped" else np.ones_like(alpha)
    return alpha, beta, phi


def _ets_basis(alpha, beta, phi, n: int, has_trend: bool) -> np.ndarray:
    """How the initial states move each one-step error: shape (..., n, 1 or 2).

    With states x = (level, trend), the one-step error is e_t = y_t - w'x_{t-1} and the states
    update as x_t = D x_{t-1} + g y_t, with w = (1, phi), g = (alpha, beta) and
    D = F - g w'. So e_t falls by w' D^(t-1) x_0: row t of the basis is w' D^(t-1).
    """
    if not has_trend:
        decay = np.asarray(1 - alpha)[..., None] ** np.arange(n)
        return decay[..., None]
    a, b = np.ones_like(alpha), np.asarray(phi, dtype=float).copy()
    rows = []
    for _ in range(n):
        rows.append(np.stack([a, b], axis=-1))
        a, b = a * (1 - alpha) - b * beta, (a * (1 - alpha) + b * (1 - beta)) * phi
    return np.stack(rows, axis=-2)


def _ets_zero_start_errors(y: np.ndarray, alpha, beta, phi, has_trend: bool) -> np.ndarray:
    """One-step errors when both initial states are zero; ``y`` (..., n) broadcasts."""
    level = np.zeros(np.broadcast_shapes(y.shape[:-1], np.shape(alpha)))
    trend = np.zeros_like(level)
    errors = []
    for t in range(y.shape[-1]):
        forecast = level + phi * trend if has_trend else level
        error = y[..., t] - forecast
        level = forecast + alpha * error
        if has_trend:
            trend = phi * trend + beta * error
        errors.append(error)
    return np.stack(errors, axis=-1)


def _least_squares(basis: np.ndarray, errors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Initial states minimising the sum of squared errors ``errors - basis @ x0``.

    Returns the states (..., k) and the residual errors (..., n); states that the data cannot
    pin down (a singular system) give infinite errors.
    """
    gram = np.einsum("...ti,...tj->...ij", basis, basis)
    moment = np.einsum("...ti,...t->...i", basis, errors)
    if basis.shape[-1] == 1:
        states = moment / gram[..., 0]
    else:
        det = gram[..., 0, 0] * gram[..., 1, 1] - gram[..., 0, 1] ** 2
        singular = det <= 1e-12 * gram[..., 0, 0] * gram[..., 1, 1]
        det = np.where(singular, np.nan, det)
        states = np.stack(
            [
                (gram[..., 1, 1] * moment[..., 0] - gram[..., 0, 1] * moment[..., 1]) / det,
                (gram[..., 0, 0] * moment[..., 1] - gram[..., 0, 1] * moment[..., 0]) / det,
            ],
            axis=-1,
        )
    residuals = errors - np.einsum("...ti,...i->...t", basis, states)
    return states, np.where(np.isnan(residuals), np.inf, residuals)


def _ets_sse(y: np.ndarray, theta: np.ndarray, trend: EtsTrend) -> np.ndarray:
    """Sum of squared one-step errors at the best initial states; y (W, n), theta (W, k, p)."""
    alpha, beta, phi = _ets_parameters(theta, trend)
    has_trend = trend != "none"
    basis = _ets_basis(alpha, beta, phi, y.shape[-1], has_trend)
    errors = _ets_zero_start_errors(y[:, None, :], alpha, beta, phi, has_trend)
    return np.sum(_least_squares(basis, errors)[1] ** 2, axis=-1)


def _ets_grid_sse(y: np.ndarray, grid: np.ndarray, trend: EtsTrend) -> np.ndarray:
    """SSE of every window at every grid point: (W, K), a matrix product per grid chunk.

    At a fixed grid point the residual errors are a fixed linear map R of the data (the
    zero-start errors H y less their projection on the basis), shared by every window.
    """
    n = y.shape[-1]
    has_trend = trend != "none"
    result = np.empty((len(y), len(grid)))
    chunk = max(1, 4_000_000 // (len(y) * n))
    identity = np.eye(n)
    for start in range(0, len(grid), chunk):
        alpha, beta, phi = _ets_parameters(grid[start : start + chunk], trend)
        # zero-start errors of each unit impulse: column s of H is the response to y = e_s
        impulse = _ets_zero_start_errors(identity[:, None, :], alpha, beta, phi, has_trend)
        h = np.transpose(impulse, (1, 2, 0))
        basis = _ets_basis(alpha, beta, phi, n, has_trend)
        gram_inverse = np.linalg.pinv(np.einsum("kti,ktj->kij", basis, basis))
        r = h - basis @ (gram_inverse @ (np.transpose(basis, (0, 2, 1)) @ h))
        residuals = (y @ r.reshape(-1, n).T).reshape(len(y), -1, n)
        result[:, start : start + chunk] = np.sum(residuals**2, axis=-1)
    return result


def _ets_final(y: np.ndarray, theta: np.ndarray, trend: EtsTrend) -> tuple[np.ndarray, ...]:
    """Initial states, SSE and the last level and trend at ``theta``; y (W, n), theta (W, p)."""
    alpha, beta, phi = _ets_parameters(theta, trend)
    has_trend = trend != "none"
    basis = _ets_basis(alpha, beta, phi, y.shape[-1], has_trend)
    errors = _ets_zero_start_errors(y, alpha, beta, phi, has_trend)
    states, residuals = _least_squares(basis, errors)
    level = states[:, 0].copy()
    slope = states[:, 1].copy() if has_trend else np.zeros(len(y))
    for t in range(y.shape[-1]):
        forecast = level + phi * slope
        error = y[:, t] - forecast
        level = forecast + alpha * error
        slope = phi * slope + beta * error
    return states, np.sum(residuals**2, axis=-1), level, slope


def _ets_group(y: np.ndarray, trend: EtsTrend, horizon: int) -> SeriesFits:
    """Fit windows of one length; y (W, n) without missing values."""
    n = y.shape[-1]
    # SSE is unchanged when a constant is added to a window (the initial level absorbs it), so
    # centre and scale each window: the search then works on numbers near one
    centre = y.mean(axis=1, keepdims=True)
    scale = y.std(axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    standard = (y - centre) / scale
    bounds = _ets_free_bounds(trend)
    points = _ETS_GRID[trend]
    grid = _grid(bounds, points)
    sse = _ets_grid_sse(standard, grid, trend)
    best = np.argmin(sse, axis=1)
    theta, _ = _compass_search(
        lambda candidates, rows: _ets_sse(standard[rows], candidates, trend),
        grid[best],
        sse[np.arange(len(y)), best],
        bounds,
        1 / (min(points) - 1),
    )
    alpha, beta, phi = _ets_parameters(theta, trend)
    states, sse, level, slope = _ets_final(y, theta, trend)
    sigma2 = sse / n
    steps = np.arange(1, horizon + 1)
    # phi + phi^2 + ... + phi^h for each step h (h for an undamped trend)
    damped_sum = np.cumsum(phi[:, None] ** steps, axis=1)
    mean = level[:, None] + damped_sum * slope[:, None]
    # c_j = alpha + beta (phi + ... + phi^j) for j = 1..h-1; variance sigma2 (1 + sum c_j^2)
    weights = alpha[:, None] + beta[:, None] * damped_sum[:, :-1]
    relative = 1 + np.concatenate([np.zeros((len(y), 1)), np.cumsum(weights**2, axis=1)], axis=1)
    initial_trend = states[:, 1] if states.shape[1] > 1 else np.zeros(len(y))
    params = np.column_stack([alpha, beta, phi, states[:, 0], initial_trend])
    return SeriesFits(
        mean=mean,
        sd=np.sqrt(sigma2[:, None] * relative),
        params=params,
        sigma2=sigma2,
        loglike=_gaussian_loglike(sse, n),
    )


def _check_windows(windows: Sequence[np.ndarray], minimum: int, allow_missing: bool) -> None:
    for number, window in enumerate(windows):
        values = np.asarray(window, dtype=float)
        if values.ndim != 1 or values.size == 0 or np.isnan(values[[0, -1]]).any():
            raise ValueError(
                f"window {number} must be a 1-D series whose first and last values are present"
            )
        if not allow_missing and np.isnan(values).any():
            raise ValueError(f"window {number} has missing values; fill them first")
        if np.sum(~np.isnan(values)) < minimum:
            raise ValueError(f"window {number} has fewer than {minimum} values")


def _by_group(keys: Sequence, fit: Callable[[list[int]], SeriesFits], count: int) -> SeriesFits:
    """Fit the windows group by group (same key) and put the results back in window order."""
    groups: dict = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    parts = [(rows, fit(rows)) for rows in groups.values()]
    fields = {}
    for name in ("mean", "sd", "params", "sigma2", "loglike"):
        first = getattr(parts[0][1], name)
        out = np.empty((count, *first.shape[1:]))
        for rows, fits in parts:
            out[rows] = getattr(fits, name)
        fields[name] = out
    return SeriesFits(**fields)


def fit_ets(windows: Sequence[np.ndarray], trend: EtsTrend, horizon: int) -> SeriesFits:
    """Fit ETS with additive errors (no season) to every window by maximum likelihood.

    Parameters
    ----------
    windows
        Annual series, each a 1-D array of at least 3 values with no missing value.
    trend
        ``"none"`` (simple exponential smoothing), ``"linear"`` (Holt) or ``"damped"``.
    horizon
        Steps ahead to forecast.

    Returns
    -------
    SeriesFits
        Forecasts, estimates and log-likelihoods in the order of ``windows``.

    Raises
    ------
    ValueError
        If ``trend`` is not known, ``horizon`` is below 1, there are no windows, or a window
        is not a 1-D array of at least 3 values without missing ones.
    """
    if trend not in _ETS_GRID:
        raise ValueError(f"trend must be 'none', 'linear' or 'damped'; found {trend!r}")
    if horizon < 1 or not windows:
        raise ValueError("fit_ets needs at least one window and a horizon of at least 1")
    _check_windows(windows, 3, allow_missing=False)
    arrays = [np.asarray(w, dtype=float) for w in windows]
    return _by_group(
        [len(a) for a in arrays],
        lambda rows: _ets_group(np.stack([arrays[i] for i in rows]), trend, horizon),
        len(arrays),
    )


def ets_loglike(
    y: np.ndarray,
    trend: EtsTrend,
    smoothing_level: float,
    smoothing_trend: float = 0.0,
    damping_trend: float = 1.0,
) -> float:
    """Log-likelihood of ETS at given smoothing parameters, at the best initial states.

    Parameters
    ----------
    y
        One window without missing values.
    trend
        ``"none"``, ``"linear"`` or ``"damped"``.
    smoothing_level, smoothing_trend, damping_trend
        ``alpha``, ``beta`` and ``phi`` as statsmodels reports them.

    Returns
    -------
    float
        The Gaussian log-likelihood concentrated over the error variance and initial states:
        at least statsmodels' ``llf`` for the same smoothing parameters.

    Raises
    ------
    ValueError
        If ``trend`` is not known.
    """
    if trend not in _ETS_GRID:
        raise ValueError(f"trend must be 'none', 'linear' or 'damped'; found {trend!r}")
    values = np.asarray(y, dtype=float)[None, :]
    theta = np.array([smoothing_level, smoothing_trend / smoothing_level, damping_trend])
    sse = _ets_sse(values, theta[None, None, : _ets_free(trend)], trend)
    return float(_gaussian_loglike(sse, values.shape[1])[0, 0])


# --------------------------------------------------------------------------------------------
# ARIMA(1,1,0) with drift


@dataclass(frozen=True)
class _Pattern:
    """Which years of a window were published: the aggregation of yearly changes."""

    blocks: np.ndarray  # (q, n - 1): row a sums the yearly changes the a-th published change spans
    lengths: np.ndarray  # (q,): years each published change spans

    @classmethod
    def of(cls, positions: tuple[int, ...]) -> _Pattern:
        q, n = len(positions) - 1, positions[-1] + 1
        blocks = np.zeros((q, n - 1))
        for a in range(q):
            blocks[a, positions[a] : positions[a + 1]] = 1
        return cls(blocks, np.diff(np.array(positions, dtype=float)))


def _ar_correlation(phi: np.ndarray, size: int) -> np.ndarray:
    """AR(1) autocorrelation matrices phi^|i-j|, shape phi.shape + (size, size)."""
    lag = np.abs(np.subtract.outer(np.arange(size), np.arange(size)))
    return np.asarray(phi)[..., None, None] ** lag


def _ar_profile(
    changes: np.ndarray, pattern: _Pattern, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concentrated log-likelihood, drift and variance of the yearly changes at ``phi``.

    ``changes`` (W, q) are the published changes, ``phi`` broadcasts against (W, k); the
    variance returned is that of one yearly change (not of the innovation).
    """
    correlation = _ar_correlation(phi, pattern.blocks.shape[1])
    covariance = pattern.blocks @ correlation @ pattern.blocks.T
    factor = np.linalg.cholesky(covariance)
    shape = np.broadcast_shapes(changes.shape[:1] + (1,), np.shape(phi))
    data = np.broadcast_to(changes[:, None, :], (*shape, changes.shape[1]))
    design = np.broadcast_to(pattern.lengths, data.shape)
    # one inverse per distinct coefficient (a grid point is shared by every window)
    whitened = np.linalg.inv(factor) @ np.stack([data, design], axis=-1)
    z, x = whitened[..., 0], whitened[..., 1]
    drift = np.sum(z * x, axis=-1) / np.sum(x * x, axis=-1)
    sse = np.sum((z - drift[..., None] * x) ** 2, axis=-1)
    q = changes.shape[1]
    log_det = 2 * np.sum(np.log(np.diagonal(factor, axis1=-2, axis2=-1)), axis=-1)
    return _gaussian_loglike(sse, q) - log_det / 2, drift, sse / q


def _arima_group(y: np.ndarray, positions: tuple[int, ...], horizon: int) -> SeriesFits:
    """Fit windows published in the same years; y (W, n) with NaN where missing."""
    pattern = _Pattern.of(positions)
    published = y[:, list(positions)]
    raw = np.diff(published, axis=1)
    # the likelihood is unchanged when each change moves by a constant per year spanned (the
    # drift absorbs it) and scales with the data: centre and scale for the search
    centre = raw.sum(axis=1, keepdims=True) / pattern.lengths.sum()
    scale = (raw - centre * pattern.lengths).std(axis=1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    changes = (raw - centre * pattern.lengths) / scale
    bounds = np.array([AR_BOUNDS])
    grid = np.linspace(*AR_BOUNDS, _AR_GRID)
    loglike = _ar_profile(changes, pattern, grid[None, :])[0]
    best = np.argmax(loglike, axis=1)
    theta, _ = _compass_search(
        lambda candidates, rows: -_ar_profile(changes[rows], pattern, candidates[..., 0])[0],
        grid[best][:, None],
        -loglike[np.arange(len(y)), best],
        bounds,
        1 / (_AR_GRID - 1),
    )
    phi = theta[:, 0]
    loglike, drift, variance = (v[:, 0] for v in _ar_profile(raw, pattern, phi[:, None]))
    # Future changes: the conditional mean and variance of their running sums given the
    # published changes, from the joint AR(1) covariance of past and future yearly changes.
    q, past = pattern.blocks.shape
    joint = np.zeros((q + horizon, past + horizon))
    joint[:q, :past] = pattern.blocks
    joint[q:, past:] = np.tril(np.ones((horizon, horizon)))
    covariance = joint @ _ar_correlation(phi, past + horizon) @ joint.T
    known, cross = covariance[:, :q, :q], covariance[:, q:, :q]
    deviation = raw - drift[:, None] * pattern.lengths
    weights = np.linalg.solve(known, np.transpose(cross, (0, 2, 1)))  # (W, q, h)
    steps = np.arange(1, horizon + 1)
    mean = published[:, -1:] + drift[:, None] * steps + np.einsum("wqh,wq->wh", weights, deviation)
    future = np.diagonal(covariance[:, q:, q:], axis1=-2, axis2=-1)
    explained = np.einsum("whq,wqh->wh", cross, weights)
    sd = np.sqrt(variance[:, None] * np.maximum(future - explained, 0.0))
    return SeriesFits(
        mean=mean,
        sd=sd,
        params=np.column_stack([phi, drift]),
        sigma2=variance * (1 - phi**2),
        loglike=loglike,
    )


def fit_arima_drift(windows: Sequence[np.ndarray], horizon: int) -> SeriesFits:
    """Fit ARIMA(1,1,0) with drift to every window by exact maximum likelihood.

    Parameters
    ----------
    windows
        Annual series on an unbroken calendar (NaN for a year not published), first and last
        values published, at least 4 values published.
    horizon
        Steps ahead to forecast.

    Returns
    -------
    SeriesFits
        Forecasts, estimates (AR coefficient, drift per year) and log-likelihoods in the order
        of ``windows``.

    Raises
    ------
    ValueError
        If ``horizon`` is below 1, there are no windows, or a window is not 1-D, lacks its
        first or last value, or has fewer than 4 values.
    """
    if horizon < 1 or not windows:
        raise ValueError("fit_arima_drift needs at least one window and a horizon of at least 1")
    _check_windows(windows, 4, allow_missing=True)
    arrays = [np.asarray(w, dtype=float) for w in windows]
    keys = [tuple(int(p) for p in np.flatnonzero(~np.isnan(a))) for a in arrays]

    def fit(rows: list[int]) -> SeriesFits:
        return _arima_group(np.stack([arrays[i] for i in rows]), keys[rows[0]], horizon)

    return _by_group(keys, fit, len(arrays))


def arima_drift_loglike(y: np.ndarray, ar: float) -> float:
    """Log-likelihood of ARIMA(1,1,0) with drift at a given AR coefficient.

    Parameters
    ----------
    y
        One window (NaN for a year not published; first and last values published).
    ar
        The AR coefficient, in (-1, 1).

    Returns
    -------
    float
        The exact Gaussian log-likelihood of the published changes, concentrated over the
        drift and the variance: at least statsmodels' ``llf`` for the same coefficient.

    Raises
    ------
    ValueError
        If ``ar`` is not inside (-1, 1).
    """
    if not -1 < ar < 1:
        raise ValueError(f"the AR coefficient must be inside (-1, 1); found {ar!r}")
    values = np.asarray(y, dtype=float)
    positions = tuple(int(p) for p in np.flatnonzero(~np.isnan(values)))
    changes = np.diff(values[list(positions)])[None, :]
    loglike = _ar_profile(changes, _Pattern.of(positions), np.array([[ar]]))[0]
    return float(loglike[0, 0])
