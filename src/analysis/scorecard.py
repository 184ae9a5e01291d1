"""The pack's scorecard: the four figures committees look at first, each with a RAG status.

This module owns which figures the scorecard reports, how each is measured, and where it
comes from:

* **caseload against target**: the council's published average caseload per case-holding
  FTE (DfE children's social work workforce, 30 September) divided by its caseload target,
  the scenario's targets by team weighted by the council's own cases
  (:func:`analysis.workforce.weighted_caseload_target`); 1.0 is at target;
* **agency share against the budgeted share**: agency social workers as a share of social
  workers at work (agency / (agency + employed in post), the DfE's agency rate) minus the
  scenario's budgeted ``agency_share``; positive is agency use the budget did not allow for;
* **variance against budget**: the council's children's social care out-turn (MHCLG RSX)
  against its budget (MHCLG RA) for the latest year both are published: (out-turn - budget)
  / budget; positive is an overspend;
* **demand against forecast**: the latest published number of children looked after (the
  demand that drives most cost) against what the forecasting method predicted for that year
  from the figures published a year before: (actual - forecast) / forecast; positive is more
  demand than planned for.

Each figure's status comes from the scenario's ``settings.rag`` thresholds
(:func:`analysis.benchmark.scorecard`: green at or below amber, amber above amber up to red,
red above red), and the thresholds are carried in the table so a report prints them beside
the status. A figure that cannot be measured (nothing published) has no status.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from analysis import demand, placements, workforce
from analysis.benchmark import scorecard
from analysis.errors import InputError

if TYPE_CHECKING:
    from analysis.contract import ContractView
    from analysis.scenario import RagSettings, Scenario

#: The scorecard's figures in the order the pack shows them, with their words for a report.
LABELS: dict[str, str] = {
    "caseload_vs_target": "Caseload against target",
    "agency_share_vs_budgeted": "Agency share against the budgeted share",
    "variance_vs_budget": "Variance against budget",
    "demand_vs_forecast": "Demand against forecast",
}

#: How each figure is measured, for the thresholds' column in a report.
MEASURED_AS: dict[str, str] = {
    "caseload_vs_target": "average caseload / target (1.0 = at target)",
    "agency_share_vs_budgeted": "agency share - budgeted share",
    "variance_vs_budget": "(out-turn - budget) / budget",
    "demand_vs_forecast": "(actual - forecast) / forecast",
}


@dataclass(frozen=True)
class ScorecardInputs:
    """The measured figures behind the scorecard, each with the date or year it is for.

    Any figure may be NaN when nothing is published; its indicator then has no status.
    """

    caseload_per_fte: float
    caseload_target: float
    caseload_as_at: str
    agency_share: float
    budgeted_agency_share: float
    agency_as_at: str
    outturn_gbp: float
    budget_gbp: float
    finance_year: str
    demand_actual: float
    demand_forecast: float
    demand_as_at: str
    demand_label: str = "Children looked after at 31 March"


def rag_thresholds(rag: RagSettings) -> dict[str, tuple[float, float]]:
    """The scenario's thresholds as ``{indicator: (amber, red)}``."""
    return {name: (threshold.amber, threshold.red) for name, threshold in rag}


def _ratio(numerator: float, denominator: float) -> float:
    if any(math.isnan(x) for x in (numerator, denominator)) or denominator == 0:
        return math.nan
    return numerator / denominator


def pack_scorecard(inputs: ScorecardInputs, rag: RagSettings) -> pd.DataFrame:
    """The scorecard: each figure, what it was compared with, its status and thresholds.

    Parameters
    ----------
    inputs
        The measured figures.
    rag
        The scenario's ``settings.rag``.

    Returns
    -------
    DataFrame
        One row per indicator of :data:`LABELS`: ``indicator``, ``label``, ``measured_as``,
        ``value`` (the figure the status is read from), ``amber_above``, ``red_above``,
        ``status`` (``red``, ``amber``, ``green`` or None), ``actual``, ``compared_with``
        (the raw figures, in their own units: cases per FTE, fractions, pounds, children),
        ``unit`` and ``as_at``.

    Raises
    ------
    InputError
        When the scenario has no thresholds for an indicator.
    """
    i = inputs
    figures = {
        "caseload_vs_target": _ratio(i.caseload_per_fte, i.caseload_target),
        "agency_share_vs_budgeted": i.agency_share - i.budgeted_agency_share,
        "variance_vs_budget": _ratio(i.outturn_gbp - i.budget_gbp, i.budget_gbp),
        "demand_vs_forecast": _ratio(i.demand_actual - i.demand_forecast, i.demand_forecast),
    }
    table = scorecard(figures, rag_thresholds(rag), LABELS)
    table.insert(2, "measured_as", [MEASURED_AS[name] for name in table["indicator"]])
    table["actual"] = [i.caseload_per_fte, i.agency_share, i.outturn_gbp, i.demand_actual]
    table["compared_with"] = [
        i.caseload_target,
        i.budgeted_agency_share,
        i.budget_gbp,
        i.demand_forecast,
    ]
    table["unit"] = [
        "cases per case-holding FTE",
        "fraction of social workers",
        "GBP",
        i.demand_label,
    ]
    table["as_at"] = [i.caseload_as_at, i.agency_as_at, i.finance_year, i.demand_as_at]
    return table


# ---- from the published figures and the models -----------------------------------------------


def _caseload(
    published: pd.DataFrame, view: ContractView, params: workforce.WorkforceParameters
) -> tuple[float, float, str]:
    try:
        actual = workforce.actual_from_published(published, view.la_code)
    except InputError:
        return math.nan, math.nan, ""
    caseload = _ratio(actual.cases_held, actual.case_holders_fte)
    history = view.history[view.history["count"].notna()]
    complete = history.groupby("year")["measure"].nunique()
    complete = complete[complete == len(workforce.CASE_MEASURES)]
    if complete.empty:
        return caseload, math.nan, actual.as_at
    year = int(complete.index.max())
    measures = history[history["year"] == year].set_index("measure")["count"].to_dict()
    cases = workforce.cases_by_team(measures, params)
    return caseload, float(workforce.weighted_caseload_target(cases, params)), actual.as_at


def _agency(published: pd.DataFrame, la_code: str) -> tuple[float, str]:
    try:
        actual = workforce.actual_from_published(published, la_code)
    except InputError:
        return math.nan, ""
    return _ratio(actual.agency_fte, actual.working_fte), actual.as_at


def _finance(published: pd.DataFrame, la_code: str) -> tuple[float, float, str]:
    finance = placements.budget_and_outturn(published, la_code)
    both = finance.dropna(subset=["csc_budget_gbp", "csc_net_outturn_gbp"])
    if both.empty:
        return math.nan, math.nan, ""
    last = both.sort_values("financial_year").iloc[-1]
    return (
        float(last["csc_net_outturn_gbp"]),
        float(last["csc_budget_gbp"]),
        str(last["financial_year"]),
    )


def _demand(
    view: ContractView, chosen: Mapping[str, str] | None, measure: str = "cla_at_31_march"
) -> tuple[float, float, str]:
    rows = view.history[(view.history["measure"] == measure) & view.history["count"].notna()]
    if len(rows) < 2:
        return math.nan, math.nan, ""
    rows = rows.sort_values("year")
    last = rows.iloc[-1]
    before = rows[rows["year"] < int(last["year"])]
    series = pd.Series(
        before["count"].to_numpy(dtype=float),
        index=pd.DatetimeIndex([f"{int(y)}-03-31" for y in before["year"]]),
    )
    ahead = int(last["year"]) - int(before["year"].iloc[-1])
    method = (chosen or {}).get(measure, "naive")
    forecast = demand.forecast_series(series, ahead, method=method)
    return float(last["count"]), float(forecast["forecast"].iloc[-1]), f"31 March {last['year']}"


def scorecard_inputs(
    view: ContractView,
    scenario: Scenario,
    *,
    chosen: Mapping[str, str] | None = None,
) -> ScorecardInputs:
    """Measure the scorecard's figures for the council of a contract view.

    Parameters
    ----------
    view
        The council's contract view (:func:`analysis.contract.contract_view`): the figures
        published by its reporting month and its demand history.
    scenario
        Supplies the caseload targets and the budgeted ``agency_share``.
    chosen
        The forecasting method per measure, as for the contract view (the last value when
        ``None``).

    Raises
    ------
    InputError
        When the scenario lacks a workforce assumption or ``agency_share``.
    """
    params = workforce.workforce_parameters(scenario)
    scenario.require(["agency_share"], model="scorecard")
    published = view.published
    caseload, target, caseload_as_at = _caseload(published, view, params)
    agency_share, agency_as_at = _agency(published, view.la_code)
    outturn, budget, finance_year = _finance(published, view.la_code)
    actual, forecast, demand_as_at = _demand(view, chosen)
    return ScorecardInputs(
        caseload_per_fte=caseload,
        caseload_target=target,
        caseload_as_at=caseload_as_at,
        agency_share=agency_share,
        budgeted_agency_share=float(scenario.value("agency_share")),
        agency_as_at=agency_as_at,
        outturn_gbp=outturn,
        budget_gbp=budget,
        finance_year=finance_year,
        demand_actual=actual,
        demand_forecast=forecast,
        demand_as_at=demand_as_at,
    )
