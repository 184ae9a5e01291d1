"""The children's-trust contract sum: what the demand trajectory costs, year by year, against
the council's budget, and how likely the budget is to fall short.

Where a children's trust runs the service, the council pays it a contract sum that must cover
the social workers the trust's demand needs and the placements of its children looked after.
This module owns turning a demand trajectory (the central forecast and its 80% and 95%
intervals, :mod:`analysis.demand`) into that cost over the scenario's horizon:

* **Demand in a financial year.** Children in need, on a plan, looked after and care leavers
  are stocks counted at 31 March, so a year's demand is the mean of its opening and closing
  31 March (as :mod:`analysis.placements` averages children looked after); referrals are a
  flow, so a year's are those of the year ending its 31 March. A figure published by the
  reporting month is used as published (the same in every bound); later ones are the
  forecast bound. A bound takes *every* measure at that bound, treating forecast errors of
  the measures (and of consecutive years) as moving together, which is how a rise in demand
  arrives: an interval that is, if anything, wide.
* **Staffing.** Cases by team and the FTE they need at the caseload targets, with supervisors,
  managers and allowances (:mod:`analysis.workforce`). Each FTE costs what one eligible post
  costs in the cost model (:mod:`analysis.costs`): the salary with on-costs
  (``retention_salary_gbp_per_fte``) plus the recurring uplift of agency premium (at
  ``agency_share``), recruitment payments (at ``new_starter_rate``) and retention payments.
  The cost model's prices are those of the first year of the published budget trajectory; a
  later year adds ``pay_award_rate`` a year on the whole cost, as the budget trajectory does
  (:mod:`analysis.budget`).
* **Placements.** Children looked after in the year x the annual cost of a child at the
  placement mix and the scenario's weekly unit costs (:mod:`analysis.placements`); the unit
  costs carry no inflation assumption, so placements are at the scenario's prices.
* **Budget and gap.** The council's children's social care budget is its latest published
  MHCLG RA budget by the reporting month, held flat in cash for later years as the budget
  trajectory holds a budget it has no figure for. The RA budget covers the whole service,
  which is wider than staffing and placements: the gap (cost - budget; positive = the budget
  falls short) shows how much of the budget the demand-driven costs leave for everything else.

**Probability that the budget is insufficient**, two ways:

* **under the sensitivity model** (:func:`monte_carlo_insufficiency`, the one reported): a
  Monte Carlo that draws demand from its forecast interval and every price (agency share and
  premium, recruitment and retention payments, new starters, salary, pay award, weekly
  placement costs) from the distributions the scenario declares, exactly as
  :mod:`analysis.sensitivity` draws them (its seed, number of draws and share-premium
  correlation);
* **from the forecast interval alone** (:func:`probability_above`), at the scenario's prices:
  cost rises with demand, so the cost at each bound is the cost's quantile at that bound's
  probability (2.5%, 10%, 50%, 90%, 97.5%); the budget's normal score is interpolated linearly
  between them (exact for a normal forecast, and it keeps a skewed interval's skew) and
  extrapolated beyond the 95% bounds along the outer segment. The Monte Carlo reads demand
  the same way in reverse (:func:`at_normal_score`), so with every price fixed the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis import costs, demand, external, placements, workforce
from analysis.demand_caseload import la_view
from analysis.errors import InputError, Problem
from analysis.loaders import load_budget_trajectory
from analysis.periods import (
    financial_year_label,
    financial_year_start,
    parse_reporting_month,
    start_year_of_label,
)

if TYPE_CHECKING:
    from analysis.scenario import Scenario

#: Interval bounds from the lowest to the highest, with the probability below each.
BOUND_PROBABILITIES: dict[str, float] = {
    "lower_95": 0.025,
    "lower_80": 0.10,
    "forecast": 0.50,
    "upper_80": 0.90,
    "upper_95": 0.975,
}
BOUNDS: tuple[str, ...] = tuple(BOUND_PROBABILITIES)

#: The normal score of each bound (its quantile of the standard normal), in that order.
BOUND_SCORES: np.ndarray = norm.ppf(list(BOUND_PROBABILITIES.values()))

#: Measures counted at 31 March (a year's demand is the mean of its opening and closing).
STOCK_MEASURES: tuple[str, ...] = tuple(m for m in workforce.CASE_MEASURES if m != "referrals")

METHOD_NOTE = (
    "Chance that the budget is short: a Monte Carlo of the demand forecast (drawn from its "
    "80% and 95% intervals) together with every price the scenario gives a range (agency share "
    "and premium, recruitment and retention payments, salary, pay award, weekly placement "
    "costs), drawn from the scenario's distributions as the sensitivity model draws them. The "
    "chance from the demand interval alone, at the scenario's prices, is in the results table "
    "(probability_insufficient_demand_only)."
)


def _missing_demand(measure: str, year: int, bound: str) -> Problem:
    return Problem(
        file="demand trajectory",
        location=f"{measure} at 31 March {year}",
        column=bound,
        has_value=False,
        expected="a published or forecast figure for every year the contract covers",
    )


def demand_by_year(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    end_years: Sequence[int],
    absent: Sequence[str] = (),
) -> pd.DataFrame:
    """Each demand measure in each financial year and bound of the trajectory.

    Parameters
    ----------
    history
        Published figures: ``measure``, ``year`` (the 31 March the figure is for) and
        ``count`` (NaN where suppressed).
    forecast
        ``measure``, ``year`` and the columns of :data:`BOUNDS` (as
        :func:`analysis.demand.forecast_series` gives them, with ``year``).
    end_years
        The financial years, each by the calendar year of its 31 March (2026 for 2025/26).
    absent
        Measures with nothing published at all, counted as none (the caller says so).

    Returns
    -------
    DataFrame
        One row per year and bound: ``year``, ``financial_year`` (``2025/26``), ``bound`` and
        one column per :data:`analysis.workforce.CASE_MEASURES`. A forecast without an
        interval (a series of one figure) gives its central value in every bound.

    Raises
    ------
    InputError
        Naming every measure, 31 March and bound with neither a published nor a forecast
        figure.
    """
    # Dictionaries keyed by (measure, year): each figure is looked up a few hundred times, and
    # a pandas look-up costs a hundred times a dictionary's.
    published = history[history["count"].notna()].drop_duplicates(["measure", "year"], keep="last")
    counts = published.set_index(["measure", "year"])["count"].astype(float).to_dict()
    ahead = forecast.drop_duplicates(["measure", "year"], keep="last")
    forecasts = ahead.set_index(["measure", "year"]).to_dict("index")
    problems: list[Problem] = []

    def at(measure: str, year: int, bound: str) -> float:
        if measure in absent:
            return 0.0
        if (measure, year) in counts:
            return float(counts[(measure, year)])
        if (measure, year) in forecasts:
            forecast_row = forecasts[(measure, year)]
            if pd.notna(forecast_row[bound]):
                return float(forecast_row[bound])
            # A series too short to estimate its spread has a forecast but no interval: the
            # bound is the forecast itself (the caller says so), rather than no year at all.
            if pd.notna(forecast_row["forecast"]):
                return float(forecast_row["forecast"])
        problems.append(_missing_demand(measure, year, bound))
        return math.nan

    rows = []
    for year in end_years:
        for bound in BOUNDS:
            row: dict[str, object] = {
                "year": int(year),
                "financial_year": financial_year_label(int(year) - 1),
                "bound": bound,
            }
            for measure in workforce.CASE_MEASURES:
                if measure in STOCK_MEASURES:
                    row[measure] = (at(measure, year - 1, bound) + at(measure, year, bound)) / 2
                else:
                    row[measure] = at(measure, year, bound)
            rows.append(row)
    if problems:
        unique = {(p.location, p.column): p for p in problems}
        raise InputError(list(unique.values()))
    return pd.DataFrame(rows)


def cost_per_fte_gbp(assumptions: costs.CostAssumptions, years_after_price_base: int) -> float:
    """What one FTE costs a year: an eligible post's salary with on-costs plus the recurring
    agency premium, recruitment and retention uplift (the cost model's arithmetic), with a pay
    award on the whole each year after the cost model's price base (taken off for a year
    before it)."""
    salary = assumptions.retention_salary_gbp_per_fte
    parts = costs.true_cost_parts(
        base_cost_gbp=salary,
        agency_eligible_fte=1.0,
        retention_salary_bill_gbp=salary,
        eligible_share_of_structure=0.0,
        assumptions=assumptions,
        award_falls_in_year=False,
    )
    return (
        float(parts["true_cost_gbp"]) * (1 + assumptions.pay_award_rate) ** years_after_price_base
    )


def contract_costs(
    demand_paths: pd.DataFrame,
    params: workforce.WorkforceParameters,
    assumptions: costs.CostAssumptions,
    placement_cost_per_child_gbp: float,
    price_base_start_year: int,
    *,
    manager_rounding: workforce.ManagerRounding = "ceil",
) -> pd.DataFrame:
    """The staffing and placement cost of every year and bound of a demand trajectory.

    Parameters
    ----------
    demand_paths
        From :func:`demand_by_year`.
    params
        Caseload targets and the other workforce assumptions.
    assumptions
        The cost model's assumptions (cost per FTE, pay award).
    placement_cost_per_child_gbp
        The annual placement cost of a child looked after
        (:func:`analysis.placements.annual_cost_per_child_gbp`).
    price_base_start_year
        The start year of the financial year the cost model's prices are for.
    manager_rounding
        As for :func:`analysis.workforce.required_fte` (whole teams by default).

    Returns
    -------
    DataFrame
        One row per year and bound: ``year``, ``financial_year``, ``bound``, ``cases``,
        ``required_fte``, ``cost_per_fte_gbp``, ``staffing_cost_gbp``,
        ``children_looked_after_avg``, ``placement_cost_gbp`` and ``contract_cost_gbp``.

    Raises
    ------
    InputError
        When a demand figure is negative or missing, or the cost of a child is not a
        number of zero or more.
    """
    if not (isinstance(placement_cost_per_child_gbp, int | float)) or not (
        placement_cost_per_child_gbp >= 0
    ):
        raise InputError(
            [
                Problem(
                    file="placement costs",
                    column="placement_cost_per_child_gbp",
                    value=placement_cost_per_child_gbp,
                    expected="an annual cost of a child looked after of £0 or more",
                )
            ]
        )
    rows = []
    for record in demand_paths.to_dict("records"):
        measures = {m: record[m] for m in workforce.CASE_MEASURES}
        cases = workforce.cases_by_team(measures, params)
        required = workforce.required_fte(cases, params, manager_rounding=manager_rounding)
        fte = float(required["required_fte"].sum())
        years_after = start_year_of_label(str(record["financial_year"])) - price_base_start_year
        per_fte = cost_per_fte_gbp(assumptions, years_after)
        children = float(record["cla_at_31_march"])
        staffing = fte * per_fte
        placement = children * placement_cost_per_child_gbp
        rows.append(
            {
                "year": record["year"],
                "financial_year": record["financial_year"],
                "bound": record["bound"],
                "cases": float(cases["cases"].sum()),
                "required_fte": fte,
                "cost_per_fte_gbp": per_fte,
                "staffing_cost_gbp": staffing,
                "children_looked_after_avg": children,
                "placement_cost_gbp": placement,
                "contract_cost_gbp": staffing + placement,
            }
        )
    return pd.DataFrame(rows)


def probability_above(quantiles: Mapping[str, float], threshold: float) -> float:
    """The probability that a cost exceeds ``threshold``, from its values at :data:`BOUNDS`.

    The bounds' values are the cost's quantiles at :data:`BOUND_PROBABILITIES`; the threshold's
    normal score is interpolated linearly between them and extrapolated beyond the outer
    bounds along the outer segments. Values out of order (a cost that does not quite rise with
    every measure) are sorted first. Without an interval (every bound equal) the answer is 1
    or 0; a missing bound or threshold gives NaN.

    Raises
    ------
    KeyError
        When a bound is missing from ``quantiles``.
    """
    values = np.array([float(quantiles[b]) for b in BOUNDS])
    if np.isnan(values).any() or threshold is None or math.isnan(float(threshold)):
        return math.nan
    values = np.sort(values)
    scores = BOUND_SCORES
    if values[-1] == values[0]:
        return 1.0 if values[0] > threshold else 0.0
    if threshold <= values[0] or threshold >= values[-1]:
        low_side = threshold <= values[0]
        ends = (0, 1) if low_side else (-2, -1)
        (x0, x1), (z0, z1) = values[list(ends)], scores[list(ends)]
        if x1 == x0:  # a flat outer segment: the tail has no spread beyond it
            return 1.0 if low_side else 0.0
        score = z0 + (threshold - x0) * (z1 - z0) / (x1 - x0)
    else:
        # np.interp needs increasing x; equal neighbours share the lower score.
        unique, first = np.unique(values, return_index=True)
        score = float(np.interp(threshold, unique, scores[first]))
    return float(norm.sf(score))


def contract_summary(
    costs_by_bound: pd.DataFrame, budget_gbp: float, budget_year: str = ""
) -> pd.DataFrame:
    """Year by year: the central cost, its intervals, the budget, the gap and the probability
    that the budget is insufficient.

    Parameters
    ----------
    costs_by_bound
        From :func:`contract_costs`.
    budget_gbp
        The council's budget for each year (NaN when none is published).
    budget_year
        The financial year the budget was published for (shown beside it).

    Returns
    -------
    DataFrame
        One row per financial year: ``financial_year``, ``required_fte`` (and its
        ``_lower_80``/``_upper_80``), ``cost_per_fte_gbp``, ``staffing_cost_gbp``,
        ``placement_cost_gbp``, ``contract_cost_gbp`` with ``contract_cost_lower_80_gbp``,
        ``..._upper_80_gbp``, ``..._lower_95_gbp``, ``..._upper_95_gbp``, ``budget_gbp``,
        ``budget_year``, ``gap_gbp`` (central cost - budget; positive = the budget falls
        short), ``gap_upper_95_gbp`` and ``probability_insufficient_demand_only`` (the
        forecast-interval method, :func:`probability_above`).
    """
    rows = []
    for (year, label), group in costs_by_bound.groupby(["year", "financial_year"], sort=True):
        by_bound = group.set_index("bound")
        central = by_bound.loc["forecast"]
        row: dict[str, object] = {
            "financial_year": label,
            "year": int(year),
            "required_fte": float(central["required_fte"]),
            "required_fte_lower_80": float(by_bound.loc["lower_80", "required_fte"]),
            "required_fte_upper_80": float(by_bound.loc["upper_80", "required_fte"]),
            "cost_per_fte_gbp": float(central["cost_per_fte_gbp"]),
            "staffing_cost_gbp": float(central["staffing_cost_gbp"]),
            "placement_cost_gbp": float(central["placement_cost_gbp"]),
            "contract_cost_gbp": float(central["contract_cost_gbp"]),
        }
        for bound in BOUNDS:
            if bound != "forecast":
                row[f"contract_cost_{bound}_gbp"] = float(by_bound.loc[bound, "contract_cost_gbp"])
        row["budget_gbp"] = float(budget_gbp)
        row["budget_year"] = budget_year
        row["gap_gbp"] = float(central["contract_cost_gbp"]) - float(budget_gbp)
        row["gap_upper_95_gbp"] = row["contract_cost_upper_95_gbp"] - float(budget_gbp)
        row["probability_insufficient_demand_only"] = probability_above(
            by_bound["contract_cost_gbp"].to_dict(), float(budget_gbp)
        )
        rows.append(row)
    return pd.DataFrame(rows)


# ---- Monte Carlo: demand and prices together --------------------------------------------------

#: The prices the Monte Carlo draws with the demand forecast (those a scenario declares
#: ``fixed`` are held at their values), from the distributions the scenario declares.
PRICE_ASSUMPTIONS: tuple[str, ...] = (
    "agency_share",
    "agency_premium_gbp_per_fte",
    "recruitment_payment_gbp",
    "retention_payment_rate",
    "new_starter_rate",
    "retention_salary_gbp_per_fte",
    "pay_award_rate",
    *placements.UNIT_COST_ASSUMPTIONS.values(),
)


def at_normal_score(quantiles: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """A figure at normal scores ``scores``, from its values at :data:`BOUNDS` (sorted):
    linear between the bounds' scores, along the outer segments beyond them, never below 0.
    The inverse of the reading :func:`probability_above` makes."""
    values = np.sort(np.asarray(quantiles, dtype=float))
    knots = BOUND_SCORES
    result = np.interp(scores, knots, values)
    low_slope = (values[1] - values[0]) / (knots[1] - knots[0])
    high_slope = (values[-1] - values[-2]) / (knots[-1] - knots[-2])
    # Only the scores beyond the outer bounds (one in twenty) are extrapolated.
    below, above = scores < knots[0], scores > knots[-1]
    result[below] = values[0] + (scores[below] - knots[0]) * low_slope
    result[above] = values[-1] + (scores[above] - knots[-1]) * high_slope
    return np.maximum(result, 0.0, out=result)


def _draw_prices(scenario: Scenario, draws: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    from analysis.sensitivity import PREMIUM, SHARE, draw_assumption

    uniforms = {name: rng.random(draws) for name in PRICE_ASSUMPTIONS}
    rho = float(scenario.settings.sensitivity.correlation_agency_share_premium)
    if rho:
        # The sensitivity model's Gaussian copula between agency share and premium.
        z_share = rng.standard_normal(draws)
        z_premium = rho * z_share + math.sqrt(1.0 - rho * rho) * rng.standard_normal(draws)
        uniforms[SHARE], uniforms[PREMIUM] = norm.cdf(z_share), norm.cdf(z_premium)
    return {name: draw_assumption(scenario.assumption(name), u) for name, u in uniforms.items()}


def monte_carlo_insufficiency(
    costs_by_bound: pd.DataFrame,
    budget_gbp: float,
    scenario: Scenario,
    mix: pd.DataFrame,
    price_base_start_year: int,
    *,
    draws: int | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """The probability, year by year, that the budget does not cover staffing and placements
    when demand and prices are both uncertain.

    Each draw takes one normal score for demand, shared by every year (a stock's forecast errors
    move together), and reads the required FTE and children looked after of each year at that
    score from the bounds (:func:`at_normal_score`); and it draws every price of
    :data:`PRICE_ASSUMPTIONS` from the scenario's distributions, as the sensitivity model does
    (its seed, draws and the correlation between agency share and premium, from
    ``settings.sensitivity``). A draw's cost is FTE x the cost per FTE at its prices (the cost
    model's arithmetic, with its pay award from the price base) + children x the annual cost
    of a child at the mix and its weekly unit costs.

    Parameters
    ----------
    costs_by_bound
        From :func:`contract_costs`.
    budget_gbp
        The budget of every year (NaN: no probability).
    scenario
        The distributions and settings.
    mix
        The placement mix (``placement_group``, ``share``;
        :func:`analysis.placements.placement_mix`).
    price_base_start_year
        As for :func:`contract_costs`.
    draws, seed
        Default to ``settings.sensitivity.monte_carlo_draws`` and ``seed``.

    Returns
    -------
    DataFrame
        One row per year: ``financial_year``, ``probability_insufficient``,
        ``probability_standard_error``, ``contract_cost_p10_gbp``, ``contract_cost_p50_gbp``,
        ``contract_cost_p90_gbp`` and ``draws``.

    Raises
    ------
    InputError
        When the scenario lacks a price assumption.
    """
    scenario.require(PRICE_ASSUMPTIONS, model="contract sum Monte Carlo")
    settings = scenario.settings.sensitivity
    draws = int(settings.monte_carlo_draws if draws is None else draws)
    rng = np.random.default_rng(settings.seed if seed is None else seed)
    scores = rng.standard_normal(draws)
    prices = _draw_prices(scenario, draws, rng)
    drawn = replace(
        costs.cost_assumptions(scenario),
        **{name: prices[name] for name in PRICE_ASSUMPTIONS if not name.startswith("unit_cost")},
    )
    salary = prices["retention_salary_gbp_per_fte"]
    per_fte_at_base = costs.true_cost_parts(
        base_cost_gbp=salary,
        agency_eligible_fte=1.0,
        retention_salary_bill_gbp=salary,
        eligible_share_of_structure=0.0,
        assumptions=drawn,
        award_falls_in_year=False,
    )["true_cost_gbp"]
    shares = mix.set_index("placement_group")["share"]
    per_child = placements.WEEKS_PER_YEAR * sum(
        float(shares.get(group, 0.0)) * prices[name]
        for group, name in placements.UNIT_COST_ASSUMPTIONS.items()
    )
    rows = []
    for label, group in costs_by_bound.groupby("financial_year", sort=True):
        by_bound = group.set_index("bound").reindex(list(BOUNDS))
        fte = at_normal_score(by_bound["required_fte"].to_numpy(), scores)
        children = at_normal_score(by_bound["children_looked_after_avg"].to_numpy(), scores)
        years_after = start_year_of_label(str(label)) - price_base_start_year
        per_fte = per_fte_at_base * (1 + prices["pay_award_rate"]) ** years_after
        cost = fte * per_fte + children * per_child
        p10, p50, p90 = np.quantile(cost, [0.1, 0.5, 0.9])
        if math.isnan(float(budget_gbp)):
            probability = error = math.nan
        else:
            probability = float(np.count_nonzero(cost > budget_gbp)) / draws
            error = math.sqrt(probability * (1 - probability) / draws)
        rows.append(
            {
                "financial_year": label,
                "probability_insufficient": probability,
                "probability_standard_error": error,
                "contract_cost_p10_gbp": float(p10),
                "contract_cost_p50_gbp": float(p50),
                "contract_cost_p90_gbp": float(p90),
                "draws": draws,
            }
        )
    return pd.DataFrame(rows)


# ---- one council and reporting month --------------------------------------------------------


@dataclass(frozen=True)
class ContractView:
    """Everything the contract-sum section shows for one council and reporting month.

    ``published`` is what had been published by the reporting month, with the council's rows
    under an earlier code or a joint return labelled with its code
    (:func:`analysis.demand_caseload.la_view`).
    """

    la_code: str
    la_name: str
    reporting_month: str
    financial_years: tuple[str, ...]
    history: pd.DataFrame
    forecast: pd.DataFrame
    demand: pd.DataFrame
    costs: pd.DataFrame
    summary: pd.DataFrame
    budget_gbp: float
    budget_year: str
    placement_cost_per_child_gbp: float
    price_base_year: str
    published: pd.DataFrame
    placement_mix: pd.DataFrame
    method_note: str = METHOD_NOTE
    notes: list[str] = field(default_factory=list)


def _history(published: pd.DataFrame, la_code: str) -> pd.DataFrame:
    try:
        found = external.series_of_measures(published, la_code, workforce.CASE_MEASURES)
    except InputError:
        found = {}
    frames = [
        pd.DataFrame(
            {"measure": measure, "year": values.index.year, "count": values.to_numpy(float)}
        )
        for measure, values in found.items()
    ]
    if not frames:
        return pd.DataFrame(columns=["measure", "year", "count"])
    return pd.concat(frames, ignore_index=True)


def _latest_budget(published: pd.DataFrame, la_code: str) -> tuple[float, str]:
    finance = placements.budget_and_outturn(published, la_code)
    budgets = finance.dropna(subset=["csc_budget_gbp"])
    if budgets.empty:
        return math.nan, ""
    last = budgets.sort_values("financial_year").iloc[-1]
    return float(last["csc_budget_gbp"]), str(last["financial_year"])


def _placement_mix(
    published: pd.DataFrame, tidy: pd.DataFrame, la_code: str, notes: list[str]
) -> pd.DataFrame:
    """England's latest placement mix published by the month; before the England files
    (2020 onwards) were published, the council's own 2010-2017 mix, or failing that England's
    first published mix, with a note."""
    try:
        return placements.placement_mix(published, placements.DEFAULT_MIX_SOURCE)
    except InputError:
        pass
    try:
        mix = placements.placement_mix(published, "la", la_code=la_code)
        notes.append(
            f"England's placement mix was not yet published: the council's own mix of "
            f"{int(mix['year'].iloc[0])} is used."
        )
        return mix
    except InputError:
        first = int(
            tidy.loc[tidy["measure"].isin(placements.ENGLAND_PLACEMENT_MEASURES), "year"].min()
        )
        notes.append(
            f"No placement mix was published by the reporting month: England's mix of {first}, "
            "published later, is used."
        )
        return placements.placement_mix(tidy, placements.DEFAULT_MIX_SOURCE, year=first)


def contract_view(
    tidy: pd.DataFrame,
    la_code: str,
    reporting_month: str,
    scenario: Scenario,
    *,
    chosen: Mapping[str, str] | None = None,
) -> ContractView:
    """The contract-sum view for one council: demand, cost, budget and gap over the horizon.

    The years are the scenario's ``horizon_years`` financial years from the reporting month's.

    Parameters
    ----------
    tidy
        Every published figure (:func:`analysis.external.load_external`); cut here to what
        had been published by the reporting month.
    la_code
        ONS code, DfE LA number or name.
    reporting_month
        ``YYYY-MM`` (or ``YYYY-YY Pn``).
    scenario
        Workforce, cost and placement assumptions, and the horizon.
    chosen
        Measure -> forecasting method from the all-LA backtest
        (:func:`analysis.demand.choose_methods`); a measure without one is forecast by the
        last value with its widening interval.

    Raises
    ------
    InputError
        When the LA or month is unknown, the scenario lacks an assumption, or a demand measure
        has nothing published for the LA.
    """
    month = parse_reporting_month(reporting_month)
    la = external.resolve_la(la_code, external.la_lookup(tidy))
    code, name = str(la["la_code"]), str(la["la_name"])
    params = workforce.workforce_parameters(scenario)
    assumptions = costs.cost_assumptions(scenario)
    unit_costs = placements.unit_costs(scenario)
    notes: list[str] = []
    published = la_view(external.published_as_of(tidy, month.strftime("%Y-%m")), la, notes)
    own = published[published["la_code"] == code]  # the forecasts need only this council
    history = _history(own, code)
    first_start = financial_year_start(month)
    starts = range(first_start, first_start + int(scenario.settings.horizon_years))
    end_years = [start + 1 for start in starts]
    observed = history[history["count"].notna()]
    last_published = (
        int(observed.groupby("measure")["year"].max().min()) if len(observed) else end_years[0] - 1
    )
    horizon = max(end_years[-1] - last_published, 1)
    # Suppressed latest figures are left out, so the forecast starts after the last figure
    # actually published and covers the suppressed years too.
    forecast = demand.forecast_measures(
        own[own["value"].notna()],
        code,
        workforce.CASE_MEASURES,
        horizon,
        chosen=chosen,
    )
    forecast = forecast.assign(year=pd.DatetimeIndex(forecast["period_end"]).year)
    no_interval = sorted(set(forecast.loc[forecast["upper_80"].isna(), "measure"]))
    if no_interval:
        notes.append(
            "Too few published figures to estimate a forecast interval for "
            f"{', '.join(no_interval)}: their central forecast is used in every bound, so the "
            "intervals understate the uncertainty."
        )
    absent = [m for m in workforce.CASE_MEASURES if m not in set(observed["measure"])]
    if absent:
        notes.append(
            f"Nothing published for {', '.join(absent)} by the reporting month: counted as none, "
            "so the social workers they would need are not in the cost."
        )
    paths = demand_by_year(history, forecast, end_years, absent)
    mix = _placement_mix(published, tidy, code, notes)
    per_child = placements.annual_cost_per_child_gbp(mix, unit_costs)
    price_base = str(load_budget_trajectory()["financial_year"].min())
    by_bound = contract_costs(
        paths, params, assumptions, per_child, start_year_of_label(price_base)
    )
    budget_gbp, budget_year = _latest_budget(published, code)
    if not budget_year:
        notes.append("No MHCLG RA budget published for this council by then: no gap is shown.")
    simulated = monte_carlo_insufficiency(
        by_bound, budget_gbp, scenario, mix, start_year_of_label(price_base)
    )
    summary = contract_summary(by_bound, budget_gbp, budget_year).merge(
        simulated, on="financial_year", how="left"
    )
    return ContractView(
        la_code=code,
        la_name=name,
        reporting_month=month.strftime("%Y-%m"),
        financial_years=tuple(financial_year_label(s) for s in starts),
        history=history,
        forecast=forecast,
        demand=paths,
        costs=by_bound,
        summary=summary,
        placement_mix=mix,
        budget_gbp=budget_gbp,
        budget_year=budget_year,
        placement_cost_per_child_gbp=per_child,
        price_base_year=price_base,
        published=published,
        notes=notes,
    )
