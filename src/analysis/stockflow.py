"""Stock and flow of children looked after (and of child protection plans).

This module owns the arithmetic that links a stock of children to its flows:

* the identity ``stock at period end = stock at the previous period end + starts - ceases``;
* the **entry rate**: starts per 10,000 children aged 0-17. As the DfE does, a reporting
  year's starts are divided by the ONS mid-year population of the calendar year before (the
  year to 31 March 2025 uses mid-2024);
* the **exit rate**: ceases as a share of the stock at the start of the period;
* the **mean duration**: stock / ceases (years, for annual figures), the average time a child
  stays looked after if the flows are steady (Little's law);
* projections under the scenario levers ``cla_entry_rate_change`` and
  ``cla_exit_rate_change`` (fractional changes: 0.1 means 10% more children entering, or
  leaving, than the recent rate implies);
* a reconciliation of published (or a council's own monthly) stocks, starts and ceases period
  by period, reported as findings with the columns of :mod:`analysis.reconcile`.

Why the published identity need not hold exactly: the DfE counts *children*, so a child who
starts (or ceases) twice in a year is counted once, and later editions revise earlier years.
A difference is a finding for a reviewer to explain, never silently "fixed". National and
regional counts are rounded to the nearest 10, so there each of the four figures may be 5 out
(tolerance 20); LA counts are unrounded (tolerance 0).

Pure functions: DataFrames and numbers in, DataFrames out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import InputError, Problem
from analysis.external import LOCAL_AUTHORITY, latest_values
from analysis.reconcile import finding, findings_frame

PER_10K = 10_000


@dataclass(frozen=True)
class StockFlowMeasures:
    """The measure names of one stock and its flows in a tidy table."""

    stock: str
    starts: str
    ceases: str
    label: str


CLA_ANNUAL = StockFlowMeasures("cla_at_31_march", "cla_starts", "cla_ceases", "looked after")
CLA_MONTHLY = StockFlowMeasures("cla_at_month_end", "cla_starts", "cla_ceases", "looked after")
CPP_MONTHLY = StockFlowMeasures(
    "cpp_at_month_end", "cpp_starts", "cpp_ends", "on a child protection plan"
)

#: Rounding of published counts by geography: each figure may be this far from the truth.
ROUNDING_HALF_UNIT = {"National": 5.0, "Regional": 5.0, LOCAL_AUTHORITY: 0.0}


def entry_rate_per_10k(starts: float, population_0_17: float) -> float:
    """Starts per 10,000 children aged 0-17 (NaN when the population is missing or zero)."""
    if not population_0_17 or math.isnan(population_0_17):
        return math.nan
    return starts / population_0_17 * PER_10K


def mean_duration(stock: float, ceases: float) -> float:
    """Stock / ceases: the mean time a child stays, in the periods the flows are counted in."""
    if not ceases or math.isnan(ceases):
        return math.nan
    return stock / ceases


def _wide(rows: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    latest = latest_values(rows[rows["measure"].isin(list(measures))])
    return latest.pivot_table(
        index="period_end", columns="measure", values="value", aggfunc="first", dropna=False
    ).reindex(columns=list(measures))


def _la_rows(tidy: pd.DataFrame, la_code: str) -> pd.DataFrame:
    """One geography's rows, following an LA's DfE number across ONS recodes."""
    rows = tidy[tidy["la_code"] == la_code]
    if rows.empty:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="la_code",
                    value=la_code,
                    expected="an ONS code present in the table, such as E09000002",
                )
            ]
        )
    if "old_la_code" in rows and rows["geographic_level"].iloc[0] == LOCAL_AUTHORITY:
        old = rows["old_la_code"].dropna()
        if not old.empty:
            return tidy[
                (tidy["old_la_code"] == old.iloc[-1])
                & (tidy["geographic_level"] == LOCAL_AUTHORITY)
            ]
    return rows


def stock_flow_history(
    tidy: pd.DataFrame,
    la_code: str,
    measures: StockFlowMeasures = CLA_ANNUAL,
    population_measure: str | None = "population_0_17",
) -> pd.DataFrame:
    """Return one geography's published stocks and flows with rates and durations, by year.

    Parameters
    ----------
    tidy
        The table from :func:`analysis.external.load_external` (or a council's extract from
        :func:`analysis.localdata.demand_as_tidy`, with ``population_measure=None``).
    la_code
        ONS code (England E92000001, a region's code, or an LA's).
    measures
        Which stock and flows.
    population_measure
        The 0-17 population measure; the period ending 31 March of year Y uses the mid-year
        estimate of year Y-1. ``None`` leaves the entry rate out.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``period_end``: ``opening_stock`` (the previous period's published stock,
        when the previous period is the one just before), ``starts``, ``ceases``,
        ``closing_stock``, ``population_0_17``, ``entry_rate_per_10k``, ``exit_rate``
        (ceases / opening stock) and ``mean_duration`` (closing stock / ceases).

    Raises
    ------
    InputError
        When ``la_code`` is not in the table.
    """
    rows = _la_rows(tidy, la_code)
    wide = _wide(rows, [measures.stock, measures.starts, measures.ceases])
    table = pd.DataFrame(index=wide.index)
    previous = wide[measures.stock].shift(1)
    adjacent = _adjacent(wide.index)
    table["opening_stock"] = previous.where(adjacent)
    table["starts"] = wide[measures.starts]
    table["ceases"] = wide[measures.ceases]
    table["closing_stock"] = wide[measures.stock]
    if population_measure:
        population = latest_values(rows[rows["measure"] == population_measure])
        by_year = population.set_index("year")["value"]
        table["population_0_17"] = [by_year.get(d.year - 1, math.nan) for d in table.index]
        table["entry_rate_per_10k"] = table["starts"] / table["population_0_17"] * PER_10K
    table["exit_rate"] = table["ceases"] / table["opening_stock"]
    table["mean_duration"] = table["closing_stock"] / table["ceases"].where(table["ceases"] > 0)
    table.index.name = "period_end"
    return table


def _adjacent(index: pd.Index) -> np.ndarray:
    """True where a period end directly follows the one before (a year, or a month, later)."""
    ends = pd.DatetimeIndex(index)
    if len(ends) < 2:
        return np.zeros(len(ends), dtype=bool)
    months = ends.year * 12 + ends.month
    step = np.diff(months)
    period = int(pd.Series(step).mode().iloc[0]) if len(step) else 12
    return np.concatenate([[False], step == period])


def project_stock(
    opening_stock: float,
    population_0_17: pd.Series,
    entry_rate_per_10k: float,
    exit_rate: float,
    *,
    entry_rate_change: float = 0.0,
    exit_rate_change: float = 0.0,
) -> pd.DataFrame:
    """Project a stock period by period from an entry rate and an exit rate.

    Each period: ``starts = entry rate x (1 + entry_rate_change) x population / 10,000``;
    ``ceases = exit rate x (1 + exit_rate_change) x opening stock``;
    ``closing = opening + starts - ceases``.

    Parameters
    ----------
    opening_stock
        The stock at the start of the first projected period.
    population_0_17
        The population each period's entry rate applies to, indexed by the period end.
    entry_rate_per_10k, exit_rate
        The base rates (for example the recent published ones, from
        :func:`stock_flow_history`).
    entry_rate_change, exit_rate_change
        The scenario levers, as fractions (``cla_entry_rate_change``,
        ``cla_exit_rate_change``).

    Returns
    -------
    pandas.DataFrame
        Indexed by period end: ``opening_stock``, ``starts``, ``ceases``, ``closing_stock``,
        ``entry_rate_per_10k``, ``exit_rate`` and ``mean_duration`` (closing / ceases).

    Raises
    ------
    InputError
        When a rate or lever is impossible: a negative stock or entry rate, a change of -100%
        or less, or an exit rate (after the lever) outside 0 to 1.
    """
    entry = entry_rate_per_10k * (1 + entry_rate_change)
    exit_share = exit_rate * (1 + exit_rate_change)
    problems = []

    def bad(name: str, value: float, expected: str) -> None:
        problems.append(
            Problem(file="stock-and-flow inputs", column=name, value=value, expected=expected)
        )

    if not opening_stock >= 0:
        bad("opening_stock", opening_stock, "a stock of zero or more children")
    if not entry_rate_per_10k >= 0:
        bad("entry_rate_per_10k", entry_rate_per_10k, "an entry rate of zero or more")
    for name, change in (
        ("entry_rate_change", entry_rate_change),
        ("exit_rate_change", exit_rate_change),
    ):
        if not change > -1:
            bad(name, change, "a fractional change above -1 (-100%), such as 0.1 for +10%")
    if not 0 <= exit_share <= 1:
        bad(
            "exit_rate",
            exit_share,
            "an exit rate after the lever between 0 and 1 (a share of the opening stock)",
        )
    if population_0_17.isna().any() or (population_0_17 < 0).any():
        bad("population_0_17", population_0_17.min(), "a population of zero or more each period")
    if problems:
        raise InputError(problems)
    opening, rows = float(opening_stock), []
    for period_end, population in population_0_17.items():
        starts = entry * float(population) / PER_10K
        ceases = exit_share * opening
        closing = opening + starts - ceases
        rows.append(
            {
                "period_end": period_end,
                "opening_stock": opening,
                "starts": starts,
                "ceases": ceases,
                "closing_stock": closing,
                "entry_rate_per_10k": entry,
                "exit_rate": exit_share,
                "mean_duration": mean_duration(closing, ceases),
            }
        )
        opening = closing
    return pd.DataFrame(rows).set_index("period_end")


def project_cla(
    history: pd.DataFrame,
    years: int,
    *,
    cla_entry_rate_change: float = 0.0,
    cla_exit_rate_change: float = 0.0,
    basis_years: int = 3,
) -> pd.DataFrame:
    """Project children looked after at 31 March from an LA's published history.

    The base entry and exit rates are the means over the last ``basis_years`` years that have
    both; the population is held at the last published mid-year estimate (no ONS projection
    is bundled), so the projection shows the levers' effect, not population growth.

    Parameters
    ----------
    history
        From :func:`stock_flow_history` (with the population).
    years
        How many years ahead.
    cla_entry_rate_change, cla_exit_rate_change
        The scenario levers (fractions).
    basis_years
        How many recent years the base rates average.

    Returns
    -------
    pandas.DataFrame
        As :func:`project_stock`, one row per projected year ending 31 March.

    Raises
    ------
    InputError
        When the history has no year with a stock, starts, ceases and population, or a lever
        is impossible.
    """
    usable = history.dropna(subset=["entry_rate_per_10k", "exit_rate"])
    if usable.empty or pd.isna(history["closing_stock"].iloc[-1]) or years < 1:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="cla_at_31_march",
                    value=None if usable.empty else years,
                    has_value=not usable.empty,
                    expected="a published history with at least one year of stock, starts, "
                    "ceases and population, and one or more years to project",
                )
            ]
        )
    basis = usable.tail(basis_years)
    last_end = history.index[-1]
    population = history["population_0_17"].dropna().iloc[-1]
    ends = pd.DatetimeIndex(
        [pd.Timestamp(year=last_end.year + k, month=3, day=31) for k in range(1, years + 1)]
    )
    return project_stock(
        float(history["closing_stock"].iloc[-1]),
        pd.Series(float(population), index=ends),
        float(basis["entry_rate_per_10k"].mean()),
        float(basis["exit_rate"].mean()),
        entry_rate_change=cla_entry_rate_change,
        exit_rate_change=cla_exit_rate_change,
    )


def reconcile_stock_flow(
    tidy: pd.DataFrame,
    measures: StockFlowMeasures = CLA_ANNUAL,
    la_codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Check ``stock = previous stock + starts - ceases`` for every geography and period.

    Parameters
    ----------
    tidy
        The published table (:func:`analysis.external.load_external`) or a council's extract
        in the same shape (:func:`analysis.localdata.demand_as_tidy`).
    measures
        Which stock and flows.
    la_codes
        Only these geographies (all when ``None``).

    Returns
    -------
    pandas.DataFrame
        Findings with :data:`analysis.reconcile.FINDING_COLUMNS`: ``table`` (the stock's
        source file), ``row`` (the stock's row in it), ``column`` (its column), ``published``
        (the stock), ``computed`` (previous stock + starts - ceases), ``difference``,
        ``tolerance`` (rounding: 20 for national and regional figures, 0 for an LA's),
        ``status`` (``agrees``, ``differs``, or ``not_printed`` when a figure was suppressed)
        and ``check`` in words, naming any suppressed figure. One row per period whose
        previous period is also in the table, except where the stock is ``z`` (the LA did not
        exist that year).
    """
    wanted = [measures.stock, measures.starts, measures.ceases]
    rows = tidy[tidy["measure"].isin(wanted)]
    if la_codes is not None:
        rows = rows[rows["la_code"].isin(list(la_codes))]
    rows = latest_values(rows)
    key = rows["la_code"].astype(str)
    if "old_la_code" in rows:
        key = rows["old_la_code"].astype("string").fillna(key).astype(str)
    rows = rows.assign(_key=key)
    values = rows.pivot_table(
        index=["_key", "period_end"],
        columns="measure",
        values="value",
        aggfunc="first",
        dropna=False,
    ).reindex(columns=wanted)
    if "suppression" in rows:
        flagged = rows[rows["suppression"].notna()]
        notes = flagged["measure"].astype(str) + " '" + flagged["suppression"].astype(str) + "'"
        notes = notes.groupby([flagged["_key"], flagged["period_end"]]).agg("; ".join)
    else:
        notes = pd.Series(dtype=str)
    stocks = rows[rows["measure"] == measures.stock].set_index(["_key", "period_end"])
    if stocks.empty:
        return findings_frame([])
    table = stocks.join(values[[measures.starts, measures.ceases]], how="left").sort_index()
    ends = pd.DatetimeIndex(table.index.get_level_values("period_end"))
    months = pd.Series(ends.year * 12 + ends.month, index=table.index)
    step = months.groupby(level="_key").diff()
    period = int(step.mode().iloc[0]) if step.notna().any() else 12
    table["previous"] = table["value"].groupby(level="_key").shift(1)
    table["previous_end"] = pd.Series(ends, index=table.index).groupby(level="_key").shift(1)
    table = table[step == period]
    if "suppression" in table:
        # 'z' (not applicable) marks an LA that did not exist that year: nothing to reconcile.
        table = table[table["suppression"].fillna("") != "z"]
    level = pd.Series(table.get("geographic_level", LOCAL_AUTHORITY), index=table.index)
    table = table.assign(half_unit=level.map(ROUNDING_HALF_UNIT).fillna(0.0))
    found = []
    for (key, period_end), row in zip(table.index, table.itertuples(index=False), strict=True):
        record = row._asdict()
        half = float(record["half_unit"])
        before = record["previous_end"]
        suppressed = [notes.get((key, period_end))]
        if pd.isna(record["previous"]):
            suppressed.insert(0, f"{measures.stock} at {before:%d %B %Y}")
        suppressed_text = "; ".join(n for n in suppressed if isinstance(n, str))
        check = (
            f"{record['la_name']} ({record['la_code']}): children {measures.label} at "
            f"{period_end:%d %B %Y} against those at {before:%d %B %Y} plus "
            f"{measures.starts} minus {measures.ceases} in between, "
            + (
                f"within {4 * half:g} (four figures rounded to the nearest 10)"
                if half
                else "exactly (unrounded counts)"
            )
            + (f"; suppressed: {suppressed_text}" if suppressed_text else "")
        )
        found.append(
            finding(
                table=str(record.get("source_file", "")),
                row=_int_or_none(record.get("source_row")),
                column=str(record.get("source_column", measures.stock)),
                check=check,
                published=float(record["value"]),
                computed=float(
                    record["previous"] + record[measures.starts] - record[measures.ceases]
                ),
                tolerance=4 * half,
            )
        )
    return findings_frame(found)


def _int_or_none(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def summarise_reconciliation(findings: pd.DataFrame) -> pd.DataFrame:
    """Count findings by status, with the largest absolute difference of each."""
    if findings.empty:
        return pd.DataFrame(columns=["status", "findings", "largest_difference"])
    return (
        findings.assign(abs_difference=findings["difference"].abs())
        .groupby("status")
        .agg(findings=("status", "size"), largest_difference=("abs_difference", "max"))
        .reset_index()
    )
