"""What notebook ``02_tom_costs`` shows: TOM costs, funding, comparisons and the budget
trajectory for one reporting month and scenario, as tables, a headline and charts.

:func:`run_tom_costs` loads the inputs, runs :mod:`analysis.costs` and :mod:`analysis.budget`
and returns every result in one :class:`TomResults`; the rest of this module only presents
them (generated sentences, display tables, charts in the house style), so the notebook is a
handful of calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from analysis.budget import (
    BUDGET_ASSUMPTION_NAMES,
    appendix_basis,
    budget_assumptions,
    build_trajectory,
    council_returns,
    explain_variances,
    trajectory_summary,
    trajectory_table,
    variance_comparison,
    waterfall,
)
from analysis.charts import (
    PALETTE,
    REFERENCE_COLOUR,
    finish_chart,
    gbp_millions_axis,
    new_chart,
)
from analysis.costs import (
    COMPONENT_COLUMNS,
    COST_ASSUMPTION_NAMES,
    compare_structures,
    cost_assumptions,
    published_checks,
    structure_costs,
    totals_of,
)
from analysis.external import load_external, source_paths
from analysis.formatting import MISSING, column_label, format_table, fte, gbp, gbp_m, pct
from analysis.loaders import (
    STRUCTURES,
    load_budget_trajectory,
    load_published_assumptions,
    load_text_pressures,
    load_tom_structures,
)
from analysis.paths import seed_dir
from analysis.periods import financial_year_of, parse_reporting_month
from analysis.results import Headline, HeadlineFigure
from analysis.scenario import Scenario, load_scenario

NOTEBOOK = "02_tom_costs"
SOURCE_TOM = "LBBD programme initiation document 2019, Appendix C; model (scenario: {name})"
SOURCE_BUDGET = (
    "LBBD programme initiation document 2019, Appendix B and text; MHCLG RA/RSX; "
    "model (scenario: {name})"
)
STRUCTURE_NAMES = {"before": "Before", "improvement": "Improvement", "efficient": "Efficient"}
COMPONENT_NAMES = {
    "base_cost_gbp": "Base cost",
    "agency_premium_gbp": "Agency premium",
    "recruitment_payments_gbp": "Recruitment payments",
    "retention_payments_gbp": "Retention payments",
    "legacy_retention_award_gbp": "Legacy retention award",
}
FUNDING_NAMES = {
    "care_and_support_funding_gbp": "Care and Support budget",
    "other_council_funding_gbp": "Other council budgets",
    "external_funding_gbp": "External funders",
}


@dataclass(frozen=True)
class TomResults:
    """Every result of the TOM cost notebook for one reporting month and scenario."""

    reporting_month: pd.Period
    financial_year: str
    scenario: Scenario
    structure_costs: pd.DataFrame
    structure_costs_in_year: pd.DataFrame
    comparisons: dict[str, pd.DataFrame]
    published_checks: pd.DataFrame
    lines: pd.DataFrame
    summary: pd.DataFrame
    trajectory: pd.DataFrame
    variance_comparison: pd.DataFrame
    variance_explanation: str
    council_returns: pd.DataFrame
    inputs: tuple[Path, ...]


def run_tom_costs(
    reporting_month: str, scenario_path: str | Path | None = "", la_code: str | None = None
) -> TomResults:
    """Run the cost model and the budget trajectory for a reporting month and a scenario.

    Parameters
    ----------
    reporting_month
        ``YYYY-MM`` or ``YYYY-YY Pn``.
    scenario_path
        A scenario YAML (or Excel) file; blank for ``scenarios/base.yaml``.
    la_code
        The council whose RA/RSX returns extend the trajectory; the scenario's by default.

    Raises
    ------
    InputError
        For a malformed reporting month, a bad scenario or a bad input file, naming each
        problem.
    """
    month = parse_reporting_month(reporting_month)
    scenario = load_scenario(scenario_path or None)
    cost = cost_assumptions(scenario)
    budget = budget_assumptions(scenario)
    structures = load_tom_structures()
    published = load_budget_trajectory()
    text = load_text_pressures()
    year = financial_year_of(month)
    costs = structure_costs(structures, cost)
    basis_costs = structure_costs(structures, appendix_basis(cost, budget)[0])
    returns = council_returns(
        load_external(), la_code or scenario.settings.la_code, f"{month.year}-{month.month:02d}"
    )
    lines, basis_lines = build_trajectory(
        published, costs, basis_costs, cost, budget, str(month), returns
    )
    comparison = variance_comparison(published, text, lines, basis_lines)
    finance_files = [p for p in source_paths() if "mhclg_la_finance" in p.parts]
    return TomResults(
        reporting_month=month,
        financial_year=year,
        scenario=scenario,
        structure_costs=costs,
        structure_costs_in_year=structure_costs(structures, cost, financial_year=year),
        comparisons={
            "improvement_vs_before": compare_structures(costs, "before", "improvement"),
            "efficient_vs_improvement": compare_structures(costs, "improvement", "efficient"),
        },
        published_checks=published_checks(costs, cost, structures, load_published_assumptions()),
        lines=lines,
        summary=trajectory_summary(published, text, lines, returns),
        trajectory=trajectory_table(published, text, lines, returns),
        variance_comparison=comparison,
        variance_explanation=explain_variances(comparison, published),
        council_returns=returns,
        inputs=(
            *(
                seed_dir() / f
                for f in (
                    "tom_structures.csv",
                    "budget_trajectory.csv",
                    "published_assumptions.csv",
                    "budget_text_pressures.csv",
                )
            ),
            *finance_files,
            *scenario.files,
        ),
    )


# ---- words -----------------------------------------------------------------------------------


def _year_row(results: TomResults) -> pd.Series:
    return results.summary.set_index("financial_year").loc[results.financial_year]


def variance_rag(results: TomResults) -> str:
    """Red, amber or green for the reporting year's gap, from the scenario's thresholds."""
    row = _year_row(results)
    share = row["model_variance_gbp_m"] / row["model_budget_gbp_m"]
    thresholds = results.scenario.settings.rag.variance_vs_budget
    if share > thresholds.red:
        return "red"
    return "amber" if share > thresholds.amber else "green"


def headline(results: TomResults) -> Headline:
    """Return the notebook's headline: cost of each structure, the gap to budget, who pays."""
    totals = totals_of(results.structure_costs)
    row = _year_row(results)
    improvement, efficient, before = (totals.loc[s] for s in ("improvement", "efficient", "before"))
    pressure = improvement["care_and_support_funding_gbp"] - before["care_and_support_funding_gbp"]
    saving = improvement["care_and_support_funding_gbp"] - efficient["care_and_support_funding_gbp"]
    gap = row["model_variance_gbp_m"] * 1e6
    month = results.reporting_month.strftime("%B %Y")
    move = pd.Period(results.scenario.settings.efficient_structure_from, "M").strftime("%B %Y")
    gap_words = "overspend" if gap > 0 else "underspend"
    summary = (
        f"The Improvement structure costs {gbp_m(improvement['true_cost_gbp'])} a year "
        f"({fte(improvement['fte'])} FTE; base cost {gbp_m(improvement['base_cost_gbp'])} plus "
        f"{gbp_m(improvement['true_cost_gbp'] - improvement['base_cost_gbp'])} of agency premium "
        f"and recruitment and retention payments), the Efficient structure "
        f"{gbp_m(efficient['true_cost_gbp'])} ({fte(efficient['fte'])} FTE) and the Before "
        f"structure {gbp_m(before['true_cost_gbp'])} ({fte(before['fte'])} FTE). "
        f"The Care and Support budget pays {gbp_m(improvement['care_and_support_funding_gbp'])} "
        f"of the Improvement structure, other council budgets "
        f"{gbp_m(improvement['other_council_funding_gbp'])} and external funders "
        f"{gbp_m(improvement['external_funding_gbp'])}: {gbp_m(pressure)} more for the Care and "
        f"Support budget than Before, of which moving to the Efficient structure from {move} "
        f"saves {gbp_m(saving)} a year. For {results.financial_year} (reporting month {month}) "
        f"the {row['status']} out-turn of {gbp_m(row['model_outturn_gbp_m'] * 1e6)} against a "
        f"budget of {gbp_m(row['model_budget_gbp_m'] * 1e6)} is an {gap_words} of "
        f"{gbp_m(abs(gap))} ({pct(gap / (row['model_budget_gbp_m'] * 1e6))} of budget)."
    )
    return Headline(
        notebook=NOTEBOOK,
        title="Target Operating Model costs and budget trajectory",
        summary=summary,
        figures=(
            HeadlineFigure("Improvement structure true cost", gbp_m(improvement["true_cost_gbp"])),
            HeadlineFigure("Efficient structure true cost", gbp_m(efficient["true_cost_gbp"])),
            HeadlineFigure("Pressure on Care and Support budget", gbp_m(pressure)),
            HeadlineFigure(
                f"Gap to budget {results.financial_year} ({row['status']})",
                gbp_m(gap, signed=True),
                variance_rag(results),
                note="out-turn less budget; positive is an overspend",
            ),
        ),
    )


# ---- tables ----------------------------------------------------------------------------------

_COST_COLUMNS = [
    "structure",
    "budget_area",
    "fte",
    "agency_eligible_fte",
    "base_cost_gbp",
    *COMPONENT_COLUMNS,
    "true_cost_gbp",
    "care_and_support_funding_gbp",
    "other_council_funding_gbp",
    "external_funding_gbp",
]


def result_tables(results: TomResults) -> dict[str, pd.DataFrame]:
    """Return the tables written to CSV and to the workbook, by name (numbers, not text)."""
    return {
        "tom_structure_costs": results.structure_costs[_COST_COLUMNS],
        f"tom_structure_costs_{results.financial_year.replace('/', '_')}": (
            results.structure_costs_in_year[_COST_COLUMNS]
        ),
        "tom_improvement_vs_before": results.comparisons["improvement_vs_before"],
        "tom_efficient_vs_improvement": results.comparisons["efficient_vs_improvement"],
        "tom_published_checks": results.published_checks,
        "budget_trajectory_summary": results.summary,
        "budget_trajectory_figures": results.trajectory,
        "budget_trajectory_lines": results.lines,
        "budget_variance_comparison": results.variance_comparison,
        "assumptions": results.scenario.assumptions_table(),
    }


def structure_totals_table(results: TomResults) -> pd.DataFrame:
    """Each structure's total: FTE, base cost, each component, true cost and who pays."""
    totals = totals_of(results.structure_costs).reset_index()
    return totals[[c for c in _COST_COLUMNS if c != "budget_area"]]


def structure_areas_table(results: TomResults, structure: str) -> pd.DataFrame:
    """One structure's budget areas and total."""
    costs = results.structure_costs
    return costs[costs["structure"] == structure][_COST_COLUMNS[1:]]


def _yes_no(value: object) -> str:
    return "yes" if bool(value) else "no"


def for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a table written for a reader: £ with thousands separators, FTE to one decimal,
    £m to one decimal, yes/no for flags, structure names capitalised, and column names with
    their units."""
    formats = {c: _yes_no for c in frame.columns if frame[c].dtype == bool}
    shown = format_table(frame, formats)
    if "structure" in shown.columns:
        shown["structure"] = shown["structure"].map(lambda s: STRUCTURE_NAMES.get(s, s))
    return shown.rename(columns=column_label)


def comparison_changes(results: TomResults, name: str) -> pd.DataFrame:
    """The change columns of one comparison, by budget area (``improvement_vs_before`` or
    ``efficient_vs_improvement``)."""
    comparison = results.comparisons[name]
    changes = [c for c in comparison.columns if c.startswith("change_")]
    return comparison[["budget_area", *changes]]


def trajectory_note(results: TomResults) -> str:
    """Say which years are published and modelled, which projected, and from what."""
    statuses = results.summary.set_index("financial_year")["status"]
    modelled = list(statuses[statuses == "modelled"].index)
    projected = list(statuses[statuses == "projected"].index)
    text = (
        f"Appendix B publishes {modelled[0]} to {modelled[-1]}: for those years the table sets "
        "the published budget, out-turn and variance (and the pressure the text states) beside "
        "the model's."
    )
    if projected:
        text += (
            f" {projected[0]} to {projected[-1]} are projected from the scenario "
            f"'{results.scenario.name}'"
        )
        returns = results.council_returns.dropna(how="all", subset=["budget_gbp_m"])
        later = [y for y in returns["financial_year"] if y in projected]
        text += (
            f", with the budget moved in step with the council's published RA budget in "
            f"{', '.join(later)}."
            if later
            else "; the budget is held at its last level."
        )
    published = results.council_returns.dropna(how="all", subset=["budget_gbp_m", "outturn_gbp_m"])
    if not published.empty:
        text += (
            " The council's MHCLG returns published by the reporting month cover "
            f"{', '.join(published['financial_year'])} for the whole of children's social care, "
            "a wider scope than the Care and Support budget, so they are shown beside the model, "
            "not in place of it."
        )
    return text


def _in_unit(value: float, unit: str) -> str:
    """Write an assumption's value in its unit: fractions as %, pounds with separators."""
    if pd.isna(value):
        return MISSING
    if unit.startswith("fraction"):
        return pct(value)
    if unit.startswith("GBP"):
        return gbp(value)
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def assumptions_used(results: TomResults) -> pd.DataFrame:
    """The scenario's assumptions the cost model and the budget trajectory use, with their
    values written in their units, sources and ranges."""
    names = [*COST_ASSUMPTION_NAMES, *BUDGET_ASSUMPTION_NAMES]
    table = results.scenario.assumptions_table().set_index("name")
    table = table.loc[list(dict.fromkeys(n for n in names if n in table.index))].reset_index()
    return pd.DataFrame(
        {
            "Assumption": table["name"],
            "Value": [_in_unit(v, u) for v, u in zip(table["value"], table["unit"], strict=True)],
            "Low": [_in_unit(v, u) for v, u in zip(table["low"], table["unit"], strict=True)],
            "High": [_in_unit(v, u) for v, u in zip(table["high"], table["unit"], strict=True)],
            "Unit": table["unit"],
            "Source": table["source"],
        }
    )


# ---- charts ----------------------------------------------------------------------------------


def _structure_labels(index: pd.Index) -> list[str]:
    return [STRUCTURE_NAMES.get(s, s) for s in index]


def chart_cost_components(results: TomResults) -> Figure:
    """Stacked bars per structure: base cost and each true-cost component in the reporting
    year (left), and the components alone on a scale that shows them (right)."""
    totals = totals_of(results.structure_costs_in_year).loc[list(STRUCTURES)]
    labels = _structure_labels(totals.index)
    figure, (ax, detail) = plt.subplots(
        1, 2, figsize=(10.0, 4.4), gridspec_kw={"width_ratios": [4, 3]}
    )
    bottom = np.zeros(len(totals))
    detail_bottom = np.zeros(len(totals))
    for colour, (column, name) in zip(PALETTE, COMPONENT_NAMES.items(), strict=False):
        values = totals[column].to_numpy(dtype=float)
        ax.bar(labels, values, bottom=bottom, label=name, color=colour)
        bottom += values
        if column != "base_cost_gbp":
            detail.bar(labels, values, bottom=detail_bottom, color=colour)
            detail_bottom += values
    gbp_millions_axis(ax)
    detail.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"£{v / 1e3:,.0f}k"))
    detail.set_title("The components alone", fontsize=10)
    detail.set_xlabel("Structure")
    detail.set_ylabel("Components per year (£ thousand)")
    # one legend for both panels, beside them: over the bars it hid part of one
    handles, labels = ax.get_legend_handles_labels()
    detail.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return finish_chart(
        ax,
        title=f"Base and true cost by component, {results.financial_year}",
        xlabel="Structure",
        ylabel="Cost per year (£m)",
        source=SOURCE_TOM.format(name=results.scenario.name),
        legend=False,
    )


def chart_funding(results: TomResults) -> Figure:
    """Stacked bars: who pays for each structure's true cost."""
    totals = totals_of(results.structure_costs).loc[list(STRUCTURES)]
    figure, ax = new_chart()
    bottom = np.zeros(len(totals))
    for colour, (column, name) in zip(PALETTE, FUNDING_NAMES.items(), strict=False):
        values = totals[column].to_numpy(dtype=float)
        ax.bar(_structure_labels(totals.index), values, bottom=bottom, label=name, color=colour)
        bottom += values
    gbp_millions_axis(ax)
    # beside the bars: inside, it hid the Efficient structure's bar
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return finish_chart(
        ax,
        title="Who pays: funding of each structure's true cost",
        xlabel="Structure",
        ylabel="Funding per year (£m)",
        source=SOURCE_TOM.format(name=results.scenario.name)
        + "; Before's external funding implied (blank in print)",
        legend=False,
    )


def chart_waterfall(results: TomResults) -> Figure:
    """Waterfall of the reporting year's out-turn, with its budget as a reference line."""
    steps = waterfall(results.lines, results.financial_year, "outturn")
    row = _year_row(results)
    figure, ax = new_chart((8.0, 4.5))
    colours = []
    for kind, amount in zip(steps["kind"], steps["amount_gbp_m"], strict=True):
        if kind != "movement":
            colours.append(PALETTE[0])
        else:
            colours.append(PALETTE[5] if amount > 0 else PALETTE[2])
    bottoms = np.minimum(steps["start_gbp_m"], steps["end_gbp_m"]) * 1e6
    heights = (steps["end_gbp_m"] - steps["start_gbp_m"]).abs() * 1e6
    ax.bar(range(len(steps)), heights, bottom=bottoms, color=colours)
    budget_gbp = row["model_budget_gbp_m"] * 1e6
    ax.axhline(budget_gbp, color=REFERENCE_COLOUR, linestyle="--", linewidth=1)
    ax.set_xticks(range(len(steps)), steps["step"], rotation=30, ha="right", fontsize=8)
    # bars start near the lowest level shown so the movements are visible; the axis is
    # labelled in £m from there, and the budget line is always inside it
    low = min(
        float(steps[["start_gbp_m", "end_gbp_m"]].replace(0, np.nan).min().min()) * 1e6, budget_gbp
    )
    high = max(float(steps["end_gbp_m"].max()) * 1e6, budget_gbp)
    ax.set_ylim(max(0.0, low - 0.15 * (high - low)), high + 0.35 * (high - low))
    gbp_millions_axis(ax)
    ax.legend(
        handles=[
            Patch(color=PALETTE[0], label="Opening and closing out-turn"),
            Patch(color=PALETTE[5], label="Increase"),
            Patch(color=PALETTE[2], label="Decrease"),
            Line2D([], [], color=REFERENCE_COLOUR, linestyle="--", label="Budget"),
        ],
        fontsize=8,
        loc="upper left",
        ncol=2,
    )
    return finish_chart(
        ax,
        title=f"Budget waterfall {results.financial_year}: out-turn build-up against budget "
        f"({row['status']})",
        xlabel="Line of the build-up",
        ylabel="Out-turn (£m)",
        source=SOURCE_BUDGET.format(name=results.scenario.name),
        legend=False,
    )


def chart_variance_by_year(results: TomResults) -> Figure:
    """Variance by year: the model's bars (solid modelled, hatched projected) and the
    published appendix and text figures as markers."""
    summary = results.summary
    figure, ax = new_chart()
    positions = np.arange(len(summary))
    projected = summary["status"] == "projected"
    values = summary["model_variance_gbp_m"] * 1e6
    ax.bar(positions[~projected], values[~projected], color=PALETTE[0], label="Model (modelled)")
    ax.bar(
        positions[projected],
        values[projected],
        color="white",
        edgecolor=PALETTE[0],
        hatch="//",
        label="Model (projected)",
    )
    ax.plot(
        positions,
        summary["appendix_variance_gbp_m"] * 1e6,
        "D",
        color=PALETTE[1],
        label="Published: Appendix B",
    )
    ax.plot(
        positions,
        summary["text_pressure_gbp_m"] * 1e6,
        "o",
        color=PALETTE[3],
        label="Published: document text",
    )
    ax.axhline(0, color=REFERENCE_COLOUR, linewidth=0.8)
    ax.set_xticks(positions, summary["financial_year"], rotation=30, ha="right")
    ax.margins(y=0.35)
    gbp_millions_axis(ax)
    ax.legend(fontsize=8, ncol=2, loc="upper center")
    return finish_chart(
        ax,
        title="Variance by year: out-turn less budget (positive is an overspend)",
        xlabel="Financial year",
        ylabel="Variance (£m)",
        source=SOURCE_BUDGET.format(name=results.scenario.name),
        legend=False,
    )
