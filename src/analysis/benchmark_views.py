"""Notebook 04 (benchmarking, scorecard and contract sum) in one call
(:func:`run_benchmarking`), and how it shows its results: protected rates, charts, tables and
the generated headline.

This module owns the presentation of :mod:`analysis.benchmark`, :mod:`analysis.scorecard` and
:mod:`analysis.contract` for one council:

* a council's rate per 10,000 children is hidden (with its rank and quartile) wherever the
  count behind it is one that :func:`analysis.disclosure.protect_counts` would not publish
  (1 to 5 children), since the rate and the published population would give the count away;
* charts follow the house style (:mod:`analysis.charts`): title, labelled axes with units, a
  source line and the Okabe-Ito palette; the council is always drawn in the same colour;
* the headline puts the scorecard's four statuses first, so the pack's index shows them at
  the top of this report's entry, and every sentence is written from the figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import benchmark, demand, disclosure, external, scorecard
from analysis import formatting as fmt
from analysis.benchmark import (
    ENGLAND_CODE,
    INDICATORS,
    LOCAL_AUTHORITY,
    RATE_MEASURES,
    SIMILARITY_FEATURES,
)
from analysis.charts import PALETTE, REFERENCE_COLOUR, finish_chart, gbp_millions_axis, new_chart
from analysis.comparisons import ons_region
from analysis.contract import ContractView, contract_view
from analysis.demand_caseload import all_la_accuracy
from analysis.demand_views import MEASURE_LABELS, METHOD_SHORT
from analysis.errors import InputError, Problem
from analysis.results import SCORECARD_LABEL_PREFIX, Headline, HeadlineFigure
from analysis.scenario import Scenario, load_scenario

NOTEBOOK = "04_benchmarking"
TITLE = "Benchmarking, scorecard and contract sum"


@dataclass(frozen=True)
class Benchmarking:
    """Everything notebook 04 shows for one council and reporting month."""

    scenario: Scenario
    view: ContractView
    year: int
    similar: pd.DataFrame
    region_code: str
    region_name: str
    protected: pd.DataFrame
    table: pd.DataFrame
    card: pd.DataFrame
    headline: Headline

    @property
    def similar_codes(self) -> list[str]:
        """ONS codes of the similar councils."""
        return list(self.similar["la_code"])


def run_benchmarking(
    reporting_month: str, scenario_path: str | Path | None, la_code: str
) -> Benchmarking:
    """Benchmark one council against England, its region and similar councils, score it, and
    work out its contract sum, on the figures published by the reporting month.

    Each demand measure of the contract sum is forecast by the method the backtest across
    every council chose (:func:`analysis.demand_caseload.all_la_accuracy`).

    Raises
    ------
    InputError
        For an unknown council, a malformed reporting month, a bad scenario or a bad input
        file, naming each problem.
    """
    scenario = load_scenario(scenario_path or None)
    tidy = external.load_external()
    chosen = demand.choose_methods(all_la_accuracy(tidy, reporting_month))
    view = contract_view(tidy, la_code, reporting_month, scenario, chosen=chosen)
    published = external.published_as_of(tidy, view.reporting_month)
    # Every council's indicators, the same for each council's report of the month.
    values = external.once_per_table(published, "indicator_values", benchmark.indicator_values)
    year = benchmark_year(values, view.la_code)
    similar = similar_or_none(values, view.la_code, year)
    similar_codes = list(similar["la_code"])
    region_code = region_of(values, view.la_code)
    region_name = ons_region(tidy, region_code)[1] if region_code else ""
    protected = protect_rates(values, published, [view.la_code, *similar_codes])
    table = protect_benchmark(
        benchmark.benchmark_table(values, view.la_code, year, similar_codes),
        protected,
        view.la_code,
    )
    card = scorecard.pack_scorecard(
        scorecard.scorecard_inputs(view, scenario), scenario.settings.rag
    )
    return Benchmarking(
        scenario=scenario,
        view=view,
        year=year,
        similar=similar,
        region_code=region_code,
        region_name=region_name,
        protected=protected,
        table=table,
        card=card,
        headline=headline(table, card, view, region_name),
    )


#: The rate indicators and the published count behind each.
RATE_COUNTS: dict[str, str] = {f"{measure}_per_10k": measure for measure in RATE_MEASURES}

#: Where each group of indicators comes from (chart source lines and table notes).
SOURCES: dict[str, str] = {
    "rates": "DfE, Children in need and Children looked after in England (2025 editions); "
    "ONS mid-year population estimates",
    "workforce": "DfE, Children's social work workforce (30 September)",
    "finance": "MHCLG, Revenue account budget (RA) and Revenue outturn (RSX)",
}

#: The colours of the four geographies, the same in every chart.
GEOGRAPHY_COLOURS = {
    "council": PALETTE[5],
    "england": REFERENCE_COLOUR,
    "region": PALETTE[0],
    "similar_councils": PALETTE[2],
}

_LABELS = {i.name: i.label for i in INDICATORS}
_UNITS = {i.name: i.unit for i in INDICATORS}


#: Indicators drawn over the years.
TREND_INDICATORS: tuple[str, ...] = (
    "cla_at_31_march_per_10k",
    "cpp_at_31_march_per_10k",
    "agency_rate_pct",
    "caseload_per_fte",
    "spend_per_child_gbp",
)

#: The comparison charts: indicators, title and the unit on the axis.
COMPARISONS: tuple[tuple[tuple[str, ...], str, str, str], ...] = (
    (tuple(RATE_COUNTS), "Demand: rates per 10,000 children", "Per 10,000 children", "rates"),
    (
        ("agency_rate_pct", "vacancy_rate_pct", "turnover_rate_pct"),
        "Social work workforce",
        "Per cent",
        "workforce",
    ),
    (("caseload_per_fte",), "Caseload", "Cases per case-holding FTE", "workforce"),
    (("spend_per_child_gbp",), "Spend per child", "£ per child aged 0-17 a year", "finance"),
)


def source_of(indicator: str) -> str:
    """The source line of an indicator's chart."""
    if indicator in RATE_COUNTS or indicator == "children_0_17":
        return SOURCES["rates"]
    if indicator in ("spend_per_child_gbp", "outturn_vs_budget"):
        return SOURCES["finance"] + "; ONS mid-year population estimates"
    return SOURCES["workforce"]


# ---- choosing what to compare ----------------------------------------------------------------


def benchmark_year(values: pd.DataFrame, la_code: str) -> int:
    """The latest year in which the council has the characteristics that choose similar
    councils, or else any indicator.

    Raises
    ------
    InputError
        When nothing is published for the council.
    """
    features = benchmark.SIMILARITY_FEATURES
    own = values[values["la_code"] == la_code]
    if own.empty:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="la_code",
                    value=la_code,
                    expected="a council with published figures by the reporting month",
                )
            ]
        )
    needed = {f for f in features if f != "log_population_0_17"} | {"children_0_17"}
    complete = own.groupby("year")["indicator"].agg(lambda names: needed <= set(names))
    years = complete[complete].index
    return int(years.max()) if len(years) else int(own["year"].max())


def similar_or_none(values: pd.DataFrame, la_code: str, year: int) -> pd.DataFrame:
    """The similar councils of ``la_code`` in ``year``, or an empty table when the council
    lacks a characteristic that year (the report then says so)."""
    try:
        return benchmark.similar_councils(values, la_code, year)
    except InputError:
        return pd.DataFrame(columns=["la_code", "la_name", "distance", *SIMILARITY_FEATURES])


def region_of(values: pd.DataFrame, la_code: str) -> str:
    """The council's ONS region code (London for Inner and Outer London), or ``""``."""
    regions = values.loc[values["la_code"] == la_code, "region_code"].dropna()
    return str(regions.iloc[-1]) if len(regions) else ""


def comparison_charts(table: pd.DataFrame, la_name: str) -> list[Figure]:
    """Every comparison chart that has figures."""
    charts = []
    for indicators, title, unit, source in COMPARISONS:
        chart = comparison_chart(
            table,
            indicators,
            title=f"{title}: {la_name}",
            xlabel=unit,
            source=SOURCES[source],
        )
        if chart is not None:
            charts.append(chart)
    return charts


# ---- disclosure ------------------------------------------------------------------------------


def protect_rates(
    values: pd.DataFrame, published: pd.DataFrame, la_codes: Sequence[str]
) -> pd.DataFrame:
    """The indicator values with a council's rate hidden where its count may not be published.

    Parameters
    ----------
    values
        :func:`analysis.benchmark.indicator_values`.
    published
        The tidy published figures the values were computed from.
    la_codes
        The councils shown (the rates of other councils are left as they are: they are only
        used in medians, ranks and quartiles, never shown one by one).

    Returns
    -------
    DataFrame
        ``values`` with the hidden rates set to NaN and a ``symbol`` column (``""``, or the
        disclosure symbol of the count: ``c``).
    """
    shown = published.iloc[external.row_index(published).of_codes(la_codes)]
    counts = shown[
        shown["measure"].isin(list(RATE_COUNTS.values()))
        & shown["value"].notna()
        & (shown["geographic_level"] == LOCAL_AUTHORITY)
    ]
    if "edition" in counts.columns:
        counts = counts.sort_values("edition")
    counts = counts.drop_duplicates(["la_code", "measure", "year"], keep="last")
    protected = values.assign(symbol="")
    if counts.empty:
        return protected
    decided = disclosure.protect_counts(
        counts[["la_code", "measure", "year", "value"]].astype({"year": int}),
        value="value",
        groups=["la_code", "measure", "year"],
        margins_known=False,
    )
    hidden = decided[decided["symbol"] != ""]
    keys = {
        (code, f"{measure}_per_10k", int(year)): symbol
        for code, measure, year, symbol in zip(
            hidden["la_code"], hidden["measure"], hidden["year"], hidden["symbol"], strict=True
        )
    }
    if not keys:
        return protected
    # Only the rows of councils with a hidden count are looked up, not every council's.
    candidates = values["la_code"].isin({code for code, _, _ in keys}).to_numpy(dtype=bool)
    rows = values[candidates]
    symbols = np.full(len(values), "", dtype=object)
    symbols[candidates] = [
        keys.get(key, "")
        for key in zip(rows["la_code"], rows["indicator"], rows["year"].astype(int), strict=True)
    ]
    protected["symbol"] = symbols
    protected.loc[protected["symbol"] != "", "value"] = np.nan
    return protected


def protect_benchmark(table: pd.DataFrame, protected: pd.DataFrame, la_code: str) -> pd.DataFrame:
    """Hide a council's figure, rank, quartile and change wherever its rate is protected."""
    mine = protected[(protected["la_code"] == la_code) & (protected["symbol"] != "")]
    hidden_now = set(mine.loc[mine["year"].isin(table["year"]), "indicator"])
    shown = table.copy()
    mask = shown["indicator"].isin(hidden_now)
    shown.loc[mask, ["council", "rank", "quartile", "change_on_year", "trend_per_year"]] = np.nan
    hidden_before = set(mine.loc[mine["year"].isin(table["year"] - 1), "indicator"])
    shown.loc[shown["indicator"].isin(hidden_before), "change_on_year"] = np.nan
    return shown


# ---- tables ----------------------------------------------------------------------------------


def _format(indicator: str, value: object, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.MISSING
    number = float(value)  # type: ignore[arg-type]
    if indicator == "spend_per_child_gbp":
        return fmt.gbp(number, signed=signed)
    if indicator == "outturn_vs_budget":
        return fmt.pct(number, signed=signed)
    if indicator == "children_0_17":
        return ("+" if signed and number > 0 else "") + fmt.count(number)
    text = fmt.number(number)
    return f"+{text}" if signed and number > 0 else text


def benchmark_display(table: pd.DataFrame) -> pd.DataFrame:
    """The benchmark table written for a committee: one row per indicator."""
    rows = []
    for record in table.to_dict("records"):
        name = record["indicator"]
        rank = record["rank"]
        rows.append(
            {
                "Indicator": record["label"],
                "Unit": record["unit"],
                "Council": _format(name, record["council"]),
                "England": _format(name, record["england"]),
                "Region": _format(name, record["region"]),
                "Similar councils (median)": _format(name, record["similar_councils"]),
                "Rank (1 = highest)": fmt.MISSING
                if pd.isna(rank)
                else f"{int(rank)} of {int(record['councils'])}",
                "Quartile (4 = highest)": fmt.MISSING
                if pd.isna(record["quartile"])
                else str(int(record["quartile"])),
                "Change on year": _format(name, record["change_on_year"], signed=True),
                "Trend a year": _format(name, record["trend_per_year"], signed=True),
            }
        )
    return pd.DataFrame(rows)


def similar_display(similar: pd.DataFrame, protected: pd.DataFrame, year: int) -> pd.DataFrame:
    """The similar councils, nearest first, with the characteristics that chose them."""
    shown = protected[protected["year"] == year]
    rows = []
    for position, record in enumerate(similar.to_dict("records"), start=1):
        own = shown[shown["la_code"] == record["la_code"]].set_index("indicator")["value"]
        rows.append(
            {
                "": position,
                "Council": record["la_name"],
                "ONS code": record["la_code"],
                "Distance": fmt.number(record["distance"], 2),
                "Children aged 0-17": fmt.count(math.exp(record["log_population_0_17"])),
                "Children in need per 10,000": fmt.number(own.get("cin_at_31_march_per_10k")),
                "Child protection plans per 10,000": fmt.number(own.get("cpp_at_31_march_per_10k")),
                "Looked after per 10,000": fmt.number(own.get("cla_at_31_march_per_10k")),
            }
        )
    return pd.DataFrame(rows)


_SCORE_FORMATS = {
    "caseload_vs_target": lambda v: fmt.number(v, 2),
    "agency_share_vs_budgeted": lambda v: fmt.pct(v, signed=True),
    "variance_vs_budget": lambda v: fmt.pct(v, signed=True),
    "demand_vs_forecast": lambda v: fmt.pct(v, signed=True),
}
_RAW_FORMATS = {
    "caseload_vs_target": fmt.number,
    "agency_share_vs_budgeted": fmt.pct,
    "variance_vs_budget": fmt.gbp_m,
    "demand_vs_forecast": fmt.count,
}


def scorecard_display(table: pd.DataFrame) -> pd.DataFrame:
    """The scorecard with each status and the thresholds beside it."""
    rows = []
    for record in table.to_dict("records"):
        name = record["indicator"]
        score = _SCORE_FORMATS[name]
        raw = _RAW_FORMATS[name]
        status = record["status"]
        rows.append(
            {
                "Indicator": record["label"],
                "Status": str(status).upper() if isinstance(status, str) else "NO DATA",
                "Figure": score(record["value"]),
                "Measured as": record["measured_as"],
                "Actual": raw(record["actual"]),
                "Compared with": raw(record["compared_with"]),
                "As at": record["as_at"] or fmt.MISSING,
                "Green at or below": score(record["amber_above"]),
                "Red above": score(record["red_above"]),
            }
        )
    return pd.DataFrame(rows)


def contract_display(view: ContractView) -> pd.DataFrame:
    """The contract-sum table, year by year."""
    summary = view.summary
    return pd.DataFrame(
        {
            "Financial year": summary["financial_year"],
            "Social work FTE": [fmt.fte(v) for v in summary["required_fte"]],
            "Cost per FTE": [fmt.gbp(v) for v in summary["cost_per_fte_gbp"]],
            "Staffing": [fmt.gbp_m(v) for v in summary["staffing_cost_gbp"]],
            "Placements": [fmt.gbp_m(v) for v in summary["placement_cost_gbp"]],
            "Contract cost": [fmt.gbp_m(v) for v in summary["contract_cost_gbp"]],
            "80% interval": [
                f"{fmt.gbp_m(lo)} to {fmt.gbp_m(hi)}"
                for lo, hi in zip(
                    summary["contract_cost_lower_80_gbp"],
                    summary["contract_cost_upper_80_gbp"],
                    strict=True,
                )
            ],
            "95% interval": [
                f"{fmt.gbp_m(lo)} to {fmt.gbp_m(hi)}"
                for lo, hi in zip(
                    summary["contract_cost_lower_95_gbp"],
                    summary["contract_cost_upper_95_gbp"],
                    strict=True,
                )
            ],
            "Budget (RA)": [fmt.gbp_m(v) for v in summary["budget_gbp"]],
            "Gap (cost - budget)": [fmt.gbp_m(v, signed=True) for v in summary["gap_gbp"]],
            "Chance the budget is short": [chance(v) for v in summary["probability_insufficient"]],
            "Chance, demand alone": [
                chance(v) for v in summary["probability_insufficient_demand_only"]
            ],
        }
    )


# ---- charts ----------------------------------------------------------------------------------


def comparison_chart(
    table: pd.DataFrame, indicators: Sequence[str], *, title: str, xlabel: str, source: str
) -> Figure | None:
    """Horizontal bars: the council, England, its region and similar councils, per indicator,
    with the council's rank and quartile in each label."""
    rows = table.set_index("indicator").reindex(list(indicators)).dropna(how="all")
    rows = rows[rows[["council", "england", "region", "similar_councils"]].notna().any(axis=1)]
    if rows.empty:
        return None
    height = 1.2 + 0.9 * len(rows)
    figure, ax = new_chart((8.0, height))
    series = [
        ("council", "This council"),
        ("region", "Region"),
        ("similar_councils", "Similar councils (median)"),
        ("england", "England"),
    ]
    bar = 0.8 / len(series)
    positions = np.arange(len(rows))
    for offset, (column, label) in enumerate(series):
        ax.barh(
            positions - 0.4 + bar * (offset + 0.5),
            rows[column].astype(float).fillna(0.0),
            height=bar,
            color=GEOGRAPHY_COLOURS[column],
            label=label,
        )
    labels = []
    for _name, record in rows.iterrows():
        rank = (
            ""
            if pd.isna(record["rank"])
            else f"\nrank {int(record['rank'])} of {int(record['councils'])}, "
            f"quartile {int(record['quartile'])}"
        )
        labels.append(f"{record['label']}{rank}")
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.grid(axis="x", color="#dddddd")
    ax.grid(axis="y", visible=False)
    # beside the bars: inside, the legend of a one- or two-indicator chart covers them
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    finish_chart(ax, title=title, xlabel=xlabel, ylabel="Indicator", source=source, legend=False)
    return figure


def trend_chart(
    values: pd.DataFrame,
    indicator: str,
    la_code: str,
    la_name: str,
    region_code: str,
    similar: Sequence[str],
    *,
    source: str,
) -> Figure | None:
    """One indicator over the years: the council, England, its region and similar councils."""
    rows = values[values["indicator"] == indicator]
    council = rows[rows["la_code"] == la_code].set_index("year")["value"].sort_index()
    if council.dropna().empty:
        return None
    years = sorted(rows.loc[rows["year"] >= council.index.min(), "year"].unique())
    lines = {
        "council": council,
        "england": rows[rows["la_code"] == ENGLAND_CODE].set_index("year")["value"],
        "region": rows[rows["la_code"] == region_code].set_index("year")["value"],
        "similar_councils": rows[rows["la_code"].isin(list(similar))]
        .groupby("year")["value"]
        .median(),
    }
    labels = {
        "council": la_name,
        "england": "England",
        "region": "Region",
        "similar_councils": "Similar councils (median)",
    }
    figure, ax = new_chart()
    for key, line in lines.items():
        line = line.reindex(years)
        if line.dropna().empty:
            continue
        ax.plot(
            line.index,
            line.to_numpy(dtype=float),
            marker="o",
            color=GEOGRAPHY_COLOURS[key],
            linestyle="-" if key == "council" else "--",
            label=labels[key],
        )
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    finish_chart(
        ax,
        title=f"{_LABELS[indicator]}: {la_name} over time",
        xlabel="Reporting year (year ending 31 March; workforce at 30 September)",
        ylabel=_UNITS[indicator].capitalize(),
        source=source,
    )
    return figure


def contract_chart(view: ContractView) -> Figure | None:
    """Staffing and placement cost by year, the 80% and 95% range of the total, and the
    council's budget."""
    summary = view.summary
    if summary.empty:
        return None
    figure, ax = new_chart()
    x = np.arange(len(summary))
    ax.bar(x, summary["staffing_cost_gbp"], color=PALETTE[0], label="Social work staffing")
    ax.bar(
        x,
        summary["placement_cost_gbp"],
        bottom=summary["staffing_cost_gbp"],
        color=PALETTE[1],
        label="Placements",
    )
    central = summary["contract_cost_gbp"].to_numpy(dtype=float)
    for bound, width, label in (("95", 1.0, "95% interval"), ("80", 2.5, "80% interval")):
        low = summary[f"contract_cost_lower_{bound}_gbp"].to_numpy(dtype=float)
        high = summary[f"contract_cost_upper_{bound}_gbp"].to_numpy(dtype=float)
        ax.errorbar(
            x,
            central,
            yerr=[central - low, high - central],
            fmt="none",
            ecolor=REFERENCE_COLOUR,
            elinewidth=width,
            capsize=4 if bound == "95" else 0,
            label=label,
        )
    if summary["budget_gbp"].notna().any():
        ax.plot(
            x,
            summary["budget_gbp"],
            color=PALETTE[5],
            linestyle="--",
            marker="D",
            label=f"Budget (RA {view.budget_year}, held flat)",
        )
    ax.set_xticks(x, summary["financial_year"])
    gbp_millions_axis(ax)
    top = np.nanmax([*summary["contract_cost_upper_95_gbp"], *summary["budget_gbp"]])
    ax.set_ylim(0, top * 1.4)  # room above the bars for the legend
    finish_chart(
        ax,
        title=f"Cost the contract sum must cover: {view.la_name}",
        xlabel="Financial year",
        ylabel="Cost a year (£ millions)",
        source="Forecast of DfE demand statistics; scenario caseload targets, pay and unit "
        "costs; MHCLG RA budget",
        legend=False,
    )
    ax.legend(loc="upper left", ncol=3, fontsize=8)
    return figure


# ---- headline --------------------------------------------------------------------------------


def _threshold_note(record: dict) -> str:
    score = _SCORE_FORMATS[record["indicator"]]
    return (
        f"{record['measured_as']}: green at or below {score(record['amber_above'])}, "
        f"red above {score(record['red_above'])}"
    )


def scorecard_figures(table: pd.DataFrame) -> list[HeadlineFigure]:
    """The scorecard as headline figures, with the thresholds in each note."""
    figures = []
    for record in table.to_dict("records"):
        status = record["status"] if isinstance(record["status"], str) else None
        figures.append(
            HeadlineFigure(
                label=f"{SCORECARD_LABEL_PREFIX}{record['label']}",
                value=_SCORE_FORMATS[record["indicator"]](record["value"]),
                rag=status,  # type: ignore[arg-type]
                note=_threshold_note(record),
            )
        )
    return figures


def _rate_sentence(table: pd.DataFrame, la_name: str, region_name: str) -> str | None:
    row = table.set_index("indicator").loc["cla_at_31_march_per_10k"]
    if pd.isna(row["council"]):
        return None
    text = (
        f"In the year to 31 March {int(row['year'])} {la_name} looked after "
        f"{fmt.number(row['council'])} children per 10,000 (England {fmt.number(row['england'])}"
    )
    if region_name and pd.notna(row["region"]):
        text += f", {region_name} {fmt.number(row['region'])}"
    if pd.notna(row["similar_councils"]):
        text += f", similar councils {fmt.number(row['similar_councils'])}"
    text += ")"
    if pd.notna(row["rank"]):
        text += f", the {_ordinal(int(row['rank']))} highest of {int(row['councils'])} councils"
    return text + "."


def chance(probability: float) -> str:
    """Write a probability for a reader: ``23%``, ``less than 1%``, ``more than 99%``."""
    if pd.isna(probability):
        return fmt.MISSING
    if probability < 0.005:
        return "less than 1%"
    if probability > 0.995:
        return "more than 99%"
    return fmt.pct(probability, decimals=0)


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _scorecard_sentence(table: pd.DataFrame) -> str:
    by_status: dict[str, list[str]] = {}
    for record in table.to_dict("records"):
        status = record["status"] if isinstance(record["status"], str) else "no data"
        by_status.setdefault(status, []).append(str(record["label"]).lower())
    parts = [
        f"{status.upper() if status != 'no data' else 'no data'} for {' and '.join(labels)}"
        for status in ("red", "amber", "green", "no data")
        if (labels := by_status.get(status))
    ]
    return "Scorecard: " + "; ".join(parts) + "."


def _contract_sentence(view: ContractView) -> str | None:
    summary = view.summary
    if summary.empty:
        return None
    last = summary.iloc[-1]
    text = (
        f"Staffing and placements for the forecast demand would cost "
        f"{fmt.gbp_m(summary['contract_cost_gbp'].iloc[0])} in {summary['financial_year'].iloc[0]} "
        f"and {fmt.gbp_m(last['contract_cost_gbp'])} in {last['financial_year']} (80% interval "
        f"{fmt.gbp_m(last['contract_cost_lower_80_gbp'])} to "
        f"{fmt.gbp_m(last['contract_cost_upper_80_gbp'])})"
    )
    if pd.notna(last["budget_gbp"]):
        text += (
            f", against a children's social care budget of {fmt.gbp_m(last['budget_gbp'])} "
            f"(RA {view.budget_year}, held flat): a "
            f"{chance(last['probability_insufficient'])} chance that the budget "
            f"would not cover them in {last['financial_year']}"
        )
    return text + "."


def headline(
    table: pd.DataFrame,
    scorecard_table: pd.DataFrame,
    view: ContractView,
    region_name: str,
) -> Headline:
    """The generated headline of notebook 04: the scorecard first, then the benchmark and the
    contract sum.

    Parameters
    ----------
    table
        The protected benchmark table (:func:`protect_benchmark`).
    scorecard_table
        :func:`analysis.scorecard.pack_scorecard`.
    view
        The contract view.
    region_name
        The council's ONS region.
    """
    sentences = [_scorecard_sentence(scorecard_table)]
    for sentence in (_rate_sentence(table, view.la_name, region_name), _contract_sentence(view)):
        if sentence:
            sentences.append(sentence)
    figures = scorecard_figures(scorecard_table)
    summary = view.summary
    if len(summary):
        last = summary.iloc[-1]
        figures.append(
            HeadlineFigure(
                label=f"Contract cost {last['financial_year']} (staffing and placements)",
                value=fmt.gbp_m(last["contract_cost_gbp"]),
                note=f"80% interval {fmt.gbp_m(last['contract_cost_lower_80_gbp'])} to "
                f"{fmt.gbp_m(last['contract_cost_upper_80_gbp'])}",
            )
        )
        if pd.notna(last["probability_insufficient"]):
            figures.append(
                HeadlineFigure(
                    label=f"Chance the budget does not cover it, {last['financial_year']}",
                    value=chance(last["probability_insufficient"]),
                    note=f"budget {fmt.gbp_m(last['budget_gbp'])} (RA {view.budget_year})",
                )
            )
    return Headline(
        notebook=NOTEBOOK,
        title=f"{TITLE}: {view.la_name}",
        summary=" ".join(sentences),
        figures=tuple(figures),
    )


def headline_table(headline_: Headline) -> pd.DataFrame:
    """The headline figures as a small table for the top of the notebook."""
    return pd.DataFrame(
        {
            "Figure": [f.label for f in headline_.figures],
            "Value": [f.value for f in headline_.figures],
            "Status": [(f.rag or "").upper() for f in headline_.figures],
            "Note": [f.note for f in headline_.figures],
        }
    )


def about(
    view: ContractView, scenario_name: str, year: int, region_name: str, similar: pd.DataFrame
) -> str:
    """What this report compares, for which year, and with whom (Markdown)."""
    names = ", ".join(similar["la_name"]) if len(similar) else ""
    group = (
        f"The {len(similar)} similar councils are {names}."
        if names
        else "No similar councils could be chosen: the council lacks a published "
        f"characteristic for {year}."
    )
    return (
        f"**About this report.** {view.la_name} ({view.la_code}), reporting month "
        f"{view.reporting_month}, scenario *{scenario_name}*. Benchmarks are for the reporting "
        f"year {year} (year ending 31 March {year}; the workforce at 30 September {year}; "
        f"finance for {year - 1}/{year % 100:02d}), the latest published by the reporting "
        f"month. The region is {region_name or 'not known'}. {group}"
    )


def contract_notes(view: ContractView) -> str:
    """How the contract sum was worked out, and what it leaves out (Markdown)."""
    used = view.forecast.drop_duplicates("measure")
    methods = "; ".join(
        f"{MEASURE_LABELS.get(measure, measure)}: {METHOD_SHORT.get(method, method)}"
        for measure, method in zip(used["measure"], used["method"], strict=True)
    )
    lines = [
        f"**Method.** Demand: each measure forecast, with its 80% and 95% intervals, by the "
        f"method the backtest across every English council chose ({methods}); stocks averaged "
        f"over each year's opening and closing 31 March. Each FTE costs the salary with "
        f"on-costs of an eligible post plus the agency premium, recruitment and retention "
        f"uplift at the scenario's rates, at {view.price_base_year} prices plus the "
        f"scenario's pay award each year. Placements: "
        f"{fmt.gbp(view.placement_cost_per_child_gbp)} a year per child looked after (England "
        f"placement mix, scenario unit costs). {view.method_note}",
        "**Scope.** The RA budget covers the whole children's social care service, so the gap "
        "is what staffing and placements leave for everything else the service funds.",
    ]
    lines += [f"*Note:* {note}" for note in view.notes]
    return "\n\n".join(lines)
