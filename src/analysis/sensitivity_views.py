"""What notebook ``03_agency_sensitivity`` shows: how the TOM structures' variance against
their funded budget moves with the agency share, the premium and the other assumptions, as a
headline, charts and tables.

:func:`run_sensitivity` loads the scenario and the council's published demand, runs every
method of :mod:`analysis.sensitivity` (base point, two-way grid, tornado, break-even share,
Monte Carlo) and returns the results in one :class:`SensitivityResults`; the rest of this module
only presents them (the generated headline and its RAG status, charts in the house style,
display tables and the result tables written for analysts), so the notebook is a handful of
calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import CenteredNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from pandas.io.formats.style import Styler

from analysis import external, sensitivity
from analysis.benchmark import rag_status
from analysis.charts import (
    DIVERGING_CMAP,
    PALETTE,
    REFERENCE_COLOUR,
    finish_chart,
    gbp_millions_axis,
    new_chart,
    percent_axis,
)
from analysis.formatting import count, format_table, gbp, gbp_m, pct
from analysis.paths import display_path, seed_dir
from analysis.results import Headline, HeadlineFigure, Rag
from analysis.scenario import Scenario, load_scenario

NOTEBOOK = "03_agency_sensitivity"
TITLE = "Agency-premium sensitivity"

#: Assumptions the tornado chart shows: the ones that move the variance most.
TORNADO_BARS = 12

_TORNADO_COLUMNS = [
    "rank",
    "assumption",
    "value",
    "low",
    "high",
    "change_at_low_gbp",
    "change_at_high_gbp",
    "case_holding_fte_change_at_low",
    "case_holding_fte_change_at_high",
]
_PER_POINT_COLUMNS = [
    "structure",
    "agency_share",
    "variance_gbp",
    "cost_per_point_gbp",
    "break_even_agency_share",
    "break_even_agency_share_as_funded",
    "finding",
]
_ASSUMPTION_COLUMNS = ["name", "value", "unit", "low", "high", "distribution", "source"]


@dataclass(frozen=True)
class SensitivityResults:
    """Every result of the sensitivity notebook for one reporting month and scenario.

    ``structure`` is the structure in place in the reporting month (the one the headline and
    the charts are about); the tables cover every structure.
    """

    reporting_month: str
    scenario: Scenario
    model: sensitivity.SensitivityModel
    structure: str
    case_notes: tuple[str, ...]
    base_point: pd.DataFrame
    grid: pd.DataFrame
    tornado: pd.DataFrame
    break_even: pd.DataFrame
    simulation: sensitivity.MonteCarloResult
    assumptions: pd.DataFrame


def run_sensitivity(
    reporting_month: str, scenario_path: str | Path | None = ""
) -> SensitivityResults:
    """Run every sensitivity method for a reporting month and a scenario.

    Parameters
    ----------
    reporting_month
        ``YYYY-MM``: sets the structure in place and the demand published by then.
    scenario_path
        A scenario YAML (or Excel) file; blank for ``scenarios/base.yaml``.

    Raises
    ------
    InputError
        For a malformed reporting month, a bad scenario (for example a grid too large to
        price) or a bad input file, naming each problem.
    """
    scenario = load_scenario(scenario_path or None)
    cases, case_notes = sensitivity.published_cases(
        external.load_external(), scenario, reporting_month
    )
    model = sensitivity.build_model(scenario, cases=cases)
    return SensitivityResults(
        reporting_month=reporting_month,
        scenario=scenario,
        model=model,
        structure=sensitivity.current_structure(scenario, reporting_month),
        case_notes=tuple(case_notes),
        base_point=sensitivity.base_point(model),
        grid=sensitivity.agency_grid(model),
        tornado=sensitivity.one_way(model),
        break_even=sensitivity.break_even(model),
        simulation=sensitivity.monte_carlo(model),
        assumptions=sensitivity.assumptions_used(model, sensitivity.one_way_assumptions(model)),
    )


def inputs(results: SensitivityResults) -> list[Path]:
    """The files the results are computed from, for the result tables' provenance."""
    return [*results.scenario.files, seed_dir() / "tom_structures.csv"]


# ---- words -----------------------------------------------------------------------------------


def _structure_row(frame: pd.DataFrame, structure: str) -> pd.Series:
    return frame.set_index("structure").loc[structure]


def _name(results: SensitivityResults) -> str:
    return results.structure.capitalize()


def _source(results: SensitivityResults) -> str:
    return (
        f"{display_path(results.scenario.path)}; LBBD programme document 2019, Appendix C; "
        "DfE CIN and CLA statistics"
    )


def variance_status(results: SensitivityResults) -> Rag | None:
    """Red, amber or green for the current structure's variance as a share of its funded
    budget, from the scenario's ``rag.variance_vs_budget`` thresholds (an overspend above
    amber is amber, above red is red; any underspend is green)."""
    now = _structure_row(results.base_point, results.structure)
    thresholds = results.scenario.settings.rag.variance_vs_budget
    return rag_status(
        now["variance_gbp"] / now["funded_budget_gbp"], thresholds.amber, thresholds.red
    )


def _break_even_words(even: pd.Series) -> str:
    if even["reachable"]:
        return (
            f"It breaks even at an agency share of {pct(even['break_even_agency_share'])} "
            f"(the scenario assumes {pct(even['agency_share'])})"
        )
    return f"No agency share from 0% to 100% breaks even: it is {even['finding']}"


def headline(results: SensitivityResults) -> Headline:
    """Return the notebook's headline: the current structure's variance a year on, its
    break-even agency share, the cost of one point of agency share and the probability of an
    overspend, each written from the model's figures."""
    name = _name(results)
    now = _structure_row(results.base_point, results.structure)
    even = _structure_row(results.break_even, results.structure)
    odds = _structure_row(results.simulation.summary, results.structure)
    overspend = "an overspend" if now["variance_gbp"] > 0 else "an underspend"
    summary = (
        f"A year on from its costing, under the scenario '{results.scenario.name}', the {name} "
        f"structure costs {gbp_m(now['cost_in_year_gbp'])} against a funded budget of "
        f"{gbp_m(now['funded_budget_gbp'])}: {overspend} of {gbp(abs(now['variance_gbp']))}. "
        f"{_break_even_words(even)}; each extra percentage point of agency share costs "
        f"{gbp(even['cost_per_point_gbp'])} a year. Against the pay and demand its funding was "
        f"set for, it breaks even at {pct(even['break_even_agency_share_as_funded'])}. Across "
        f"{count(results.simulation.draws)} simulated years the probability of an overspend is "
        f"{pct(odds['probability_of_overspend'])} (standard error "
        f"{pct(odds['probability_standard_error'], decimals=2)}); the variance lies between "
        f"{gbp_m(odds['p10_variance_gbp'], signed=True)} and "
        f"{gbp_m(odds['p90_variance_gbp'], signed=True)} in eight years out of ten."
    )
    return Headline(
        notebook=NOTEBOOK,
        title=TITLE,
        summary=summary,
        figures=(
            HeadlineFigure(
                f"Variance, {name} structure",
                gbp_m(now["variance_gbp"], signed=True),
                variance_status(results),
                "a year on, against the funded budget",
            ),
            HeadlineFigure(
                "Break-even agency share",
                pct(even["break_even_agency_share"]) if even["reachable"] else "not reachable",
                None,
                f"scenario assumes {pct(even['agency_share'])}",
            ),
            HeadlineFigure(
                "Cost of one point of agency share", gbp(even["cost_per_point_gbp"]), None, "a year"
            ),
            HeadlineFigure(
                "Probability of an overspend",
                pct(odds["probability_of_overspend"]),
                None,
                f"± {pct(odds['probability_standard_error'], decimals=2)} (s.e.)",
            ),
        ),
    )


def headline_markdown(headline_: Headline) -> str:
    """The headline paragraph as the notebook shows it (Markdown)."""
    return f"**{headline_.title}.** {headline_.summary}"


def demand_note(results: SensitivityResults) -> str:
    """Say which demand figures were taken from a later publication (Markdown); blank when
    every figure was published by the reporting month."""
    if not results.case_notes:
        return ""
    return "*Demand used to weight the caseload targets:* " + " ".join(results.case_notes)


# ---- charts ----------------------------------------------------------------------------------


def variance_heatmap(results: SensitivityResults) -> Figure:
    """The current structure's variance over agency share x premium, with the budget line
    (variance nil) drawn and the scenario's own assumption marked."""
    grid = results.grid
    table = grid[grid["structure"] == results.structure]
    surface = table.pivot(
        index="agency_premium_gbp_per_fte", columns="agency_share", values="variance_gbp"
    )
    figure, ax = new_chart((8, 5))
    shares = surface.columns.to_numpy(dtype=float)
    premiums = surface.index.to_numpy(dtype=float)
    # the grid is evenly spaced, so one cell per pixel of an image, drawn unsmoothed, shows it
    # exactly; as an SVG mesh it was a path per cell (about 300 KB and 0.15 s a chart)
    half_share = (shares[-1] - shares[0]) / max(len(shares) - 1, 1) / 2
    half_premium = (premiums[-1] - premiums[0]) / max(len(premiums) - 1, 1) / 2
    mesh = ax.imshow(
        surface.to_numpy() / 1e6,
        cmap=DIVERGING_CMAP,
        norm=CenteredNorm(vcenter=0.0),
        origin="lower",
        aspect="auto",
        interpolation="none",
        extent=(
            shares[0] - half_share,
            shares[-1] + half_share,
            premiums[0] - half_premium,
            premiums[-1] + half_premium,
        ),
    )
    lines = ax.contour(
        surface.columns,
        surface.index,
        surface.to_numpy(),
        levels=[0.0],
        colors=[REFERENCE_COLOUR],
        linewidths=1.5,
    )
    ax.clabel(lines, fmt={0.0: "budget"}, fontsize=8)
    ax.plot(
        results.scenario.value("agency_share"),
        results.scenario.value("agency_premium_gbp_per_fte"),
        "o",
        color=REFERENCE_COLOUR,
        markerfacecolor="white",
        markersize=8,
        label="Scenario assumption",
    )
    figure.colorbar(mesh, ax=ax, label="Variance against funded budget (£m; + overspend)")
    percent_axis(ax, "x")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"£{v / 1000:,.0f}k"))
    ax.grid(False)
    # above the map's right-hand corner: inside it, the legend hid part of the map
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8, borderaxespad=0.2)
    return finish_chart(
        ax,
        title=f"{_name(results)} structure: variance a year on, by agency share and premium",
        xlabel="Agency share of social worker posts (%)",
        ylabel="Agency premium (£ per FTE per year)",
        source=_source(results),
        legend=False,
    )


def _structure_tornado(results: SensitivityResults) -> pd.DataFrame:
    return results.tornado[results.tornado["structure"] == results.structure]


def tornado_chart(results: SensitivityResults) -> Figure:
    """How far the current structure's variance moves with each assumption at the low and at
    the high end of its range, the assumptions that move it most at the top."""
    ranked = _structure_tornado(results).head(TORNADO_BARS).iloc[::-1]
    labels = [f"{row.assumption} ({row.low:g} to {row.high:g})" for row in ranked.itertuples()]
    now = _structure_row(results.base_point, results.structure)
    figure, ax = new_chart((8, 5.5))
    positions = np.arange(len(ranked))
    ax.barh(positions, ranked["change_at_low_gbp"], color=PALETTE[0], label="At its low end")
    ax.barh(positions, ranked["change_at_high_gbp"], color=PALETTE[5], label="At its high end")
    ax.axvline(0, color=REFERENCE_COLOUR, linewidth=0.8)
    ax.set_yticks(positions, labels)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    gbp_millions_axis(ax, "x")
    return finish_chart(
        ax,
        title=f"{_name(results)} structure: what moves the variance most",
        xlabel=f"Change in variance from {gbp_m(now['variance_gbp'], signed=True)} (£m)",
        ylabel="Assumption (low to high of its range)",
        source=_source(results),
    )


def overspend_histogram(results: SensitivityResults) -> Figure:
    """The simulated variance of the current structure, overspending years in vermillion."""
    simulation = results.simulation
    bars = simulation.histogram[simulation.histogram["structure"] == results.structure]
    odds = _structure_row(simulation.summary, results.structure)
    figure, ax = new_chart()
    colours = [PALETTE[5] if low >= 0 else PALETTE[0] for low in bars["bin_low_gbp"]]
    ax.bar(
        bars["bin_low_gbp"],
        bars["draws_count"],
        width=bars["bin_high_gbp"] - bars["bin_low_gbp"],
        align="edge",
        color=colours,
    )
    ax.axvline(0, color=REFERENCE_COLOUR, linewidth=1.2, label="Funded budget (variance nil)")
    gbp_millions_axis(ax, "x")
    return finish_chart(
        ax,
        title=f"{_name(results)} structure: simulated variance a year on "
        f"(P(overspend) {pct(odds['probability_of_overspend'])})",
        xlabel="Variance against funded budget (£m; + overspend)",
        ylabel="Simulated years (count)",
        source=f"{_source(results)}; {count(simulation.draws)} draws, seed {simulation.seed}",
    )


# ---- tables ----------------------------------------------------------------------------------


def _fte_change(value: float) -> str:
    # blank, not "nan", for assumptions that do not move staffing
    return "" if np.isnan(value) else f"{value:+,.1f}"


def _signed_gbp(value: float) -> str:
    return gbp(value, signed=True)


def _pct_two_places(value: float) -> str:
    return pct(value, decimals=2)


def tornado_table(results: SensitivityResults) -> Styler:
    """Every one-way sensitivity of the current structure, ranked, with the change in
    case-holding FTE for the assumptions that move staffing."""
    shown = format_table(
        _structure_tornado(results)[_TORNADO_COLUMNS],
        {
            "case_holding_fte_change_at_low": _fte_change,
            "case_holding_fte_change_at_high": _fte_change,
            "change_at_low_gbp": _signed_gbp,
            "change_at_high_gbp": _signed_gbp,
        },
    )
    return shown.style.hide(axis="index")


def monte_carlo_table(results: SensitivityResults) -> Styler:
    """Each structure's probability of an overspend (with its standard error) and the spread
    of its simulated variance."""
    shown = format_table(
        results.simulation.summary,
        {
            "draws": count,
            "probability_standard_error": _pct_two_places,
            "probability_of_overspend": pct,
        },
    )
    return shown.style.hide(axis="index")


def per_point_table(results: SensitivityResults) -> Styler:
    """Each structure's variance, cost of one more point of agency share and break-even
    share (a year on, and against the pay and demand its funding was set for)."""
    shown = format_table(
        results.break_even[_PER_POINT_COLUMNS],
        {"variance_gbp": _signed_gbp, "break_even_agency_share_as_funded": pct},
    )
    return shown.style.hide(axis="index")


def assumptions_table(results: SensitivityResults) -> Styler:
    """The assumptions behind the figures as the scenario gives them: value, unit, range,
    distribution and source."""
    return (
        results.assumptions[_ASSUMPTION_COLUMNS]
        .style.hide(axis="index")
        .format({"value": "{:,.4g}", "low": "{:,.4g}", "high": "{:,.4g}"})
    )


def result_tables(results: SensitivityResults) -> dict[str, pd.DataFrame]:
    """Return the tables written to CSV, by name (numbers, not text)."""
    return {
        "sensitivity_base_point": results.base_point,
        "sensitivity_grid": results.grid,
        "sensitivity_tornado": results.tornado,
        "sensitivity_break_even": results.break_even,
        "sensitivity_monte_carlo": results.simulation.summary,
        "sensitivity_histogram": results.simulation.histogram,
        "sensitivity_assumptions": results.assumptions,
    }
