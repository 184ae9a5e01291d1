"""Agency-premium sensitivity: how a structure's cost and budget variance move with the
assumptions, at what agency share it breaks even, and how likely an overspend is.

What is evaluated
-----------------
For each Target Operating Model structure (Before, Improvement, Efficient) this module prices
**the structure a year on from its costing** (the year after the one its funding was set
for) from the scenario's assumptions:

* the **true cost** of its posts, from the cost model (:mod:`analysis.costs`): base cost plus
  agency premium, recruitment and retention payments. The one-off legacy retention award falls
  in one financial year only and is not part of a structure's recurring cost, so its two
  assumptions are not varied here (the TOM cost notebook shows the year it falls in);
* **staffing for the year's demand**: demand grows by ``demand_growth_rate`` for a year, and
  the caseload targets and the other workforce assumptions set how many case-holding social
  workers that demand needs (:mod:`analysis.workforce`, fractional teams). The structure's
  agency-eligible (case-holding) FTE scale with the required case-holding FTE; each extra post
  costs the salary of an eligible post (``retention_salary_gbp_per_fte``) and attracts the
  same agency premium, recruitment and retention payments as the others;
* **one year's pay award** on the whole true cost, as the published document prices it
  (``pay_award_rate`` x true cost; :func:`analysis.costs.pay_award_cost`).

The **budget** of a structure is its **funded budget**: the sum of its published funding
sources (Care and Support, other council and external funding, Appendix C). The council set
that funding equal to the structure's published true cost, which assumed a 15% agency share,
a £30k premium and today's pay and demand; where a funding cell was not printed (Before,
external funding) the cost model's implied amount is used. The funded budget is a fixed sum:
it does not move with a scenario, so the **variance** (cost in the year minus funded budget,
positive = overspend) shows what each assumption costs against what was funded. At the
published assumptions with no pay award and no demand growth the variance is nil and the
break-even agency share is the costed 15%: any pay award or demand growth the budget did not
fund pulls the break-even share below 15%.

All evaluations are vectorised: the cost model's own arithmetic
(:func:`analysis.costs.true_cost_parts`) runs on NumPy arrays with scenarios down one axis and
budget areas along the other, so a grid, a tornado or a million Monte Carlo draws cost one call,
with no Python loop per scenario. The only per-value loop is in the workforce model, called
once per distinct value of a workforce assumption in the one-way sensitivities.

Methods
-------
* **Two-way grid** over agency share x agency premium (ranges and steps from
  ``settings.sensitivity``), other assumptions at their values.
* **One-way sensitivities** (tornado): each assumption that moves the cost at its low and at
  its high, others at their values; ranked by swing in £, with the change in case-holding FTE
  for the assumptions that move staffing.
* **Break-even agency share**: cost is linear in the share, so the share at which the variance
  is nil is solved exactly from the variance at shares 0 and 1; "not reachable" when it lies
  outside [0, 1].
* **Monte Carlo**: every assumption of the cost side (not the workforce model, whose
  assumptions are held at their values: it is not vectorised, and its one-way effects are in the
  tornado) is drawn from the distribution its scenario declares (triangular over low, mode =
  value, high by default; uniform; normal clipped to its range; fixed), with an optional
  Gaussian-copula correlation between agency share and premium, from the scenario's seed. Draws
  are made in chunks so memory stays bounded; the result gives the probability of an overspend
  with its standard error, the mean and the P10/P50/P90 variance, and a histogram.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from analysis import costs, workforce
from analysis.errors import InputError, Problem
from analysis.loaders import STRUCTURES, load_tom_structures
from analysis.paths import display_path

if TYPE_CHECKING:
    from analysis.scenario import Assumption, Scenario

#: Assumptions of the cost side priced here: the cost model's recurring ones and demand growth.
COST_SIDE_ASSUMPTIONS: tuple[str, ...] = (
    *(
        name
        for name in costs.COST_ASSUMPTION_NAMES
        if name not in ("legacy_retention_award_gbp", "legacy_retention_award_staff")
    ),
    "demand_growth_rate",
)

#: Assumptions that move staffing (and so are shown in FTE as well as in pounds).
STAFFING_ASSUMPTIONS: tuple[str, ...] = ("demand_growth_rate", *workforce.ASSUMPTIONS)

SHARE = "agency_share"
PREMIUM = "agency_premium_gbp_per_fte"

#: Draws priced at once in the Monte Carlo: keeps each chunk's arrays to a few megabytes.
CHUNK_DRAWS = 100_000

#: The standard deviation of a ``normal`` assumption is its range over this (2 x 1.96).
NORMAL_RANGE_IN_SD = 3.92


@dataclass(frozen=True)
class StructureBasis:
    """One structure's cost basis as arrays over its budget areas (see :mod:`analysis.costs`)."""

    structure: str
    budget_areas: tuple[str, ...]
    base_cost_gbp: np.ndarray
    agency_eligible_fte: np.ndarray
    retention_salary_bill_gbp: np.ndarray
    eligible_share_of_structure: np.ndarray
    funded_budget_gbp: float

    def whole(self) -> StructureBasis:
        """The structure as one budget area: the cost model is linear in the basis, so its
        total is the same (to rounding) and pricing it costs a sixth of the work."""
        return StructureBasis(
            structure=self.structure,
            budget_areas=("all",),
            base_cost_gbp=self.base_cost_gbp.sum(keepdims=True),
            agency_eligible_fte=self.agency_eligible_fte.sum(keepdims=True),
            retention_salary_bill_gbp=self.retention_salary_bill_gbp.sum(keepdims=True),
            eligible_share_of_structure=np.ones(1),
            funded_budget_gbp=self.funded_budget_gbp,
        )


@dataclass(frozen=True)
class SensitivityModel:
    """Everything the vectorised evaluation needs, read once from a scenario.

    ``cases`` (open cases by team, :func:`analysis.workforce.cases_by_team`) lets the workforce
    assumptions move staffing; without it they are left out of the one-way sensitivities.
    """

    scenario: Scenario
    cost_assumptions: costs.CostAssumptions
    structures: tuple[StructureBasis, ...]
    cases: pd.DataFrame | None

    def value(self, name: str) -> float:
        return float(self.scenario.value(name))

    def structure(self, name: str) -> StructureBasis:
        for basis in self.structures:
            if basis.structure == name:
                return basis
        raise ValueError(
            f"structure {name!r} is not among {[b.structure for b in self.structures]}"
        )


def _scenario_problem(scenario: Scenario, key: str, value: object, expected: str) -> Problem:
    return Problem(
        file=display_path(scenario.path), location=f"key '{key}'", value=value, expected=expected
    )


def build_model(
    scenario: Scenario,
    structures: pd.DataFrame | None = None,
    cases: pd.DataFrame | None = None,
) -> SensitivityModel:
    """Read the cost basis, funded budgets and assumptions of every structure.

    Parameters
    ----------
    scenario
        The scenario (see :func:`analysis.scenario.load_scenario`).
    structures
        The published structures (:func:`analysis.loaders.load_tom_structures`; read when
        ``None``).
    cases
        Open cases by team (``team``, ``cases``), so caseload targets and the other workforce
        assumptions move staffing; ``None`` leaves them out.

    Raises
    ------
    InputError
        When the scenario lacks an assumption the cost model or the demand link needs, or the
        published table cannot be read.
    """
    scenario.require(COST_SIDE_ASSUMPTIONS, model="agency-premium sensitivity")
    if cases is not None:
        scenario.require(workforce.ASSUMPTIONS, model="agency-premium sensitivity")
    table = load_tom_structures() if structures is None else structures
    assumptions = costs.cost_assumptions(scenario)
    basis = costs.cost_basis_from_published(table, assumptions)
    areas = table[table["budget_area"] != costs.TOTAL_AREA]
    published_funding = areas.groupby("structure", sort=False)["care_and_support_funding_gbp"].sum()
    built = []
    for structure in STRUCTURES:
        rows = basis[basis["structure"] == structure]
        if rows.empty:
            continue
        eligible = rows["agency_eligible_fte"].to_numpy(dtype=float)
        total = eligible.sum()
        funded = float(
            published_funding[structure]
            + rows["other_council_funding_gbp"].sum()
            + rows["external_funding_gbp"].sum()
        )
        built.append(
            StructureBasis(
                structure=structure,
                budget_areas=tuple(rows["budget_area"]),
                base_cost_gbp=rows["base_cost_gbp"].to_numpy(dtype=float),
                agency_eligible_fte=eligible,
                retention_salary_bill_gbp=rows["retention_salary_bill_gbp"].to_numpy(dtype=float),
                eligible_share_of_structure=eligible / total if total else np.zeros_like(eligible),
                funded_budget_gbp=funded,
            )
        )
    return SensitivityModel(
        scenario=scenario, cost_assumptions=assumptions, structures=tuple(built), cases=cases
    )


def current_structure(scenario: Scenario, reporting_month: str) -> str:
    """Return the structure in effect in ``reporting_month``: Efficient from the month the
    scenario moves to it (``efficient_structure_from``), Improvement before."""
    return (
        "efficient"
        if str(reporting_month) >= scenario.settings.efficient_structure_from
        else "improvement"
    )


# ---- the vectorised evaluation ---------------------------------------------------------------


def _values_as_arrays(
    model: SensitivityModel, values: Mapping[str, object]
) -> tuple[dict[str, np.ndarray], int]:
    """Every cost-side assumption as a 1-D array of one common length (scenario values fill
    in what ``values`` does not give)."""
    arrays = {
        name: np.atleast_1d(np.asarray(values.get(name, model.value(name)), dtype=float))
        for name in COST_SIDE_ASSUMPTIONS
    }
    extra = set(values) - set(arrays) - {"workforce_ratio"}
    if extra:
        raise ValueError(f"not cost-side assumptions: {sorted(extra)}")
    arrays["workforce_ratio"] = np.atleast_1d(
        np.asarray(values.get("workforce_ratio", 1.0), dtype=float)
    )
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    if len(shape) != 1:
        raise ValueError("assumption values must be numbers or 1-D arrays")
    return {k: np.broadcast_to(v, shape) for k, v in arrays.items()}, shape[0]


def _relative(values: np.ndarray, base: float) -> np.ndarray:
    """``values`` over the scenario's ``base``: how much a quantity of the basis scales. A
    basis quantity of nothing (a structure with no eligible posts) stays nothing."""
    return values / base if base else np.ones_like(values)


def evaluate(
    model: SensitivityModel, values: Mapping[str, object], *, detail: bool = True
) -> dict[str, dict[str, np.ndarray]]:
    """Price many scenarios at once, for every structure.

    Parameters
    ----------
    model
        From :func:`build_model`.
    values
        Assumption name -> a number or a 1-D array (one entry per scenario); assumptions not
        given take the scenario's value. ``workforce_ratio`` (default 1) is the required
        case-holding FTE under the scenario's workforce assumptions over that under the
        scenario file's (see :func:`workforce_ratio`).
    detail
        ``False`` returns only ``variance_gbp`` (what the Monte Carlo needs), priced on each
        structure as a whole rather than area by area: the same to rounding, far less work.

    Returns
    -------
    dict
        Structure -> arrays, one entry per scenario: ``true_cost_gbp`` (the cost model's true
        cost with today's staffing), ``staffing_factor``, ``case_holding_fte`` (agency-eligible
        FTE staffed for the year), ``staffing_cost_gbp``, ``pay_award_cost_gbp``,
        ``cost_in_year_gbp``, ``funded_budget_gbp`` and ``variance_gbp``.
    """
    v, n = _values_as_arrays(model, values)

    def column(name: str) -> np.ndarray:
        return v[name][:, np.newaxis]

    base = model.cost_assumptions
    assumptions = costs.CostAssumptions(
        agency_share=column(SHARE),
        agency_premium_gbp_per_fte=column(PREMIUM),
        recruitment_payment_gbp=column("recruitment_payment_gbp"),
        retention_payment_rate=column("retention_payment_rate"),
        legacy_retention_award_gbp=base.legacy_retention_award_gbp,
        legacy_retention_award_staff=base.legacy_retention_award_staff,
        legacy_retention_award_year=base.legacy_retention_award_year,
        new_starter_rate=column("new_starter_rate"),
        retention_salary_gbp_per_fte=column("retention_salary_gbp_per_fte"),
        pay_award_rate=column("pay_award_rate"),
        agency_eligible_fte=base.agency_eligible_fte,
    )
    staffing = (1.0 + v["demand_growth_rate"]) * v["workforce_ratio"]
    salary_ratio = _relative(
        column("retention_salary_gbp_per_fte"), base.retention_salary_gbp_per_fte
    )
    results: dict[str, dict[str, np.ndarray]] = {}
    for basis in model.structures:
        basis = basis if detail else basis.whole()
        name = f"agency_eligible_fte_{basis.structure}"
        eligible_ratio = _relative(column(name), base.agency_eligible_fte[basis.structure])

        def price(factor: np.ndarray, basis: StructureBasis = basis, ratio=eligible_ratio):
            """True cost by area with the eligible posts scaled by ``factor``; extra posts
            cost the salary bill of the posts they add to."""
            eligible = basis.agency_eligible_fte * ratio * factor
            salary_bill = basis.retention_salary_bill_gbp * ratio * salary_ratio
            parts = costs.true_cost_parts(
                base_cost_gbp=basis.base_cost_gbp + salary_bill * (factor - 1.0),
                agency_eligible_fte=eligible,
                retention_salary_bill_gbp=salary_bill * factor,
                eligible_share_of_structure=basis.eligible_share_of_structure,
                assumptions=assumptions,
                award_falls_in_year=False,
            )
            return parts["true_cost_gbp"], eligible

        by_area, eligible = price(staffing[:, np.newaxis])
        in_year = (by_area + costs.pay_award_cost(by_area, assumptions)).sum(axis=1)
        variance = in_year - basis.funded_budget_gbp
        if not detail:
            results[basis.structure] = {"variance_gbp": variance}
            continue
        today, _ = price(np.ones((n, 1)))
        true_cost = today.sum(axis=1)
        staffed = by_area.sum(axis=1)
        results[basis.structure] = {
            "true_cost_gbp": true_cost,
            "staffing_factor": np.array(staffing),
            "case_holding_fte": eligible.sum(axis=1),
            "staffing_cost_gbp": staffed - true_cost,
            "pay_award_cost_gbp": in_year - staffed,
            "cost_in_year_gbp": in_year,
            "funded_budget_gbp": np.full(n, basis.funded_budget_gbp),
            "variance_gbp": variance,
        }
    return results


def _frame(results: dict[str, dict[str, np.ndarray]], keys: Mapping[str, object]) -> pd.DataFrame:
    """Stack the evaluation of every structure into one long table with ``keys`` columns."""
    frames = []
    for structure, measures in results.items():
        frame = pd.DataFrame({"structure": structure, **keys, **measures})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def base_point(model: SensitivityModel) -> pd.DataFrame:
    """Return each structure priced at the scenario's own values (one row per structure)."""
    return _frame(evaluate(model, {}), {})


# ---- staffing: the workforce model's required FTE --------------------------------------------


def _case_holding_fte(cases: pd.DataFrame, scenario: Scenario) -> float:
    """Required case-holding FTE (allowances included) for ``cases`` under ``scenario``'s
    workforce assumptions, in fractional teams so that the FTE move smoothly."""
    required = workforce.required_fte(
        cases, workforce.workforce_parameters(scenario), manager_rounding="ratio"
    )
    return workforce.case_holding_fte(required, with_allowances=True)


def workforce_ratios(model: SensitivityModel, points: Sequence[tuple[str, float]]) -> np.ndarray:
    """:func:`workforce_ratio` of each (assumption name, value) in ``points``, the FTE at the
    scenario's values worked out once for all of them (it was half of the tornado's time).

    Raises
    ------
    InputError
        When a value is outside its assumption's range, or the model has no cases (one
        problem per point).
    """
    if model.cases is None:
        raise InputError(
            [
                _scenario_problem(
                    model.scenario,
                    f"assumptions.{name}",
                    value,
                    "cases by team to size the workforce from (build the model with cases)",
                )
                for name, value in points
            ]
        )
    cases, scenario = model.cases, model.scenario
    base = _case_holding_fte(cases, scenario)
    return np.array(
        [_case_holding_fte(cases, scenario.with_values(**{n: v})) / base for n, v in points],
        dtype=float,
    )


def workforce_ratio(model: SensitivityModel, name: str, value: float) -> float:
    """Required case-holding FTE (allowances included) with ``name`` at ``value``, over that
    at the scenario's values, for the model's cases (fractional teams, so FTE move smoothly).

    Raises
    ------
    InputError
        When ``value`` is outside the assumption's range, or the model has no cases.
    """
    return float(workforce_ratios(model, [(name, value)])[0])


# ---- two-way grid ----------------------------------------------------------------------------


def grid_axes(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Return the agency share and agency premium values of the two-way grid.

    Raises
    ------
    InputError
        When the grid has more points than ``settings.sensitivity.max_grid_points``.
    """
    grid = scenario.settings.sensitivity
    axes = []
    for axis, name in ((grid.agency_share_grid, SHARE), (grid.agency_premium_grid, PREMIUM)):
        assumption = scenario.assumption(name)
        low = assumption.low if axis.low is None else axis.low
        high = assumption.high if axis.high is None else axis.high
        axes.append(np.linspace(low, high, axis.steps))
    points = len(axes[0]) * len(axes[1])
    if points > grid.max_grid_points:
        raise InputError(
            [
                _scenario_problem(
                    scenario,
                    "settings.sensitivity.agency_share_grid.steps",
                    grid.agency_share_grid.steps,
                    f"at most settings.sensitivity.max_grid_points = {grid.max_grid_points:,} "
                    f"grid points; the grid has {len(axes[0])} x {len(axes[1])} = {points:,}",
                )
            ]
        )
    return axes[0], axes[1]


def agency_grid(model: SensitivityModel) -> pd.DataFrame:
    """Return true cost, cost in the year and variance over agency share x premium.

    One row per structure, agency share and premium (long format: pivot for a heatmap).

    Raises
    ------
    InputError
        When the grid has more points than the scenario's limit.
    """
    shares, premiums = grid_axes(model.scenario)
    share_mesh, premium_mesh = np.meshgrid(shares, premiums, indexing="ij")
    share_flat, premium_flat = share_mesh.ravel(), premium_mesh.ravel()
    results = evaluate(model, {SHARE: share_flat, PREMIUM: premium_flat})
    return _frame(results, {SHARE: share_flat, PREMIUM: premium_flat})


# ---- break-even ------------------------------------------------------------------------------


#: Pay award and demand growth of the year the funded budget was set for (today's pay and
#: demand), for the break-even share against the funding as costed.
AS_FUNDED = {"pay_award_rate": 0.0, "demand_growth_rate": 0.0}


def _share_line(model: SensitivityModel, fixed: Mapping[str, float]) -> dict[str, tuple]:
    """Intercept and slope of each structure's variance in the agency share."""
    at_zero = evaluate(model, {**fixed, SHARE: 0.0})
    at_one = evaluate(model, {**fixed, SHARE: 1.0})
    lines = {}
    for structure, measures in at_zero.items():
        intercept = float(measures["variance_gbp"][0])
        lines[structure] = (intercept, float(at_one[structure]["variance_gbp"][0]) - intercept)
    return lines


def _solve(intercept: float, slope: float) -> float:
    """The share at which ``intercept + slope x share`` is nil, or NaN outside [0, 1]."""
    if slope == 0:
        return 0.0 if intercept == 0 else math.nan
    share = -intercept / slope
    return share if 0.0 <= share <= 1.0 else math.nan


def break_even(model: SensitivityModel) -> pd.DataFrame:
    """Return each structure's break-even agency share and the cost of one point of share.

    The variance is linear in the agency share (a + b x share), so the share at which it is
    nil is -a / b, solved exactly from the variance at shares 0 and 1 with the other
    assumptions at their values. It is also solved at the pay and demand the funded budget
    was set for (no pay award, no demand growth), where the published costing breaks even at
    its own 15%.

    Returns
    -------
    DataFrame
        structure, agency_share (the scenario's), variance_gbp (at it),
        cost_per_point_gbp (one percentage point more agency share, in the year),
        break_even_agency_share (blank when no share in [0, 1] breaks even), reachable,
        finding (in words) and break_even_agency_share_as_funded (today's pay and demand).
    """
    in_year = _share_line(model, {})
    as_funded = _share_line(model, AS_FUNDED)
    now = evaluate(model, {})
    rows = []
    for basis in model.structures:
        intercept, slope = in_year[basis.structure]
        share = _solve(intercept, slope)
        reachable = math.isfinite(share)
        if reachable:
            finding = f"breaks even at an agency share of {share * 100:.1f}%"
        elif intercept > 0:
            finding = "not reachable: overspends even with no agency staff"
        else:
            finding = "not reachable: within budget even with every eligible post agency-filled"
        rows.append(
            {
                "structure": basis.structure,
                SHARE: model.value(SHARE),
                "variance_gbp": float(now[basis.structure]["variance_gbp"][0]),
                "cost_per_point_gbp": slope / 100.0,
                "break_even_agency_share": share,
                "reachable": reachable,
                "finding": finding,
                "break_even_agency_share_as_funded": _solve(*as_funded[basis.structure]),
            }
        )
    return pd.DataFrame(rows)


# ---- one-way sensitivities (tornado) ---------------------------------------------------------


def one_way_assumptions(model: SensitivityModel) -> list[str]:
    """The assumptions varied one at a time: the cost side, and the workforce model's when the
    model has cases to size staffing from."""
    names = list(COST_SIDE_ASSUMPTIONS)
    if model.cases is not None:
        names += [n for n in workforce.ASSUMPTIONS if n not in names]
    return names


def one_way(model: SensitivityModel) -> pd.DataFrame:
    """Return every assumption's effect at its low and at its high, ranked into a tornado.

    Returns
    -------
    DataFrame
        One row per structure and assumption that moves its variance: structure, assumption,
        description, unit, value, low, high, variance_at_low_gbp, variance_at_high_gbp,
        change_at_low_gbp and change_at_high_gbp (against the variance at the values),
        swing_gbp (high minus low, absolute), case_holding_fte_change_at_low and
        _at_high (blank for assumptions that do not move staffing) and rank (1 = largest
        swing within the structure).
    """
    names = one_way_assumptions(model)
    points = [
        (name, float(getattr(model.scenario.assumption(name), end)))
        for name in names
        for end in ("low", "high")
    ]
    values = {name: np.full(len(points), model.value(name)) for name in COST_SIDE_ASSUMPTIONS}
    staffing_points = []
    for index, (name, point) in enumerate(points):
        if name in COST_SIDE_ASSUMPTIONS:
            values[name][index] = point
        else:
            staffing_points.append(index)
    ratio = np.ones(len(points))
    if staffing_points:
        ratio[staffing_points] = workforce_ratios(model, [points[i] for i in staffing_points])
    values["workforce_ratio"] = ratio
    results = evaluate(model, values)
    now = evaluate(model, {})
    frames = []
    for basis in model.structures:
        measures = results[basis.structure]
        variance = measures["variance_gbp"].reshape(-1, 2)
        fte = measures["case_holding_fte"].reshape(-1, 2)
        base_variance = float(now[basis.structure]["variance_gbp"][0])
        base_fte = float(now[basis.structure]["case_holding_fte"][0])
        staffing = np.array([name in STAFFING_ASSUMPTIONS for name in names])
        table = pd.DataFrame(
            {
                "structure": basis.structure,
                "assumption": names,
                "description": [model.scenario.assumption(n).description for n in names],
                "unit": [model.scenario.assumption(n).unit for n in names],
                "value": [model.value(n) for n in names],
                "low": [model.scenario.assumption(n).low for n in names],
                "high": [model.scenario.assumption(n).high for n in names],
                "variance_at_low_gbp": variance[:, 0],
                "variance_at_high_gbp": variance[:, 1],
                "change_at_low_gbp": variance[:, 0] - base_variance,
                "change_at_high_gbp": variance[:, 1] - base_variance,
                "swing_gbp": np.abs(variance[:, 1] - variance[:, 0]),
                "case_holding_fte_change_at_low": np.where(staffing, fte[:, 0] - base_fte, np.nan),
                "case_holding_fte_change_at_high": np.where(staffing, fte[:, 1] - base_fte, np.nan),
            }
        )
        table = table[table["swing_gbp"] > 0].sort_values(
            "swing_gbp", ascending=False, kind="stable"
        )
        table["rank"] = np.arange(1, len(table) + 1)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


# ---- Monte Carlo -----------------------------------------------------------------------------


def expected_value(assumption: Assumption) -> float:
    """The mean of an assumption's Monte Carlo distribution (for checks of the simulation)."""
    low, mode, high = assumption.low, assumption.value, assumption.high
    if assumption.distribution == "triangular":
        return (low + mode + high) / 3.0
    if assumption.distribution == "uniform":
        return (low + high) / 2.0
    if assumption.distribution == "normal":
        sd = (high - low) / NORMAL_RANGE_IN_SD
        if sd == 0:
            return mode
        alpha, beta = (low - mode) / sd, (high - mode) / sd
        below, above = special.ndtr(alpha), special.ndtr(beta)
        density = math.exp(-(alpha**2) / 2) - math.exp(-(beta**2) / 2)
        return float(
            low * below
            + high * (1 - above)
            + mode * (above - below)
            + sd * density / math.sqrt(2 * math.pi)
        )
    return mode


def _from_uniform(assumption: Assumption, u: np.ndarray) -> np.ndarray:
    """Turn uniform draws into the assumption's distribution (inverse of its CDF)."""
    low, mode, high = assumption.low, assumption.value, assumption.high
    if assumption.distribution == "fixed" or high == low:
        return np.full(u.shape, mode)
    if assumption.distribution == "uniform":
        return low + u * (high - low)
    if assumption.distribution == "normal":
        sd = (high - low) / NORMAL_RANGE_IN_SD
        return np.clip(mode + sd * special.ndtri(u), low, high)
    width = high - low
    at_mode = (mode - low) / width
    rising = low + np.sqrt(u * width * (mode - low))
    falling = high - np.sqrt((1.0 - u) * width * (high - mode))
    return np.where(u < at_mode, rising, falling)


def draw_assumption(assumption: Assumption, uniforms: np.ndarray) -> np.ndarray:
    """Draws of ``assumption`` from the distribution its scenario declares, one per uniform
    draw in [0, 1): the same distributions for every model's Monte Carlo
    (:mod:`analysis.contract` draws its prices with it)."""
    return _from_uniform(assumption, np.asarray(uniforms, dtype=float))


def monte_carlo_assumptions(model: SensitivityModel) -> list[str]:
    """The assumptions the Monte Carlo draws (the cost side, less those declared fixed)."""
    return [
        name
        for name in COST_SIDE_ASSUMPTIONS
        if model.scenario.assumption(name).distribution != "fixed"
    ]


def _draw(
    model: SensitivityModel, names: list[str], rng: np.random.Generator, size: int, rho: float
) -> dict[str, np.ndarray]:
    uniforms = {name: rng.random(size) for name in names}
    if rho and SHARE in uniforms and PREMIUM in uniforms:
        # Gaussian copula: correlated normals, each turned back into a uniform.
        z_share = rng.standard_normal(size)
        z_premium = rho * z_share + math.sqrt(1.0 - rho * rho) * rng.standard_normal(size)
        uniforms[SHARE] = special.ndtr(z_share)
        uniforms[PREMIUM] = special.ndtr(z_premium)
    return {name: _from_uniform(model.scenario.assumption(name), u) for name, u in uniforms.items()}


@dataclass(frozen=True)
class MonteCarloResult:
    """What a Monte Carlo run found: a summary per structure and histograms of the variance."""

    summary: pd.DataFrame
    histogram: pd.DataFrame
    draws: int
    seed: int
    correlation: float
    assumptions_drawn: tuple[str, ...]


def monte_carlo(
    model: SensitivityModel,
    draws: int | None = None,
    *,
    seed: int | None = None,
    correlation: float | None = None,
    chunk_draws: int = CHUNK_DRAWS,
    bins: int = 40,
) -> MonteCarloResult:
    """Simulate the budget variance of every structure.

    Parameters
    ----------
    model
        From :func:`build_model`.
    draws, seed, correlation
        Default to ``settings.sensitivity.monte_carlo_draws``, ``seed`` and
        ``correlation_agency_share_premium``.
    chunk_draws
        Draws priced at once; memory grows with this, not with ``draws`` (beyond 8 bytes per
        draw per structure kept for the percentiles). The same seed, draws and chunk size give
        the same result.
    bins
        Histogram bins per structure.

    Returns
    -------
    MonteCarloResult
        ``summary``: structure, draws, probability_of_overspend, probability_standard_error
        (sqrt(p (1 - p) / draws)), mean_variance_gbp, mean_standard_error_gbp,
        p10_variance_gbp, p50_variance_gbp, p90_variance_gbp. ``histogram``: structure,
        bin_low_gbp, bin_high_gbp, draws_count.

    Raises
    ------
    InputError
        When ``draws`` is not a whole number of at least 1 or ``correlation`` lies outside
        [-1, 1] (naming the scenario file and the setting).
    """
    settings = model.scenario.settings.sensitivity
    draws = settings.monte_carlo_draws if draws is None else draws
    seed = settings.seed if seed is None else seed
    rho = settings.correlation_agency_share_premium if correlation is None else correlation
    problems = []
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        problems.append(
            _scenario_problem(
                model.scenario,
                "settings.sensitivity.monte_carlo_draws",
                draws,
                "a whole number of draws, 1 or more",
            )
        )
    if not (isinstance(rho, int | float) and -1.0 <= rho <= 1.0):
        problems.append(
            _scenario_problem(
                model.scenario,
                "settings.sensitivity.correlation_agency_share_premium",
                rho,
                "a correlation between -1 and 1",
            )
        )
    if problems:
        raise InputError(problems)
    draws = int(draws)
    names = monte_carlo_assumptions(model)
    kept = {basis.structure: np.empty(draws) for basis in model.structures}
    chunks = range(0, draws, chunk_draws)
    streams = np.random.SeedSequence(seed).spawn(len(chunks))
    for start, stream in zip(chunks, streams, strict=True):
        size = min(chunk_draws, draws - start)
        sample = _draw(model, names, np.random.default_rng(stream), size, float(rho))
        for structure, measures in evaluate(model, sample, detail=False).items():
            kept[structure][start : start + size] = measures["variance_gbp"]
    summaries, histograms = [], []
    for structure, variance in kept.items():
        p = float(np.count_nonzero(variance > 0)) / draws
        mean = float(variance.mean())
        spread = float(variance.std(ddof=1)) if draws > 1 else 0.0
        counts, edges = np.histogram(variance, bins=bins)
        histograms.append(
            pd.DataFrame(
                {
                    "structure": structure,
                    "bin_low_gbp": edges[:-1],
                    "bin_high_gbp": edges[1:],
                    "draws_count": counts,
                }
            )
        )
        p10, p50, p90 = np.quantile(variance, [0.1, 0.5, 0.9], overwrite_input=True)
        summaries.append(
            {
                "structure": structure,
                "draws": draws,
                "probability_of_overspend": p,
                "probability_standard_error": math.sqrt(p * (1 - p) / draws),
                "mean_variance_gbp": mean,
                "mean_standard_error_gbp": spread / math.sqrt(draws),
                "p10_variance_gbp": float(p10),
                "p50_variance_gbp": float(p50),
                "p90_variance_gbp": float(p90),
            }
        )
        kept[structure] = np.empty(0)  # release each structure's draws as soon as summarised
    return MonteCarloResult(
        summary=pd.DataFrame(summaries),
        histogram=pd.concat(histograms, ignore_index=True),
        draws=draws,
        seed=int(seed),
        correlation=float(rho),
        assumptions_drawn=tuple(names),
    )


def expected_variance(model: SensitivityModel) -> dict[str, float]:
    """The variance each structure is expected to have under the Monte Carlo's distributions.

    Exact when agency share and premium are uncorrelated: the variance is a sum of products
    of independently drawn assumptions, each to the first power, so its expectation is its
    value at the assumptions' means.
    """
    means = {
        name: expected_value(model.scenario.assumption(name))
        for name in monte_carlo_assumptions(model)
    }
    return {s: float(m["variance_gbp"][0]) for s, m in evaluate(model, means).items()}


# ---- the demand the staffing is sized for ----------------------------------------------------


def _first_published(tidy: pd.DataFrame, measures: Iterable[str]) -> pd.Series:
    """When each period's figure of each of ``measures`` was first published, for any
    geography: ``published`` by ``measure`` and ``period_end``. One pass over the published
    table for every measure: a comparison of every row's measure per measure was most of the
    time of finding a council's cases."""
    rows = tidy["measure"].isin(list(measures)).to_numpy(dtype=bool)
    chosen = tidy.loc[rows, ["measure", "period_end", "published"]]
    return chosen.groupby(["measure", "period_end"])["published"].min()


def _series_problems(tidy: pd.DataFrame, la_code: str, measures: Iterable[str]) -> list[Problem]:
    """What :func:`analysis.external.series` finds wrong with each of ``measures`` for
    ``la_code`` (a measure not published for it, with the close matches)."""
    from analysis import external

    problems = []
    for measure in measures:
        try:
            external.series(tidy, la_code, measure)
        except InputError as exc:
            problems += exc.problems
    return problems


def published_cases(
    tidy: pd.DataFrame, scenario: Scenario, reporting_month: str
) -> tuple[pd.DataFrame, list[str]]:
    """Open cases by team for the scenario's council (``settings.la_code``), the demand whose
    mix weights each team's caseload target (see :func:`analysis.workforce.cases_by_team`).

    Each measure is its latest figure published by ``reporting_month``. A measure DfE had not
    yet published then (care leavers are published from the year to March 2021) takes its
    first published figure instead, and a note says so: the mix of cases, not their number,
    is what the sensitivities use.

    Returns
    -------
    tuple
        The cases (``team``, ``cases``) and the notes, one sentence per measure taken from a
        later publication.

    Raises
    ------
    InputError
        When the month is not YYYY-MM, or a demand measure has no figure for the council.
    """
    from analysis import external

    la_code = scenario.settings.la_code
    month = pd.Timestamp(external.published_as_of(tidy, reporting_month)["published"].max())
    # the council's rows are found once for all the measures, not once a measure
    found = external.series_of_measures(tidy, la_code, workforce.CASE_MEASURES)
    missing = [measure for measure in workforce.CASE_MEASURES if measure not in found]
    if missing:
        raise InputError(_series_problems(tidy, la_code, missing))
    published_by_period = _first_published(tidy, workforce.CASE_MEASURES)
    measures: dict[str, float] = {}
    notes: list[str] = []
    for measure in workforce.CASE_MEASURES:
        values = found[measure].dropna()
        published = published_by_period[measure].reindex(values.index)
        known = values[published <= month]
        if known.empty:
            notes.append(
                f"{measure}: no figure for {la_code} had been published by {reporting_month}; "
                f"the first published, for the year to {values.index[0]:%B %Y}, is used."
            )
            known = values.iloc[:1]
        measures[measure] = float(known.iloc[-1])
    return workforce.cases_by_team(measures, workforce.workforce_parameters(scenario)), notes


def assumptions_used(model: SensitivityModel, names: Iterable[str]) -> pd.DataFrame:
    """The scenario's assumptions table restricted to ``names``, in that order (for the
    notebook's list of the assumptions behind its figures)."""
    table = model.scenario.assumptions_table().set_index("name")
    return table.loc[list(names)].reset_index()
