"""Target Operating Model costs: FTE, base cost, true cost built up from components, funding.

For each structure (Before, Improvement, Efficient) and budget area this module works out

* **base cost**: the posts at budgeted pay, as published (or from a post-level establishment);
* **true cost** = base cost + four components, each its own column:

  - ``agency_premium_gbp`` = agency_share x agency-eligible FTE x agency_premium_gbp_per_fte;
  - ``recruitment_payments_gbp`` = new starters x recruitment_payment_gbp, where new starters
    = new_starter_rate x agency-eligible FTE;
  - ``retention_payments_gbp`` = retention_payment_rate x the salary bill of eligible posts;
  - ``legacy_retention_award_gbp`` = legacy_retention_award_staff x legacy_retention_award_gbp,
    a one-off falling in one financial year only (``legacy_retention_award_year``): it is zero
    in a structure's recurring annual cost, as in the published true cost, and appears when a
    year's costs are asked for;

* **funding**: other council and external funding are cash sums fixed at their published values
  (grants and contributions do not grow with the cost), so the children's Care and Support
  budget carries the rest: care_and_support = true cost - other council - external. This is
  exactly how the published Appendix C adds up (for example Improvement, Assessment &
  Safeguarding: 7,553,300 - 110,400 - 104,000 = 7,338,900).

Derived assumptions (the published documents give the rates but not the quantities they apply
to; each is recorded in ``scenarios/base.yaml`` with a ``source`` saying how it was derived,
and ``tests/unit/test_costs.py`` re-derives it from the published figures):

* ``new_starter_rate`` = 0.158: the DfE children's social work workforce turnover rate (FTE)
  of the seed council at 30 September 2019, 15.8%; in a steady establishment new starters
  replace leavers.
* ``retention_salary_gbp_per_fte`` = 48,788: base cost per FTE of the Improvement structure's
  budget areas whose true cost exceeds their base cost (the areas with eligible posts):
  (3,137,400 + 6,719,800 + 3,273,700 + 2,481,200) / (68 + 132 + 64 + 56).
* ``agency_eligible_fte_<structure>``: at the published rates one eligible FTE adds
  0.15 x 30,000 + 0.158 x 5,000 + 0.06 x 48,788 = £8,217 a year to the true cost, so the
  published uplift (true cost - base cost) gives the eligible FTE: 1,181,500 / 8,217 = 143.78
  for Improvement and Efficient, 935,000 / 8,217 = 113.78 for Before. Within a structure the
  eligible FTE are spread over budget areas in proportion to each area's published uplift
  (Improvement: Assessment & Safeguarding 833,500, Corporate Parenting 279,000, Adolescent &
  Youth Offending 42,000, Targeted Intervention 27,000; none in the Senior Leadership Team
  or Service Development). With these values the model reproduces the published true cost of
  every structure and budget area to within the rounding of the stored FTE.
* ``legacy_retention_award_staff`` = 60: about £0.9m in 2020/21 at £15k each.

A council with its own post-level establishment (``docs/templates/establishment.csv``) gets its
costs from its posts instead: FTE and base cost are summed from the posts, eligible FTE are
the posts flagged ``agency_eligible`` and the retention salary bill is their FTE x salary.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd
from numpy.typing import ArrayLike

from analysis.errors import InputError, Problem
from analysis.loaders import FUNDING_COLUMNS, STRUCTURES, TOTAL_AREA
from analysis.tables import Column, TableSpec, read_table

#: The components added to base cost to make the true cost, in the order they are shown.
COMPONENT_COLUMNS = (
    "agency_premium_gbp",
    "recruitment_payments_gbp",
    "retention_payments_gbp",
    "legacy_retention_award_gbp",
)

#: Measures compared between two structures.
COMPARED_MEASURES = ("fte", "base_cost_gbp", "true_cost_gbp", *FUNDING_COLUMNS)

#: Scenario assumptions the cost model reads (``scenario.require`` checks them all at once).
COST_ASSUMPTION_NAMES = (
    "agency_share",
    "agency_premium_gbp_per_fte",
    "recruitment_payment_gbp",
    "retention_payment_rate",
    "legacy_retention_award_gbp",
    "legacy_retention_award_staff",
    "new_starter_rate",
    "retention_salary_gbp_per_fte",
    "pay_award_rate",
    *(f"agency_eligible_fte_{structure}" for structure in STRUCTURES),
)

MODEL_NAME = "TOM costs"


class ScenarioLike(Protocol):
    """What the cost model needs from :class:`analysis.scenario.Scenario`."""

    def value(self, name: str) -> float: ...

    def require(self, names: Iterable[str], model: str) -> None: ...

    @property
    def settings(self) -> object: ...


@dataclass(frozen=True)
class CostAssumptions:
    """The named assumptions of the cost model, as plain numbers (see the module docstring)."""

    agency_share: float
    agency_premium_gbp_per_fte: float
    recruitment_payment_gbp: float
    retention_payment_rate: float
    legacy_retention_award_gbp: float
    legacy_retention_award_staff: float
    legacy_retention_award_year: str
    new_starter_rate: float
    retention_salary_gbp_per_fte: float
    pay_award_rate: float
    agency_eligible_fte: Mapping[str, float]

    @property
    def uplift_gbp_per_eligible_fte(self) -> float:
        """Recurring true cost over base cost of one eligible FTE at salary per FTE."""
        return (
            self.agency_share * self.agency_premium_gbp_per_fte
            + self.new_starter_rate * self.recruitment_payment_gbp
            + self.retention_payment_rate * self.retention_salary_gbp_per_fte
        )


def cost_assumptions(scenario: ScenarioLike) -> CostAssumptions:
    """Read the cost model's assumptions from a scenario.

    Raises
    ------
    InputError
        Naming the scenario file and every assumption the cost model needs that it lacks.
    """
    scenario.require(COST_ASSUMPTION_NAMES, model=MODEL_NAME)
    values = {name: float(scenario.value(name)) for name in COST_ASSUMPTION_NAMES}
    return CostAssumptions(
        agency_share=values["agency_share"],
        agency_premium_gbp_per_fte=values["agency_premium_gbp_per_fte"],
        recruitment_payment_gbp=values["recruitment_payment_gbp"],
        retention_payment_rate=values["retention_payment_rate"],
        legacy_retention_award_gbp=values["legacy_retention_award_gbp"],
        legacy_retention_award_staff=values["legacy_retention_award_staff"],
        legacy_retention_award_year=str(scenario.settings.legacy_retention_award_year),
        new_starter_rate=values["new_starter_rate"],
        retention_salary_gbp_per_fte=values["retention_salary_gbp_per_fte"],
        pay_award_rate=values["pay_award_rate"],
        agency_eligible_fte={s: values[f"agency_eligible_fte_{s}"] for s in STRUCTURES},
    )


# ---- derivations of the assumptions the documents do not give -------------------------------


def published_uplift(structures: pd.DataFrame) -> pd.DataFrame:
    """Return the published true cost minus base cost by structure and budget area.

    Total rows are left out: each structure's uplift is the sum of its areas.
    """
    areas = structures[structures["budget_area"] != TOTAL_AREA]
    return areas.assign(uplift_gbp=areas["true_cost_gbp"] - areas["cost_gbp"])[
        ["structure", "budget_area", "fte", "cost_gbp", "uplift_gbp"]
    ].reset_index(drop=True)


def derive_retention_salary_gbp_per_fte(structures: pd.DataFrame, structure: str) -> float:
    """Return base cost per FTE over the budget areas of ``structure`` with a published uplift.

    Raises
    ------
    ValueError
        When the structure has no budget area whose true cost exceeds its base cost.
    """
    uplift = published_uplift(structures)
    eligible = uplift[(uplift["structure"] == structure) & (uplift["uplift_gbp"] > 0)]
    if eligible.empty:
        raise ValueError(f"structure {structure!r} has no budget area with a published uplift")
    return float(eligible["cost_gbp"].sum() / eligible["fte"].sum())


def derive_agency_eligible_fte(structures: pd.DataFrame, assumptions: CostAssumptions) -> pd.Series:
    """Return, by structure, the eligible FTE that reproduce the published uplift.

    The uplift per eligible FTE is taken at ``assumptions`` (use the published rates).
    """
    uplift = published_uplift(structures).groupby("structure", sort=False)["uplift_gbp"].sum()
    return uplift / assumptions.uplift_gbp_per_eligible_fte


# ---- the cost basis: what the components are applied to -------------------------------------


def cost_basis_from_published(
    structures: pd.DataFrame, assumptions: CostAssumptions
) -> pd.DataFrame:
    """Return the cost basis of each structure and budget area from the published Appendix C.

    Columns: structure, budget_area, fte, base_cost_gbp, agency_eligible_fte,
    retention_salary_bill_gbp, other_council_funding_gbp, external_funding_gbp,
    external_funding_implied (True where the published cell was blank and the amount is the
    published true cost less the other two funding sources).

    Raises
    ------
    InputError
        When a structure has eligible FTE to spread but no budget area with a published
        uplift to spread them over.
    """
    areas = structures[structures["budget_area"] != TOTAL_AREA].reset_index(drop=True)
    uplift = areas["true_cost_gbp"] - areas["cost_gbp"]
    uplift_share = uplift / uplift.groupby(areas["structure"]).transform("sum")
    problems = []
    eligible_fte = []
    for structure, share in zip(areas["structure"], uplift_share, strict=True):
        total = assumptions.agency_eligible_fte.get(structure, 0.0)
        if total and not math.isfinite(share):
            problems.append(
                Problem(
                    file="scenario",
                    column=f"agency_eligible_fte_{structure}",
                    value=total,
                    expected="zero, because the published table shows no budget area of this "
                    "structure whose true cost exceeds its base cost",
                )
            )
        eligible_fte.append(total * share if math.isfinite(share) else 0.0)
    if problems:
        raise InputError(problems)
    implied = areas["external_funding_gbp"].isna()
    external = areas["external_funding_gbp"].where(
        ~implied,
        areas["true_cost_gbp"]
        - areas["care_and_support_funding_gbp"]
        - areas["other_council_funding_gbp"],
    )
    eligible = pd.Series(eligible_fte, index=areas.index)
    return pd.DataFrame(
        {
            "structure": areas["structure"],
            "budget_area": areas["budget_area"],
            "fte": areas["fte"],
            "base_cost_gbp": areas["cost_gbp"],
            "agency_eligible_fte": eligible,
            "retention_salary_bill_gbp": eligible * assumptions.retention_salary_gbp_per_fte,
            "other_council_funding_gbp": areas["other_council_funding_gbp"].fillna(0.0),
            "external_funding_gbp": external,
            "external_funding_implied": implied,
        }
    )


ESTABLISHMENT = TableSpec(
    name="post-level establishment",
    columns=(
        Column("structure", "text", "the structure the post belongs to, e.g. improvement"),
        Column("budget_area", "text", "the service (budget area) the post is funded from"),
        Column("team", "text", "the team"),
        Column("role", "text", "the job, e.g. Senior Social Worker"),
        Column("grade", "text", "the pay grade"),
        Column("fte", "fte", "full-time equivalent of the post"),
        Column("salary_gbp", "money", "annual cost of one FTE including on-costs, £"),
        Column("case_holding", "category", "yes if the post holds cases", allowed=("yes", "no")),
        Column(
            "agency_eligible",
            "category",
            "yes for social worker and senior social worker posts that agency staff may fill",
            allowed=("yes", "no"),
        ),
    ),
    key=("structure", "budget_area", "team", "role", "grade"),
)


def load_establishment(path: Path) -> pd.DataFrame:
    """Read a post-level establishment file (template: ``docs/templates/establishment.csv``).

    Raises
    ------
    InputError
        With every problem in the file (file, row, column, value, expectation).
    """
    return read_table(Path(path), ESTABLISHMENT)


def cost_basis_from_establishment(
    posts: pd.DataFrame, funding: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return the cost basis of each structure and budget area from a post-level establishment.

    Parameters
    ----------
    posts
        As returned by :func:`load_establishment`.
    funding
        Optional other council and external funding by structure and budget area (columns
        structure, budget_area, other_council_funding_gbp, external_funding_gbp); areas not
        listed are funded wholly from the Care and Support budget.

    Raises
    ------
    InputError
        When ``funding`` has a blank or negative amount.
    """
    posts = posts.assign(
        base_cost_gbp=posts["fte"] * posts["salary_gbp"],
        eligible_flag=posts["agency_eligible"] == "yes",
    )
    posts = posts.assign(
        agency_eligible_fte=posts["fte"].where(posts["eligible_flag"], 0.0),
        retention_salary_bill_gbp=posts["base_cost_gbp"].where(posts["eligible_flag"], 0.0),
        case_holding_fte=posts["fte"].where(posts["case_holding"] == "yes", 0.0),
    )
    basis = posts.groupby(["structure", "budget_area"], sort=False, as_index=False)[
        [
            "fte",
            "case_holding_fte",
            "base_cost_gbp",
            "agency_eligible_fte",
            "retention_salary_bill_gbp",
        ]
    ].sum()
    other_sources = ["other_council_funding_gbp", "external_funding_gbp"]
    if funding is None:
        funding = pd.DataFrame(columns=["structure", "budget_area", *other_sources])
    problems = [
        Problem(
            file="funding table",
            row=int(row) + 2,
            column=column,
            value=value,
            expected="an amount in pounds of zero or more",
        )
        for column in other_sources
        for row, value in funding[column].items()
        if pd.isna(value) or float(value) < 0
    ]
    if problems:
        raise InputError(problems)
    basis = basis.merge(
        funding[["structure", "budget_area", *other_sources]],
        on=["structure", "budget_area"],
        how="left",
    )
    basis[other_sources] = basis[other_sources].astype(float).fillna(0.0)
    return basis.assign(external_funding_implied=False)


# ---- the cost model --------------------------------------------------------------------------


def true_cost_parts(
    *,
    base_cost_gbp: ArrayLike,
    agency_eligible_fte: ArrayLike,
    retention_salary_bill_gbp: ArrayLike,
    eligible_share_of_structure: ArrayLike,
    assumptions: CostAssumptions,
    award_falls_in_year: bool,
) -> dict[str, ArrayLike]:
    """Return the true-cost components and the true cost: the cost model's arithmetic.

    Every argument may be a number, a Series or a NumPy array, and the fields of
    ``assumptions`` may be arrays too: they broadcast, so :mod:`analysis.sensitivity` prices
    many scenarios at once (draws down one axis, budget areas along the other) with exactly
    the arithmetic :func:`true_cost` uses for one.

    Returns
    -------
    dict
        ``agency_fte``, ``new_starters_fte``, each of :data:`COMPONENT_COLUMNS` and
        ``true_cost_gbp`` (base cost plus the components, added in that order).
    """
    a = assumptions
    agency_fte = a.agency_share * agency_eligible_fte
    new_starters_fte = a.new_starter_rate * agency_eligible_fte
    legacy_total = a.legacy_retention_award_staff * a.legacy_retention_award_gbp
    components = {
        "agency_premium_gbp": agency_fte * a.agency_premium_gbp_per_fte,
        "recruitment_payments_gbp": new_starters_fte * a.recruitment_payment_gbp,
        "retention_payments_gbp": a.retention_payment_rate * retention_salary_bill_gbp,
        "legacy_retention_award_gbp": (
            eligible_share_of_structure * legacy_total
            if award_falls_in_year
            else 0.0 * eligible_share_of_structure
        ),
    }
    total = base_cost_gbp
    for name in COMPONENT_COLUMNS:
        total = total + components[name]
    return {
        "agency_fte": agency_fte,
        "new_starters_fte": new_starters_fte,
        **components,
        "true_cost_gbp": total,
    }


def true_cost(
    basis: pd.DataFrame, assumptions: CostAssumptions, financial_year: str | None = None
) -> pd.DataFrame:
    """Return the cost basis with each true-cost component, the true cost and funding.

    Parameters
    ----------
    basis
        From :func:`cost_basis_from_published` or :func:`cost_basis_from_establishment`.
    assumptions
        The cost assumptions (see :func:`cost_assumptions`).
    financial_year
        ``None`` for the recurring annual cost (the published definition of true cost); a year
        like ``2020/21`` adds the one-off legacy retention award when it falls in that year.

    Raises
    ------
    ValueError
        When ``basis`` lacks a column the model needs (a programming error, not user input).
    """
    needed = {
        "structure",
        "budget_area",
        "fte",
        "base_cost_gbp",
        "agency_eligible_fte",
        "retention_salary_bill_gbp",
        "other_council_funding_gbp",
        "external_funding_gbp",
    }
    missing = needed - set(basis.columns)
    if missing:
        raise ValueError(f"cost basis lacks columns {sorted(missing)}")
    eligible = basis["agency_eligible_fte"]
    eligible_share = eligible / eligible.groupby(basis["structure"]).transform("sum")
    parts = true_cost_parts(
        base_cost_gbp=basis["base_cost_gbp"],
        agency_eligible_fte=eligible,
        retention_salary_bill_gbp=basis["retention_salary_bill_gbp"],
        eligible_share_of_structure=eligible_share.fillna(0.0),
        assumptions=assumptions,
        award_falls_in_year=financial_year == assumptions.legacy_retention_award_year,
    )
    costs = basis.assign(**parts)
    costs["care_and_support_funding_gbp"] = (
        costs["true_cost_gbp"] - costs["other_council_funding_gbp"] - costs["external_funding_gbp"]
    )
    return costs


def with_totals(costs: pd.DataFrame) -> pd.DataFrame:
    """Append a ``Total`` row per structure holding the sum of its budget areas."""
    numeric = costs.select_dtypes("number").columns
    totals = costs.groupby("structure", sort=False)[list(numeric)].sum().reset_index()
    totals.insert(1, "budget_area", TOTAL_AREA)
    if "external_funding_implied" in costs.columns:
        totals["external_funding_implied"] = (
            costs.groupby("structure", sort=False)["external_funding_implied"].any().to_numpy()
        )
    frames = []
    for structure in costs["structure"].drop_duplicates():
        frames.append(costs[costs["structure"] == structure])
        frames.append(totals[totals["structure"] == structure])
    return pd.concat(frames, ignore_index=True)[list(costs.columns)]


def structure_costs(
    structures: pd.DataFrame, assumptions: CostAssumptions, financial_year: str | None = None
) -> pd.DataFrame:
    """Return FTE, base cost, each true-cost component, true cost and funding by structure
    and budget area (with a Total row per structure), from the published Appendix C.

    Raises
    ------
    InputError
        See :func:`cost_basis_from_published`.
    """
    basis = cost_basis_from_published(structures, assumptions)
    return with_totals(true_cost(basis, assumptions, financial_year))


def totals_of(costs: pd.DataFrame) -> pd.DataFrame:
    """Return the Total row of each structure, indexed by structure."""
    return costs[costs["budget_area"] == TOTAL_AREA].set_index("structure")


# ---- comparisons -----------------------------------------------------------------------------


def compare_structures(costs: pd.DataFrame, baseline: str, alternative: str) -> pd.DataFrame:
    """Compare two structures by budget area and in total.

    For every measure in :data:`COMPARED_MEASURES` the result holds
    ``<baseline>_<measure>``, ``<alternative>_<measure>`` and ``change_<measure>``
    (alternative minus baseline). A budget area present in only one structure (Before is
    published as one line) shows the other as missing and no change; the Total row always
    compares.

    Raises
    ------
    ValueError
        When either structure is not in ``costs``.
    """
    present = set(costs["structure"])
    for structure in (baseline, alternative):
        if structure not in present:
            raise ValueError(f"structure {structure!r} is not among {sorted(present)}")
    measures = list(COMPARED_MEASURES)
    left = costs[costs["structure"] == baseline].set_index("budget_area")[measures]
    right = costs[costs["structure"] == alternative].set_index("budget_area")[measures]
    order = [a for a in right.index if a != TOTAL_AREA]
    order += [a for a in left.index if a not in order and a != TOTAL_AREA]
    order.append(TOTAL_AREA)
    left, right = left.reindex(order), right.reindex(order)
    result = pd.DataFrame({"budget_area": order})
    for measure in measures:
        result[f"{baseline}_{measure}"] = left[measure].to_numpy()
        result[f"{alternative}_{measure}"] = right[measure].to_numpy()
        result[f"change_{measure}"] = (right[measure] - left[measure]).to_numpy()
    return result


def care_and_support_pressure_gbp(costs: pd.DataFrame) -> float:
    """Extra cost to the Care and Support budget of the Improvement structure over Before."""
    totals = totals_of(costs)["care_and_support_funding_gbp"]
    return float(totals["improvement"] - totals["before"])


def efficient_saving_gbp(costs: pd.DataFrame) -> float:
    """Saving to the Care and Support budget of moving from Improvement to Efficient."""
    totals = totals_of(costs)["care_and_support_funding_gbp"]
    return float(totals["improvement"] - totals["efficient"])


def pay_award_cost_gbp(costs: pd.DataFrame, assumptions: CostAssumptions, structure: str) -> float:
    """Annual cost of a pay award on a structure's whole true cost (as the document prices it)."""
    return float(pay_award_cost(totals_of(costs).loc[structure, "true_cost_gbp"], assumptions))


def pay_award_cost(true_cost_gbp: ArrayLike, assumptions: CostAssumptions) -> ArrayLike:
    """Cost of one year's pay award on a true cost; numbers or arrays (see
    :func:`true_cost_parts`)."""
    return assumptions.pay_award_rate * true_cost_gbp


def printed_precision(value: float) -> float:
    """Return the unit of the last digit a published round figure was printed to.

    £1.9m was printed to the nearest £0.1m (100,000); £1.15m to £0.01m (10,000); £360,000
    (printed £0.36m) to 10,000. A value with no trailing zeros is taken as exact (1).
    """
    amount = abs(round(value))
    unit = 1
    while amount and amount % (unit * 10) == 0:
        unit *= 10
    return float(unit)


def _published(published_assumptions: pd.DataFrame, name: str) -> pd.Series:
    rows = published_assumptions[published_assumptions["name"] == name]
    if rows.empty:
        raise InputError(
            [
                Problem(
                    file="data/raw/seed/published_assumptions.csv",
                    column="name",
                    value=name,
                    expected="a row with this name",
                    has_value=False,
                )
            ]
        )
    return rows.iloc[0]


def published_checks(
    costs: pd.DataFrame,
    assumptions: CostAssumptions,
    structures: pd.DataFrame,
    published_assumptions: pd.DataFrame,
) -> pd.DataFrame:
    """Compare the model's key figures with the published ones, by value.

    Each row: figure, description, how the model works it out, published_gbp,
    printed_precision_gbp, modelled_gbp, difference_gbp and ``agrees`` (the difference is
    within half the printed precision).

    Raises
    ------
    InputError
        When a published figure the comparison needs is missing from the published tables.
    """
    totals = totals_of(costs)
    published_totals = structures[structures["budget_area"] == TOTAL_AREA].set_index("structure")
    rows = []
    for structure in STRUCTURES:
        if structure not in published_totals.index:
            continue
        rows.append(
            (
                f"uplift_{structure}",
                f"True cost less base cost, {structure} structure",
                "sum of the four true-cost components",
                published_totals.loc[structure, "true_cost_gbp"]
                - published_totals.loc[structure, "cost_gbp"],
                float(
                    totals.loc[structure, "true_cost_gbp"] - totals.loc[structure, "base_cost_gbp"]
                ),
            )
        )
    for name, description, method, modelled in (
        (
            "improvement_pressure_on_care_and_support",
            "Pressure of the Improvement structure on the Care and Support budget",
            "Care and Support funding, Improvement less Before",
            care_and_support_pressure_gbp(costs),
        ),
        (
            "efficient_structure_saving",
            "Saving from the Efficient structure on the Care and Support budget",
            "Care and Support funding, Improvement less Efficient",
            efficient_saving_gbp(costs),
        ),
        (
            "pay_award_cost_example",
            "Cost of the pay award on the Improvement structure",
            "pay_award_rate x Improvement true cost",
            pay_award_cost_gbp(costs, assumptions, "improvement"),
        ),
    ):
        published = float(_published(published_assumptions, name)["value"])
        rows.append((name, description, method, published, modelled))
    frame = pd.DataFrame(
        rows,
        columns=["figure", "description", "method", "published_gbp", "modelled_gbp"],
    )
    frame["printed_precision_gbp"] = frame["published_gbp"].map(printed_precision)
    frame["difference_gbp"] = frame["modelled_gbp"] - frame["published_gbp"]
    frame["agrees"] = frame["difference_gbp"].abs() <= frame["printed_precision_gbp"] / 2
    return frame
