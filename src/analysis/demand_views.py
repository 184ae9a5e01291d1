"""How notebook 01 (demand and caseload) shows its results: protected counts, charts, tables
and the generated headline.

This module owns the presentation of a :class:`analysis.demand_caseload.DemandCaseload`:

* every count of children for the LA (published history, forecasts and their interval
  bounds, cases by team) goes through :func:`analysis.disclosure.protect_counts` before it is
  drawn, tabulated, written to a results table or quoted in the headline, so a count of 1 to 5
  is never shown (nor a rate per 10,000 that would give it away);
* charts follow the house style (:mod:`analysis.charts`): title, labelled axes with units, a
  source line and the Okabe-Ito palette; forecast intervals are drawn with ``fill_between``;
* the headline paragraph is written from the figures, never typed.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import disclosure
from analysis import formatting as fmt
from analysis.charts import PALETTE, RAG_COLOURS, REFERENCE_COLOUR, finish_chart, new_chart
from analysis.demand import METHOD_DESCRIPTIONS
from analysis.demand_caseload import BOUNDS, MEASURE_LABELS, DemandCaseload
from analysis.periods import financial_year_label
from analysis.results import Headline, HeadlineFigure
from analysis.workforce import ROLE_LABELS, ROLES, TEAM_LABELS

NOTEBOOK = "01_demand_and_caseload"

SOURCE_DEMAND = {
    "referrals": "DfE, Children in need (referrals), 2025 edition",
    "cin_at_31_march": "DfE, Children in need, 2025 edition",
    "cpp_at_31_march": "DfE, Children in need (child protection plans), 2025 edition",
    "cla_at_31_march": "DfE, Children looked after in England, 2010-2017 and 2025 editions",
    "care_leavers_17_18": "DfE, Children looked after in England (care leavers), 2025 edition",
    "care_leavers_19_21": "DfE, Children looked after in England (care leavers), 2025 edition",
}
SOURCE_WORKFORCE = "DfE, Children's social work workforce (30 September), 2025 edition"
SOURCE_POPULATION = "ONS mid-year estimates of children aged 0-17"
SOURCE_FINANCE = "MHCLG, Revenue account budget (RA) and outturn (RSX)"

UNITS = {"referrals": "Referrals in the year"}
MONTHLY_LABELS = {
    **MEASURE_LABELS,
    "referrals": "Referrals in the month",
    "cin_at_31_march": "Children in need at month end",
    "cpp_at_31_march": "Children on a child protection plan at month end",
    "cla_at_31_march": "Children looked after at month end",
    "care_leavers": "Care leavers the council supports, at month end",
}
UNITS_MONTHLY = {"referrals": "Referrals in the month", "care_leavers": "Young people"}
SOURCE_LOCAL = "The council's monthly demand extract (data/raw/local/demand_monthly.csv)"

#: Short names of the forecasting methods for chart legends.
METHOD_SHORT = {
    "naive": "last value",
    "seasonal_naive": "seasonal naive",
    "drift": "drift",
    "ses": "simple exponential smoothing",
    "holt": "Holt's linear trend",
    "damped_holt": "damped trend",
    "arima": "ARIMA",
}

SUPPRESSION_NOTE = (
    "As in the DfE's own statistics, a count of 1 to 5 children for a council is not shown "
    "(written 'c'), nor anything from which it could be worked out; 'x' marks a figure the "
    "DfE did not publish."
)


def _rag(ratio: float, amber: float, red: float) -> str | None:
    if not math.isfinite(ratio):
        return None
    if ratio > red:
        return "red"
    return "amber" if ratio > amber else "green"


def protected_counts(result: DemandCaseload) -> pd.DataFrame:
    """The LA's published counts and forecasts (with bounds), after disclosure control.

    Returns
    -------
    DataFrame
        One row per measure and period end: ``measure``, ``period_end``, ``year``,
        ``method`` (blank for published years), ``published`` and each of :data:`BOUNDS`,
        with hidden cells NaN, and a ``<column>_symbol`` for each (``c``, ``x`` or blank).
    """
    history = result.history.assign(kind="published")[["measure", "period_end", "kind", "count"]]
    forecast = result.forecast.melt(
        id_vars=["measure", "period_end"], value_vars=list(BOUNDS), var_name="kind"
    ).rename(columns={"value": "count"})
    long = pd.concat([history, forecast], ignore_index=True)
    long["period_end"] = pd.to_datetime(long["period_end"])
    if long.empty:
        kinds = ["published", *BOUNDS]
        columns = ["measure", "period_end", "year", "method", *kinds]
        return pd.DataFrame(columns=[*columns, *(f"{kind}_symbol" for kind in kinds)])
    protected = disclosure.protect_counts(
        long, value="count", groups=["measure", "period_end", "kind"], margins_known=False
    )
    # Each (measure, period end, kind) is one cell, so a plain pivot keeps only the rows
    # that exist (pivot_table with dropna=False would invent every measure x date pair).
    kinds = ["published", *BOUNDS]
    keys = ["measure", "period_end"]
    wide = protected.pivot(index=keys, columns="kind", values="count").reindex(columns=kinds)
    symbols = protected.pivot(index=keys, columns="kind", values="symbol").reindex(
        index=wide.index, columns=kinds
    )
    wide.columns.name = None
    for kind in kinds:
        wide[f"{kind}_symbol"] = [s if isinstance(s, str) else "" for s in symbols[kind]]
    wide = wide.reset_index()
    methods = result.forecast.drop_duplicates("measure").set_index("measure")["method"]
    wide["method"] = wide["measure"].map(methods)
    is_forecast = wide["forecast"].notna() | (wide["forecast_symbol"] != "")
    wide.loc[~is_forecast, "method"] = None
    wide["year"] = wide["period_end"].dt.year
    columns = ["measure", "period_end", "year", "method", *kinds]
    return wide[[*columns, *(f"{kind}_symbol" for kind in kinds)]].sort_values(
        ["measure", "period_end"], ignore_index=True
    )


def suppressed_count(protected: pd.DataFrame) -> int:
    """How many published or forecast figures of the LA are hidden as 'c'."""
    return int(
        (protected["published_symbol"] == "c").sum() + (protected["forecast_symbol"] == "c").sum()
    )


def next_year_figures(result: DemandCaseload) -> dict[tuple[str, str], str]:
    """Each forecast measure's figure for next year (central and 80% bounds), protected and
    written for text (``1,234``, ``c``); a flow from monthly data is its year's total."""
    cells = [
        {"measure": m, "bound": b, "count": result.next_year_value(m, b)}
        for m in dict.fromkeys(result.forecast["measure"])
        for b in ("forecast", "lower_80", "upper_80")
    ]
    cells = [c for c in cells if pd.notna(c["count"])]
    if not cells:
        return {}
    protected = disclosure.protect_counts(
        pd.DataFrame(cells), value="count", groups=["measure", "bound"], margins_known=False
    )
    return {
        (row.measure, row.bound): disclosure.format_count(row.count, row.symbol)
        for row in protected.itertuples()
    }


def demand_chart(
    protected: pd.DataFrame, measure: str, la_name: str, frequency: str = "annual"
) -> Figure | None:
    """History and forecast of one measure with its 80% and 95% intervals shaded."""
    rows = protected[protected["measure"] == measure]
    if rows.empty or rows[["published", "forecast"]].isna().all().all():
        return None
    figure, ax = new_chart()
    history = rows[rows["method"].isna()]
    ahead = rows[rows["method"].notna()]
    # Years the DfE did not publish (2018-2020 for LA children looked after) break the line.
    if len(history) and frequency == "annual":
        years = range(int(history["year"].min()), int(history["year"].max()) + 1)
        history = (
            history.set_index("year")
            .reindex(years)
            .assign(period_end=lambda f: pd.to_datetime([f"{y}-03-31" for y in f.index]))
            .reset_index()
        )
    monthly = frequency == "monthly"
    ax.plot(
        history["period_end"],
        history["published"],
        marker="" if monthly else "o",
        color=PALETTE[0],
        label="Council's monthly figures" if monthly else "Published",
    )
    if len(ahead):
        last = history.dropna(subset=["published"]).tail(1)
        joined = pd.concat(
            [
                last.assign(
                    forecast=last["published"],
                    lower_80=last["published"],
                    upper_80=last["published"],
                    lower_95=last["published"],
                    upper_95=last["published"],
                ),
                ahead,
            ]
        )
        ax.fill_between(
            joined["period_end"],
            joined["lower_95"],
            joined["upper_95"],
            color=PALETTE[1],
            alpha=0.2,
            linewidth=0,
            label="95% interval",
        )
        ax.fill_between(
            joined["period_end"],
            joined["lower_80"],
            joined["upper_80"],
            color=PALETTE[1],
            alpha=0.4,
            linewidth=0,
            label="80% interval",
        )
        method = str(ahead["method"].iloc[0])
        ax.plot(
            joined["period_end"],
            joined["forecast"],
            linestyle="--",
            marker="" if monthly else "o",
            color=PALETTE[5],
            label=f"Forecast ({METHOD_SHORT.get(method, method)})",
        )
    ax.set_ylim(bottom=0)
    finish_chart(
        ax,
        title=f"{(MONTHLY_LABELS if monthly else MEASURE_LABELS).get(measure)}: {la_name}",
        xlabel="Month" if monthly else "Year ending 31 March",
        ylabel=(UNITS_MONTHLY if monthly else UNITS).get(measure, "Children"),
        source=f"{SOURCE_LOCAL if monthly else SOURCE_DEMAND[measure]}; forecast by this pack",
    )
    return figure


def protected_rates(result: DemandCaseload) -> pd.DataFrame:
    """Rates per 10,000, with the LA's rate hidden where its count is hidden."""
    rates = result.rates.copy()
    if rates.empty:
        return rates
    own = rates["la_code"] == result.la_code
    counts = rates.loc[own, ["measure", "year", "count"]]
    if len(counts):
        protected = disclosure.protect_counts(
            counts, value="count", groups=["measure", "year"], margins_known=False
        )
        hidden = protected["count"].isna().to_numpy()
        index = rates.index[own]
        rates.loc[index[hidden], ["count", "rate_per_10k"]] = np.nan
    return rates


def rates_chart(rates: pd.DataFrame, measure: str, geographies: list[str]) -> Figure | None:
    """A measure per 10,000 children for the LA, its region and England."""
    rows = rates[rates["measure"] == measure]
    if rows.empty:
        return None
    figure, ax = new_chart()
    styles = [("-", "o"), ("--", "s"), (":", "^")]
    for position, geography in enumerate(geographies):
        line = rows[rows["geography"] == geography].sort_values("period_end")
        if line.empty:
            continue
        linestyle, marker = styles[position % len(styles)]
        ax.plot(
            line["period_end"],
            line["rate_per_10k"],
            linestyle=linestyle,
            marker=marker,
            color=PALETTE[position] if position < 2 else REFERENCE_COLOUR,
            label=geography,
        )
    ax.set_ylim(bottom=0)
    finish_chart(
        ax,
        title=f"{MEASURE_LABELS[measure]} per 10,000 children",
        xlabel="Year ending 31 March",
        ylabel="Per 10,000 children aged 0-17",
        source=f"{SOURCE_DEMAND[measure]}; {SOURCE_POPULATION}",
    )
    return figure


def caseload_chart(result: DemandCaseload) -> Figure | None:
    """Published caseload per case-holding FTE (LA, region, England) against the target."""
    table = result.caseloads.dropna(subset=["caseload_per_fte"])
    if table.empty:
        return None
    figure, ax = new_chart()
    for position, geography in enumerate(dict.fromkeys(table["geography"])):
        line = table[table["geography"] == geography].sort_values("period_end")
        ax.plot(
            line["period_end"],
            line["caseload_per_fte"],
            marker="os^"[position % 3],
            linestyle=["-", "--", ":"][position % 3],
            color=PALETTE[position] if position < 2 else REFERENCE_COLOUR,
            label=geography,
        )
    own = own_caseload(result)
    if math.isfinite(own):
        when = pd.Period(result.actual.as_at, freq="M").to_timestamp(how="end")
        ax.plot(
            [when], [own], marker="D", linestyle="", color=PALETTE[5], label="Council's extract"
        )
    if math.isfinite(result.caseload_target):
        ax.axhline(
            result.caseload_target,
            color=RAG_COLOURS["red"],
            linestyle="-.",
            label=f"Target (cases weighted), {result.caseload_target:.1f}",
        )
    ax.set_ylim(bottom=0)
    finish_chart(
        ax,
        title="Caseload per case-holding social worker",
        xlabel="30 September of year",
        ylabel="Cases per case-holding FTE",
        source=f"{SOURCE_WORKFORCE}; target from the scenario's caseload_target_* assumptions",
    )
    return figure


def fte_chart(result: DemandCaseload) -> Figure | None:
    """FTE required (by role) beside the FTE in post by contract type."""
    if result.required.empty or result.actual is None:
        return None
    figure, ax = new_chart()
    bars: list[tuple[str, list[tuple[str, float, str]]]] = []
    for basis, label in (("latest", "Required,\n{year} cases"), ("next_year", "Required,\n{year}")):
        rows = result.required[result.required["basis"] == basis]
        if rows.empty:
            continue
        by_role = rows.groupby("role")["required_fte"].sum()
        parts = [
            (ROLE_LABELS[role], float(by_role.get(role, 0.0)), PALETTE[i])
            for i, role in enumerate(reversed(ROLES))
        ]
        bars.append((label.format(year=int(rows["year"].iloc[0])), parts))
    actual = result.actual
    bars.append(
        (
            f"In post,\n{actual.as_at[:7]}",
            [
                ("Permanent", actual.permanent_fte, PALETTE[4]),
                ("Agency", actual.agency_fte, PALETTE[5]),
                ("Vacant", actual.vacant_fte, "none"),
            ],
        )
    )
    seen: set[str] = set()
    for position, (_label, parts) in enumerate(bars):
        bottom = 0.0
        # a figure the DfE did not publish (suppressed) adds nothing, and the total says so
        missing = [name.lower() for name, value, _ in parts if not math.isfinite(value)]
        for name, value, colour in parts:
            if not math.isfinite(value):
                continue
            hatch = "//" if colour == "none" else None
            ax.bar(
                position,
                value,
                bottom=bottom,
                color="white" if colour == "none" else colour,
                edgecolor=REFERENCE_COLOUR if colour == "none" else "white",
                hatch=hatch,
                label=None if name in seen else name,
            )
            seen.add(name)
            bottom += value
        unpublished = f"\n({', '.join(missing)} not published)" if missing else ""
        ax.text(
            position, bottom, fmt.fte(bottom) + unpublished, ha="center", va="bottom", fontsize=9
        )
    upper = result.required[result.required["basis"] == "next_year_upper_80"]
    lower = result.required[result.required["basis"] == "next_year_lower_80"]
    if len(upper) and len(lower):
        central = result.required[result.required["basis"] == "next_year"]["required_fte"].sum()
        ax.errorbar(
            1,
            central,
            yerr=[[central - lower["required_fte"].sum()], [upper["required_fte"].sum() - central]],
            color=REFERENCE_COLOUR,
            capsize=6,
            label="80% interval of demand",
        )
    ax.set_xticks(range(len(bars)), [label for label, _ in bars])
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    finish_chart(
        ax,
        title="Social worker FTE required and in post",
        xlabel="",
        ylabel="Full-time equivalents (FTE)",
        source=f"{SOURCE_WORKFORCE}; required FTE from the scenario's caseload targets",
        legend=False,
    )
    return figure


def placement_chart(result: DemandCaseload) -> Figure | None:
    """Forecast placement cost (with intervals) beside the published budget and spend."""
    table = protected_placement_cost(result)
    if table.empty:
        return None
    figure, ax = new_chart()
    years = list(table["financial_year"])
    x = np.arange(len(years))
    width = 0.2
    series = [
        ("csc_budget_gbp", "Budget, all children's social care (RA)", PALETTE[4]),
        ("cla_budget_gbp", "Budget, children looked after line (RA)", PALETTE[2]),
        ("csc_net_outturn_gbp", "Net spend, all children's social care (RSX)", PALETTE[0]),
        ("placement_cost_gbp", "Forecast placement cost (England mix)", PALETTE[1]),
    ]
    for offset, (column, label, colour) in enumerate(series):
        if column not in table or table[column].isna().all():
            continue
        values = table[column].astype(float) / 1e6
        ax.bar(x + (offset - 1.5) * width, values, width, label=label, color=colour)
    if "placement_cost_gbp" in table and table["placement_cost_gbp"].notna().any():
        central = table["placement_cost_gbp"].astype(float) / 1e6
        for bound, colour in (("95", PALETTE[5]), ("80", REFERENCE_COLOUR)):
            low = table[f"placement_cost_lower_{bound}_gbp"].astype(float) / 1e6
            high = table[f"placement_cost_upper_{bound}_gbp"].astype(float) / 1e6
            ax.errorbar(
                x + 1.5 * width,
                central,
                yerr=[central - low, high - central],
                fmt="none",
                ecolor=colour,
                capsize=4 if bound == "80" else 7,
                label=f"{bound}% interval of demand",
            )
    ax.set_xticks(x, years)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    finish_chart(
        ax,
        title="Placement cost of the forecast, beside budget and spend",
        xlabel="Financial year",
        ylabel="£ million",
        source=f"{SOURCE_FINANCE}; forecast: scenario unit costs, England placement mix",
        legend=False,
    )
    return figure


def accuracy_table(result: DemandCaseload) -> pd.DataFrame:
    """The backtest's accuracy of each measure's chosen method beside the last-value baseline
    (the honest comparison: a method earns its place by beating carrying the last value on)."""
    table = result.accuracy
    if len(table):
        keep = [
            method in ("naive", result.chosen.get(measure))
            for measure, method in zip(table["measure"], table["method"], strict=True)
        ]
        table = table[keep]
    if table.empty:
        return pd.DataFrame(
            columns=[
                "Measure",
                "Method",
                "Chosen",
                "MAPE",
                "MASE",
                "In 80% interval",
                "In 95% interval",
                "Forecasts scored",
            ]
        )
    shown = pd.DataFrame(
        {
            "Measure": table["measure"].map(
                MONTHLY_LABELS if result.frequency == "monthly" else MEASURE_LABELS
            ),
            "Method": table["method"].map(lambda m: METHOD_DESCRIPTIONS.get(m, m)),
            "Chosen": [
                "yes" if result.chosen.get(m) == method else ""
                for m, method in zip(table["measure"], table["method"], strict=True)
            ],
            "MAPE": [fmt.number(v, 1) + "%" if pd.notna(v) else fmt.MISSING for v in table["mape"]],
            "MASE": [fmt.number(v, 2) for v in table["mase"]],
            "In 80% interval": [fmt.pct(v, decimals=0) for v in table["coverage_80"]],
            "In 95% interval": [fmt.pct(v, decimals=0) for v in table["coverage_95"]],
            "Forecasts scored": table["n_forecasts"].astype(int),
        }
    )
    return shown


def cases_table(result: DemandCaseload) -> pd.DataFrame:
    """Cases by team and the FTE each needs, with cases protected (a count of children)."""
    if result.required.empty:
        return pd.DataFrame()
    rows = []
    for basis in ("latest", "next_year"):
        cases = result.cases[result.cases["basis"] == basis]
        required = result.required[result.required["basis"] == basis]
        if cases.empty:
            continue
        protected = disclosure.protect_counts(
            cases.assign(cases=cases["cases"].round())[["team", "cases"]],
            value="cases",
            groups=["team"],
            margins_known=False,
        ).set_index("team")
        year = int(cases["year"].iloc[0])
        for team in cases["team"]:
            team_rows = required[required["team"] == team]
            rows.append(
                {
                    "Year to 31 March": year,
                    "Team": TEAM_LABELS[team],
                    "Cases": disclosure.format_count(
                        protected.loc[team, "cases"], protected.loc[team, "symbol"]
                    ),
                    "Caseload target": fmt.number(
                        team_rows.loc[team_rows["role"] == "social_worker", "caseload_target"].iloc[
                            0
                        ],
                        0,
                    ),
                    "Team managers": fmt.fte(
                        team_rows.loc[team_rows["role"] == "team_manager", "fte_for_cases"].sum()
                    ),
                    "Case-holding FTE": fmt.fte(
                        team_rows.loc[team_rows["role"] != "team_manager", "fte_for_cases"].sum()
                    ),
                    "FTE with allowances": fmt.fte(team_rows["required_fte"].sum()),
                }
            )
    return pd.DataFrame(rows)


def placement_table(result: DemandCaseload) -> pd.DataFrame:
    """Forecast placement cost and published budget/spend, written in £."""
    table = protected_placement_cost(result)
    if table.empty:
        return pd.DataFrame()
    columns = {
        "financial_year": "Financial year",
        "csc_budget_gbp": "Budget, children's social care",
        "cla_budget_gbp": "Budget, children looked after",
        "csc_net_outturn_gbp": "Net spend, children's social care",
        "placement_cost_gbp": "Forecast placement cost",
        "placement_cost_lower_80_gbp": "80% low",
        "placement_cost_upper_80_gbp": "80% high",
        "placement_cost_at_la_mix_gbp": "At the council's own mix",
    }
    present = [c for c in columns if c in table]
    shown = table[present].copy()
    for column in present[1:]:
        shown[column] = [fmt.gbp_m(v) for v in shown[column]]
    return shown.rename(columns=columns)


def own_caseload(result: DemandCaseload) -> float:
    """Cases per case-holding FTE in the council's own workforce extract (NaN without one)."""
    actual = result.actual
    if actual is None or actual.source != "council workforce extract":
        return math.nan
    if not actual.case_holders_fte > 0:
        return math.nan
    return actual.cases_held / actual.case_holders_fte


def headline(result: DemandCaseload, caseload_amber: float, caseload_red: float) -> Headline:
    """The generated headline paragraph and figures of notebook 01.

    Parameters
    ----------
    result
        The analysis.
    caseload_amber, caseload_red
        RAG thresholds of caseload / target (the scenario's ``rag.caseload_vs_target``).
    """
    year = result.next_year
    sentences = []
    figures = []

    written = next_year_figures(result)

    def forecast_of(measure: str) -> str:
        if (measure, "forecast") not in written:
            return fmt.MISSING
        low = written.get((measure, "lower_80"), fmt.MISSING)
        high = written.get((measure, "upper_80"), fmt.MISSING)
        return f"{written[measure, 'forecast']} (80% interval {low} to {high})"

    parts = [
        f"{forecast_of(measure)} {words}"
        for measure, words in (
            ("cla_at_31_march", "children looked after"),
            ("cpp_at_31_march", "children on a child protection plan"),
            ("cin_at_31_march", "children in need"),
        )
        if forecast_of(measure) != fmt.MISSING
    ]
    if parts:
        text = f"By 31 March {year} {result.la_name} is forecast to have " + (
            ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        )
        referrals = written.get(("referrals", "forecast"), fmt.MISSING)
        if referrals != fmt.MISSING:
            text += f", after {referrals} referrals in the year"
        sentences.append(text + ".")
    cla = written.get(("cla_at_31_march", "forecast"), fmt.MISSING)
    if cla != fmt.MISSING:
        low = written.get(("cla_at_31_march", "lower_80"), fmt.MISSING)
        high = written.get(("cla_at_31_march", "upper_80"), fmt.MISSING)
        figures.append(
            HeadlineFigure(
                label=f"Children looked after, 31 March {year} (forecast)",
                value=cla,
                note=f"80% interval {low} to {high}",
            )
        )
    published = result.caseloads[
        (result.caseloads["la_code"] == result.la_code)
        & result.caseloads["caseload_per_fte"].notna()
    ]
    own = own_caseload(result)
    if len(published) or math.isfinite(own):
        text_parts = []
        if math.isfinite(own):
            caseload, when = own, f"in {result.actual.as_at} (the council's own extract)"
            label = f"Caseload per case-holding FTE, {result.actual.as_at}"
            text_parts.append(f"Social workers held {fmt.number(own)} cases each {when}")
        if len(published):
            last = published.sort_values("year").iloc[-1]
            england = result.caseloads[
                (result.caseloads["geography"] == "England")
                & (result.caseloads["year"] == last["year"])
            ]["caseload_per_fte"]
            text = (
                f"{fmt.number(float(last['caseload_per_fte']))} cases each at 30 September "
                f"{int(last['year'])}"
            )
            if len(england):
                text += f" (England {fmt.number(float(england.iloc[0]))})"
            if text_parts:
                text_parts.append(f"the DfE published {text}")
            else:
                caseload = float(last["caseload_per_fte"])
                label = f"Caseload per case-holding FTE, September {int(last['year'])}"
                text_parts.append(f"Social workers held {text}")
        text = "; ".join(text_parts)
        if math.isfinite(result.caseload_target):
            text += f", against a target of {fmt.number(result.caseload_target)}"
        sentences.append(text + ".")
        ratio = (
            caseload / result.caseload_target if math.isfinite(result.caseload_target) else math.nan
        )
        figures.append(
            HeadlineFigure(
                label=label,
                value=fmt.number(caseload),
                rag=_rag(ratio, caseload_amber, caseload_red),  # type: ignore[arg-type]
                note=f"target {fmt.number(result.caseload_target)}"
                if math.isfinite(result.caseload_target)
                else "",
            )
        )
    next_required = result.required[result.required["basis"] == "next_year"]
    if len(next_required) and result.actual is not None:
        required = float(next_required["required_fte"].sum())
        actual = result.actual
        gap = actual.working_fte - required
        sentences.append(
            f"Holding the {year} caseload at target needs {fmt.fte(required)} social work FTE "
            f"(team managers, practice supervisors and case holders, with allowances), against "
            f"{fmt.fte(actual.working_fte)} at work in {actual.as_at[:7]} "
            f"({fmt.fte(actual.permanent_fte)} permanent, {fmt.fte(actual.agency_fte)} agency) "
            f"and {fmt.fte(actual.vacant_fte)} vacant posts."
        )
        figures.append(
            HeadlineFigure(
                label=f"Social work FTE required for {year}",
                value=fmt.fte(required),
                rag="green" if gap >= 0 else "red",
                note=f"{fmt.fte(actual.working_fte)} at work ({actual.as_at[:7]})",
            )
        )
    cost = protected_placement_cost(result)
    if "placement_cost_gbp" in cost and cost["placement_cost_gbp"].notna().any():
        row = cost[cost["financial_year"] == financial_year_label(year - 1)]
        if len(row):
            row = row.iloc[0]
            sentences.append(
                f"Placements for children looked after would cost about "
                f"{fmt.gbp_m(row['placement_cost_gbp'])} in {row['financial_year']} "
                f"(80% interval {fmt.gbp_m(row['placement_cost_lower_80_gbp'])} to "
                f"{fmt.gbp_m(row['placement_cost_upper_80_gbp'])}) at the England placement mix "
                "and the scenario's unit costs."
            )
            figures.append(
                HeadlineFigure(
                    label=f"Placement cost {row['financial_year']} (forecast)",
                    value=fmt.gbp_m(row["placement_cost_gbp"]),
                )
            )
    if not sentences:
        sentences.append(
            f"Too few figures are published for {result.la_name} to forecast demand or size "
            "its workforce."
        )
    return Headline(
        notebook=NOTEBOOK,
        title=f"Demand and caseload: {result.la_name}",
        summary=" ".join(sentences),
        figures=tuple(figures),
    )


def close(figure: Figure | None) -> None:
    """Close a figure once it has been shown (keeps memory flat over many charts)."""
    if figure is not None:
        plt.close(figure)


def mix_table(result: DemandCaseload) -> pd.DataFrame:
    """The placement mixes and the annual cost of a child looked after at each."""
    if result.cost_per_child.empty:
        return pd.DataFrame()
    rows = []
    for source, table in result.cost_per_child.groupby("mix_source", sort=False):
        shares = table.set_index("placement_group")
        geography = result.mixes.loc[result.mixes["mix_source"] == source, "geography"].iloc[0]
        rows.append(
            {
                "Placement mix": f"{geography}, 31 March {int(table['mix_year'].iloc[0])}",
                "Fostering": fmt.pct(shares.loc["fostering", "share"]),
                "Residential": fmt.pct(shares.loc["residential", "share"]),
                "Other": fmt.pct(shares.loc["other", "share"]),
                "Average weekly cost": fmt.gbp(shares.loc["total", "weekly_cost_gbp"]),
                "Annual cost per child": fmt.gbp(shares.loc["total", "weighted_annual_cost_gbp"]),
            }
        )
    return pd.DataFrame(rows)


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


def about(result: DemandCaseload, scenario_name: str, local_data: str) -> str:
    """A generated paragraph (Markdown) saying which data, methods and scenario were used."""
    methods = "; ".join(
        f"{MEASURE_LABELS[m]}: {METHOD_SHORT.get(method, method)}"
        for m, method in result.chosen.items()
    )
    chosen_how = {
        "this_la": "Each measure's forecasting method was chosen by a backtest on this "
        "council's own series: every method refitted on the years up to each of the latest "
        "origins and scored one year ahead, lowest MASE chosen",
        "all_las": "Each measure's forecasting method was chosen by the backtest across all "
        "English councils on the figures published by then (lowest median MASE)",
        "none": "Every series is too short to backtest, so each forecast carries the last value "
        "forward",
    }[result.accuracy_basis]
    lines = [
        f"Figures published by the end of {result.reporting_month} for {result.la_name} "
        f"({result.la_code}), compared with {result.region_name or 'its region'} and England. "
        f"{local_data}",
        "",
        f"{chosen_how}. {methods + '. ' if methods else ''}"
        "Intervals are 80% and 95% prediction intervals.",
        "",
        f"Scenario: **{scenario_name}** (caseload targets, workforce allowances and placement "
        "unit costs). Cases by team: assessments open = referrals x assessment weeks / 52.18; "
        "children in need team = children in need at 31 March less those on a plan, looked "
        "after or being assessed; care leavers aged 17 to 21. Team managers are whole "
        "(ceil of cases over what a full team holds).",
        "",
        SUPPRESSION_NOTE,
    ]
    if result.notes:
        lines += ["", "Notes:", *(f"- {note}" for note in result.notes)]
    return "\n".join(lines)


def protect_column(frame: pd.DataFrame, column: str, groups: list[str]) -> pd.DataFrame:
    """A copy of ``frame`` with ``column`` (counts of children) under disclosure control.

    Hidden cells become NaN and ``<column>_symbol`` says why (``c`` or ``x``).
    """
    if frame.empty or column not in frame:
        return frame
    protected = disclosure.protect_counts(
        frame[[*groups, column]].reset_index(drop=True),
        value=column,
        groups=groups,
        margins_known=False,
    )
    shown = frame.reset_index(drop=True).copy()
    shown[column] = protected[column].to_numpy()
    shown[f"{column}_symbol"] = protected["symbol"].to_numpy()
    return shown


def protected_placement_cost(result: DemandCaseload) -> pd.DataFrame:
    """The placement cost table with any year of very few children hidden.

    A cost divided by the cost per child gives the number of children back, so where the
    average number looked after is hidden the cost of that year is hidden too.
    """
    table = protect_column(result.placement_cost, "children_looked_after_avg", ["financial_year"])
    if "children_looked_after_avg_symbol" not in table:
        return table
    hidden = table["children_looked_after_avg_symbol"] == disclosure.CONFIDENTIAL
    costs = [c for c in table.columns if c.startswith("placement_cost")]
    table.loc[hidden, costs] = np.nan
    return table
