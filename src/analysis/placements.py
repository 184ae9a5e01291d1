"""Cost of demand: what the children looked after in the forecast cost in placements.

This module owns the placement mix (the share of children looked after in fostering,
residential and other placements), the weighted cost per child looked after a year, and the
annual placement cost of a forecast of children looked after, central and with its 80% and
95% intervals, set beside the council's published budget (MHCLG RA) and spend (RSX).

Which placement mix is used, and why:

* ``england``: the DfE's England breakdown of children looked after at 31 March by placement
  (``national_cla_on_31_march_by_characteristics.csv``, 2020-2024): current, but national.
* ``la``: the council's own mix from the 2010-2017 SFR underlying data, the only LA-level
  placement figures in the bundled files: the council's own, but at least eight years old.
  Cells the DfE suppressed (``x``: 1 to 5 children, or hidden so that another cannot be
  worked out) are filled by sharing the children left over (total minus the published cells)
  equally between the suppressed cells.

The notebook costs the forecast at the England mix (the default, :data:`DEFAULT_MIX_SOURCE`)
and shows the council's own latest mix beside it, so the reader sees how much the choice
matters. Weekly unit costs are scenario assumptions (``unit_cost_*_gbp_per_week``).

The placement groups follow the DfE's placement categories:

* fostering: all foster placements;
* residential: secure units, children's homes and hostels, other residential settings and
  residential schools;
* other: placed for adoption, placed with parents, independent living and supported
  accommodation, other community placements, other placements and children missing from
  placement.

Children looked after during a year are estimated as the mean of the stocks at the 31 March
either side (the year's opening and closing figures), which is what a year's placement spend
pays for; the DfE does not publish days in care by LA.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from analysis.errors import InputError, Problem
from analysis.external import rows_of
from analysis.periods import financial_year_label

if TYPE_CHECKING:
    from analysis.scenario import Scenario

PLACEMENT_GROUPS: tuple[str, ...] = ("fostering", "residential", "other")

GROUP_LABELS: dict[str, str] = {
    "fostering": "Fostering",
    "residential": "Residential",
    "other": "Other placements",
}

#: Calendar weeks in a year (365.25 / 7).
WEEKS_PER_YEAR = 365.25 / 7

MixSource = Literal["england", "la"]
DEFAULT_MIX_SOURCE: MixSource = "england"

#: England placement totals (national characteristics file) and their group.
ENGLAND_PLACEMENT_MEASURES: dict[str, str] = {
    "cla_placement_1_total_foster_placements": "fostering",
    "cla_placement_2_total_placed_for_adoption": "other",
    "cla_placement_3_total_placed_with_parents_or_other_person_with_parental_responsibility": (
        "other"
    ),
    "cla_placement_4_total_secure_homes_and_children_s_homes": "residential",
    "cla_placement_5_total_independent_and_semi_independent_living_arrangements_supported_"
    "accommodation": "other",
    "cla_placement_6_total_other_residential_settings": "residential",
    "cla_placement_7_total_residential_schools": "residential",
    "cla_placement_8_total_other_placements": "other",
}

#: LA placement counts of the 2010-2017 SFR files and their group.
SFR_PLACEMENT_MEASURES: dict[str, str] = {
    "cla_placement_foster": "fostering",
    "cla_placement_placed_for_adoption": "other",
    "cla_placement_with_parents": "other",
    "cla_placement_other_community": "other",
    "cla_placement_secure_childrens_homes_hostels": "residential",
    "cla_placement_other_residential": "residential",
    "cla_placement_residential_school": "residential",
    "cla_placement_missing": "other",
    "cla_placement_other": "other",
}

ENGLAND_CODE = "E92000001"

UNIT_COST_ASSUMPTIONS: dict[str, str] = {
    "fostering": "unit_cost_fostering_gbp_per_week",
    "residential": "unit_cost_residential_gbp_per_week",
    "other": "unit_cost_other_placement_gbp_per_week",
}


@dataclass(frozen=True)
class UnitCosts:
    """Weekly cost of a placement, by placement group (£ per child per week)."""

    fostering_gbp_per_week: float
    residential_gbp_per_week: float
    other_gbp_per_week: float

    def __post_init__(self) -> None:
        problems = [
            Problem(
                file="placement unit costs",
                column=UNIT_COST_ASSUMPTIONS[group],
                value=self.weekly(group),
                expected="a weekly cost of zero or more (£ per child per week)",
            )
            for group in PLACEMENT_GROUPS
            if not self.weekly(group) >= 0
        ]
        if problems:
            raise InputError(problems)

    def weekly(self, group: str) -> float:
        return {
            "fostering": self.fostering_gbp_per_week,
            "residential": self.residential_gbp_per_week,
            "other": self.other_gbp_per_week,
        }[group]


def unit_costs(scenario: Scenario) -> UnitCosts:
    """The weekly placement unit costs of a scenario.

    Raises
    ------
    InputError
        When the scenario lacks a ``unit_cost_*_gbp_per_week`` assumption.
    """
    scenario.require(UNIT_COST_ASSUMPTIONS.values(), model="placement costs")
    return UnitCosts(
        fostering_gbp_per_week=scenario.value(UNIT_COST_ASSUMPTIONS["fostering"]),
        residential_gbp_per_week=scenario.value(UNIT_COST_ASSUMPTIONS["residential"]),
        other_gbp_per_week=scenario.value(UNIT_COST_ASSUMPTIONS["other"]),
    )


def _mix_problem(where: str, expected: str, value: object = None) -> InputError:
    return InputError(
        [Problem(file="published statistics", location=where, value=value, expected=expected)]
    )


def placement_mix(
    tidy: pd.DataFrame,
    source: MixSource = DEFAULT_MIX_SOURCE,
    *,
    la_code: str | None = None,
    year: int | None = None,
) -> pd.DataFrame:
    """The share of children looked after at 31 March in each placement group.

    Parameters
    ----------
    tidy
        The tidy table of published statistics (:func:`analysis.external.load_external`,
        optionally cut by :func:`analysis.external.published_as_of`).
    source
        ``"england"`` (national characteristics file) or ``"la"`` (the LA's SFR figures).
    la_code
        The LA's ONS code; needed for ``source="la"``.
    year
        The reporting year; the latest with figures when omitted.

    Returns
    -------
    DataFrame
        One row per :data:`PLACEMENT_GROUPS`: ``placement_group``, ``children``, ``share``,
        ``suppressed_cells`` (published cells filled from the residual), ``year``,
        ``mix_source`` (``england`` or ``la``) and ``geography`` (the name).

    Raises
    ------
    InputError
        When the table holds no placement figures for the geography (and year) asked for.
    """
    if source == "england":
        measures = ENGLAND_PLACEMENT_MEASURES
        own = rows_of(tidy, ENGLAND_CODE)
        rows = own[own["measure"].isin(list(measures))]
        totals = own[own["measure"] == "cla_placement_total_children"]
    elif source == "la":
        if not la_code:
            raise ValueError("placement_mix(source='la') needs la_code")
        measures = SFR_PLACEMENT_MEASURES
        own = rows_of(tidy, la_code)
        rows = own[own["measure"].isin(list(measures))]
        totals = own[
            (own["measure"] == "cla_at_31_march")
            & own["source_file"].str.contains("sfr_underlying", regex=False)
        ]
    else:
        raise ValueError(f"placement mix source must be 'england' or 'la', not {source!r}")
    where = f"placement figures for {la_code or 'England'}"
    if rows.empty:
        raise _mix_problem(where, "placement counts at 31 March in the published files")
    chosen_year = int(rows["year"].max()) if year is None else int(year)
    rows = rows[rows["year"] == chosen_year].drop_duplicates("measure", keep="last")
    if rows.empty:
        raise _mix_problem(where, f"placement counts for reporting year {chosen_year}", chosen_year)
    total_rows = totals[totals["year"] == chosen_year]["value"].dropna()
    known = rows["value"].dropna()
    suppressed = rows[rows["value"].isna() & rows["suppression"].isin(["x", "c"])]
    counts = rows.set_index("measure")["value"].astype(float)
    if len(suppressed) and len(total_rows):
        left_over = max(float(total_rows.iloc[-1]) - float(known.sum()), 0.0)
        counts.loc[suppressed["measure"].tolist()] = left_over / len(suppressed)
    counts = counts.fillna(0.0)
    groups = (
        counts.groupby(counts.index.map(measures))
        .sum()
        .reindex(list(PLACEMENT_GROUPS), fill_value=0.0)
    )
    suppressed_by_group = (
        suppressed["measure"]
        .map(measures)
        .value_counts()
        .reindex(list(PLACEMENT_GROUPS), fill_value=0)
    )
    total = float(groups.sum())
    if not total > 0:
        raise _mix_problem(where, f"some children in placement in {chosen_year}", total)
    return pd.DataFrame(
        {
            "placement_group": list(PLACEMENT_GROUPS),
            "children": groups.to_numpy(),
            "share": (groups / total).to_numpy(),
            "suppressed_cells": suppressed_by_group.to_numpy().astype(int),
            "year": chosen_year,
            "mix_source": source,
            "geography": str(rows["la_name"].dropna().iloc[-1])
            if rows["la_name"].notna().any()
            else ("England" if source == "england" else str(la_code)),
        }
    )


def cost_per_child(mix: pd.DataFrame, costs: UnitCosts) -> pd.DataFrame:
    """The cost of a child looked after for a year, by placement group and weighted.

    Returns
    -------
    DataFrame
        One row per placement group with ``share``, ``weekly_cost_gbp``,
        ``annual_cost_per_placement_gbp`` and ``weighted_annual_cost_gbp`` (share x annual
        cost), plus a ``total`` row whose ``weighted_annual_cost_gbp`` is the average annual
        cost of a child looked after at this mix.

    Raises
    ------
    InputError
        When the mix's shares do not add up to 1 (to within rounding).
    """
    shares = mix.set_index("placement_group")["share"].reindex(list(PLACEMENT_GROUPS))
    if shares.isna().any() or not math.isclose(float(shares.sum()), 1.0, abs_tol=1e-6):
        raise InputError(
            [
                Problem(
                    file="placement mix",
                    column="share",
                    value=float(shares.sum()),
                    expected="a share for each of fostering, residential and other, adding to 1",
                )
            ]
        )
    weekly = pd.Series({g: costs.weekly(g) for g in PLACEMENT_GROUPS})
    table = pd.DataFrame(
        {
            "placement_group": list(PLACEMENT_GROUPS),
            "share": shares.to_numpy(),
            "weekly_cost_gbp": weekly.to_numpy(),
            "annual_cost_per_placement_gbp": (weekly * WEEKS_PER_YEAR).to_numpy(),
        }
    )
    table["weighted_annual_cost_gbp"] = table["share"] * table["annual_cost_per_placement_gbp"]
    total = {
        "placement_group": "total",
        "share": float(table["share"].sum()),
        "weekly_cost_gbp": float((table["share"] * table["weekly_cost_gbp"]).sum()),
        "annual_cost_per_placement_gbp": math.nan,
        "weighted_annual_cost_gbp": float(table["weighted_annual_cost_gbp"].sum()),
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def annual_cost_per_child_gbp(mix: pd.DataFrame, costs: UnitCosts) -> float:
    """The average annual placement cost of one child looked after at this mix (£)."""
    table = cost_per_child(mix, costs)
    return float(table.loc[table["placement_group"] == "total", "weighted_annual_cost_gbp"].iloc[0])


_BOUNDS = ("forecast", "lower_80", "upper_80", "lower_95", "upper_95")


def forecast_placement_cost(
    forecast: pd.DataFrame,
    last_actual: float,
    cost_per_child_gbp: float,
) -> pd.DataFrame:
    """The placement cost of each forecast year, central and with its intervals.

    Parameters
    ----------
    forecast
        Children looked after at 31 March, one row per year ahead: ``period_end``,
        ``forecast``, ``lower_80``, ``upper_80``, ``lower_95``, ``upper_95`` (the columns of
        :func:`analysis.demand.forecast_series`).
    last_actual
        The last published number of children looked after at 31 March (the first forecast
        year's opening figure).
    cost_per_child_gbp
        The annual cost of a child looked after (:func:`annual_cost_per_child_gbp`).

    Returns
    -------
    DataFrame
        One row per year: ``period_end`` (end of the financial year), ``financial_year``
        (``2025/26``), ``children_looked_after_avg`` (mean of opening and closing stock) and
        ``placement_cost_gbp`` with ``placement_cost_lower_80_gbp``, ..._upper_95_gbp. A
        bound is the mean of that bound at the opening and the closing 31 March (the opening
        of the first year is the published figure), so the interval treats forecast errors of
        consecutive years as moving together, as they do for a stock.

    Raises
    ------
    InputError
        When the last published figure is missing or negative.
    """
    if not (isinstance(last_actual, int | float) and last_actual >= 0):
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="cla_at_31_march",
                    value=last_actual,
                    expected="the last published number of children looked after (0 or more)",
                )
            ]
        )
    ordered = forecast.sort_values("period_end").reset_index(drop=True)
    average = pd.DataFrame({"period_end": pd.to_datetime(ordered["period_end"])})
    for bound in _BOUNDS:
        closing = ordered[bound].astype(float)
        opening = closing.shift(1).fillna(float(last_actual))
        average[bound] = (opening + closing) / 2
    return cost_of_average_children(average, cost_per_child_gbp)


def cost_of_average_children(average: pd.DataFrame, cost_per_child_gbp: float) -> pd.DataFrame:
    """The placement cost of each financial year from the average children looked after in it.

    Parameters
    ----------
    average
        One row per financial year: ``period_end`` (its 31 March) and the average number of
        children looked after during the year, central (``forecast``) and at each interval
        bound (``lower_80``, ``upper_80``, ``lower_95``, ``upper_95``). From annual stocks it is
        the mean of opening and closing (:func:`forecast_placement_cost`); from a council's
        monthly extract, the mean of the twelve month-end counts.
    cost_per_child_gbp
        The annual cost of a child looked after (:func:`annual_cost_per_child_gbp`).

    Returns
    -------
    DataFrame
        As :func:`forecast_placement_cost`.
    """
    result = pd.DataFrame({"period_end": pd.to_datetime(average["period_end"])})
    result["financial_year"] = [
        financial_year_label(int(y) - 1) for y in result["period_end"].dt.year
    ]
    result["children_looked_after_avg"] = average["forecast"].astype(float).to_numpy()
    result["placement_cost_gbp"] = result["children_looked_after_avg"] * cost_per_child_gbp
    for bound in _BOUNDS[1:]:
        children = average[bound].astype(float).to_numpy()
        result[f"placement_cost_{bound}_gbp"] = children * cost_per_child_gbp
    return result


def budget_and_outturn(tidy: pd.DataFrame, la_code: str) -> pd.DataFrame:
    """The council's published children's social care budget (RA) and net spend (RSX).

    Returns
    -------
    DataFrame
        One row per financial year with any figure: ``financial_year``,
        ``csc_budget_gbp`` (total children's social care, RA), ``cla_budget_gbp`` (the RA
        line for children looked after), ``csc_net_outturn_gbp`` (RSX net current
        expenditure), each in pounds (the files are in £ thousand), and ``source_files``.
    """
    wanted = {
        "csc_budget_gbp_k": "csc_budget_gbp",
        "csc_budget_children_looked_after_gbp_k": "cla_budget_gbp",
        "csc_net_outturn_gbp_k": "csc_net_outturn_gbp",
    }
    own = rows_of(tidy, la_code)
    rows = own[own["measure"].isin(list(wanted))]
    columns = ["financial_year", *wanted.values(), "source_files"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(
        financial_year=[financial_year_label(int(y) - 1) for y in rows["year"]],
        value_gbp=rows["value"].astype(float) * 1000,
    )
    table = rows.pivot_table(
        index="financial_year", columns="measure", values="value_gbp", aggfunc="last"
    ).rename(columns=wanted)
    files = rows.groupby("financial_year")["source_file"].agg(
        lambda s: "; ".join(sorted({str(f).rsplit("/", 1)[-1] for f in s}))
    )
    table = table.reindex(columns=list(wanted.values()))
    table.columns.name = None
    table["source_files"] = files
    return table.reset_index()[columns]


def placement_cost_summary(
    cost: pd.DataFrame, finance: pd.DataFrame, mix_costs: Mapping[str, float]
) -> pd.DataFrame:
    """The forecast placement cost beside the published budget and spend, one row per year.

    Parameters
    ----------
    cost
        From :func:`forecast_placement_cost` (at the default mix).
    finance
        From :func:`budget_and_outturn`.
    mix_costs
        Extra central costs per child at other mixes, named (``{"la": 61000.0}``); each adds a
        column ``placement_cost_at_<name>_mix_gbp`` (central children x that cost).

    Returns
    -------
    DataFrame
        Every financial year in either table, with the cost and the published figures side by
        side (blank where a year has none).
    """
    table = cost.drop(columns="period_end").copy()
    for name, per_child in mix_costs.items():
        table[f"placement_cost_at_{name}_mix_gbp"] = table["children_looked_after_avg"] * per_child
    merged = finance.merge(table, on="financial_year", how="outer")
    return merged.sort_values("financial_year", ignore_index=True)
