"""One council's demand, caseload and placement cost for a reporting month, in one call.

This module owns putting the models together for notebook 01 (demand and caseload) so that
the notebook stays a few calls and the same computation can be checked for every English LA
in a test: the figures published by the reporting month (:func:`analysis.external.
published_as_of`), a forecast of each demand measure with its 80% and 95% intervals
(:mod:`analysis.demand`), the cases by team and the social worker FTE they need
(:mod:`analysis.workforce`), the FTE the council reports, caseloads and rates per 10,000
against the region and England (:mod:`analysis.comparisons`), and the placement cost of the
forecast of children looked after beside the published budget and spend
(:mod:`analysis.placements`).

"Next year" is the year ending 31 March after the end of the reporting month's financial
year: for a March 2025 report (2024/25 period 12) it is the year to 31 March 2026.

Forecast methods: each measure uses the method chosen by the backtest across every English LA
(:func:`analysis.demand.backtest_all`) on the figures published by the reporting month
(:func:`all_la_accuracy`, computed once for each such set of figures and kept in
``data/processed/cache/``), and the report shows this LA's rows of it. A council's own monthly
extract is backtested on its own series instead (the latest :data:`QUICK_BACKTEST`), as is
any series when no all-LA table is given.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis import demand, external, localdata, placements, workforce
from analysis.comparisons import ENGLAND_CODE, ons_region, rates_per_10k
from analysis.errors import InputError
from analysis.paths import cache_dir
from analysis.periods import financial_year_start, parse_reporting_month
from analysis.store import atomic_write_bytes, table_to_csv_bytes

if TYPE_CHECKING:
    from analysis.scenario import Scenario

#: The demand measures forecast, in the order of a child's journey through the service.
FORECAST_MEASURES: tuple[str, ...] = (
    "referrals",
    "cin_at_31_march",
    "cpp_at_31_march",
    "cla_at_31_march",
    "care_leavers_17_18",
    "care_leavers_19_21",
)

MEASURE_LABELS: dict[str, str] = {
    "referrals": "Referrals in the year",
    "cin_at_31_march": "Children in need at 31 March",
    "cpp_at_31_march": "Children on a child protection plan at 31 March",
    "cla_at_31_march": "Children looked after at 31 March",
    "care_leavers_17_18": "Care leavers aged 17 to 18",
    "care_leavers_19_21": "Care leavers aged 19 to 21",
    "care_leavers": "Care leavers the council supports",
}

#: A council's monthly measures (:mod:`analysis.localdata`) and the measure each is here.
MONTHLY_MEASURES: dict[str, str] = {
    "referrals": "referrals",
    "cin_at_month_end": "cin_at_31_march",
    "cpp_at_month_end": "cpp_at_31_march",
    "cla_at_month_end": "cla_at_31_march",
    "care_leavers_at_month_end": "care_leavers",
}

#: Measures counted over a period (the rest are counted on a day).
FLOW_MEASURES: tuple[str, ...] = ("referrals",)

#: Measures shown as rates per 10,000 children against the region and England.
RATE_MEASURES: tuple[str, ...] = (
    "referrals",
    "cin_at_31_march",
    "cpp_at_31_march",
    "cla_at_31_march",
)

#: Origins and steps of the quick backtest on one LA's own series: the latest three years one
#: year ahead for annual data; for monthly data, one origin a year before the end, scored on
#: each of the twelve months after it (monthly seasonal models take about a second a fit).
QUICK_BACKTEST: dict[str, tuple[int, int]] = {"annual": (3, 1), "monthly": (1, 12)}

#: Extra years forecast beyond "next year", so the chart shows where the trend goes.
YEARS_BEYOND_NEXT = 1

BOUNDS: tuple[str, ...] = ("forecast", "lower_80", "upper_80", "lower_95", "upper_95")

#: Files whose code decides the all-LA backtest: a change to any of them recomputes it.
_BACKTEST_CODE: tuple[str, ...] = ("demand.py", "series_models.py")


def _accuracy_key(published: pd.DataFrame) -> str:
    """Fingerprint of the figures the all-LA backtest reads and of the code that scores them."""
    rows = published[published["measure"].isin(list(demand.PUBLISHED_MEASURES))]
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    for name in _BACKTEST_CODE:
        digest.update((Path(demand.__file__).parent / name).read_bytes())
    return digest.hexdigest()[:20]


def all_la_accuracy(
    tidy: pd.DataFrame, reporting_month: str, folder: Path | None = None
) -> pd.DataFrame:
    """The backtest of every forecasting method on every English LA's published series, as
    they stood at the end of ``reporting_month`` (:func:`analysis.demand.backtest_all`).

    It takes about ten seconds, so it is computed once for each set of published figures (and
    version of the forecasting code) and kept in ``data/processed/cache/``; later reports for
    months that saw the same figures read it back.

    Parameters
    ----------
    tidy
        Every published figure (:func:`analysis.external.load_external`).
    reporting_month
        ``YYYY-MM`` (or ``YYYY-YY Pn``): only figures published by then are used, so a report
        for an earlier month chooses its methods as an analyst could have at the time.
    folder
        Where the computed tables are kept; defaults to ``data/processed/cache``.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`analysis.demand.backtest_all`.

    Raises
    ------
    InputError
        When ``reporting_month`` is not a month.
    OSError
        When the table cannot be kept (it is written atomically: never half a file).
    """
    month = parse_reporting_month(reporting_month).strftime("%Y-%m")
    published = external.published_as_of(tidy, month)
    # Hashing the month's figures is most of the cost of reading the table back: once a table.
    key = external.once_per_table(published, "accuracy_key", _accuracy_key)
    path = (folder or cache_dir()) / f"forecast_accuracy_{key}.csv"
    if not path.is_file():
        atomic_write_bytes(path, table_to_csv_bytes(demand.backtest_all(published)))
    # read back from the file in both cases, so a first run and a later one choose alike
    return pd.read_csv(
        io.BytesIO(path.read_bytes()), dtype={"measure": "str", "la_code": "str", "method": "str"}
    )


@dataclass(frozen=True)
class DemandCaseload:
    """Everything notebook 01 shows for one LA and reporting month."""

    la_code: str
    la_name: str
    region_code: str
    region_name: str
    reporting_month: str
    next_year: int
    frequency: str
    history: pd.DataFrame
    forecast: pd.DataFrame
    accuracy: pd.DataFrame
    chosen: dict[str, str]
    accuracy_basis: str
    cases: pd.DataFrame
    required: pd.DataFrame
    required_summary: pd.DataFrame
    actual: workforce.ActualWorkforce | None
    fte_comparison: pd.DataFrame
    caseloads: pd.DataFrame
    caseload_target: float
    rates: pd.DataFrame
    mixes: pd.DataFrame
    cost_per_child: pd.DataFrame
    placement_cost: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def next_year_value(self, measure: str, bound: str = "forecast") -> float:
        """``measure`` for the year to 31 March of :attr:`next_year` (:func:`value_for_year`)."""
        if measure not in set(self.forecast["measure"]):
            return math.nan
        return value_for_year(
            self.history,
            self.forecast,
            measure,
            _march(self.next_year),
            self.frequency,  # type: ignore[arg-type]
            bound,
        )


def next_year_of(reporting_month: str) -> int:
    """The year whose 31 March ends the financial year after the reporting month's.

    Raises
    ------
    InputError
        When the reporting month is not written YYYY-MM (or YYYY-YY Pn).
    """
    return financial_year_start(parse_reporting_month(reporting_month)) + 2


def la_view(published: pd.DataFrame, la: pd.Series, notes: list[str]) -> pd.DataFrame:
    """The published figures one LA's report needs: its own rows, labelled with its ONS code,
    and the regional and national rows to set them against (other LAs' rows are left out,
    which makes every later look-up a tenth of the work).

    An LA's rows are found by its DfE LA number as well as its ONS code, so figures published
    under an earlier code (Gateshead was E08000020 until 2013) are kept, and rows published
    for several LAs together (``E06000061 / E06000062``, the Northamptonshire children's
    trust's workforce) count as this LA's, with a note saying so.
    """
    code = str(la["la_code"])
    rows = external.row_index(published)
    own = rows.of_code(code)
    if pd.notna(la["old_la_code"]):
        own = np.union1d(own, rows.of_la_number(int(la["old_la_code"])))
    shared = np.setdiff1d(rows.of_joint_member(code), own)
    if len(shared):
        joint = ", ".join(sorted(set(published["la_code"].iloc[shared].dropna())))
        files = ", ".join(
            sorted({str(f).rsplit("/", 1)[-1] for f in published["source_file"].iloc[shared]})
        )
        notes.append(
            f"Some figures are published for several councils together ({joint}, in {files}); "
            "they are shown here as this council's."
        )
    mine = np.union1d(own, shared)
    kept = np.union1d(mine, rows.not_la)
    view = published.iloc[kept]
    view.loc[np.isin(kept, mine), "la_code"] = code
    return view


def _history(published: pd.DataFrame, la_code: str, notes: list[str]) -> pd.DataFrame:
    try:
        found = external.series_of_measures(published, la_code, FORECAST_MEASURES)
    except InputError:
        found = {}
    frames = []
    for measure in FORECAST_MEASURES:
        values = found.get(measure)
        if values is None:
            notes.append(f"{MEASURE_LABELS[measure]}: nothing published for this LA by then.")
            continue
        frames.append(
            pd.DataFrame(
                {
                    "measure": measure,
                    "period_end": values.index,
                    "year": values.index.year,
                    "count": values.to_numpy(dtype=float),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["measure", "period_end", "year", "count"])
    return pd.concat(frames, ignore_index=True)


def _history_monthly(extract: pd.DataFrame, month: pd.Period, la_code: str) -> pd.DataFrame:
    """The council's monthly counts up to the reporting month, under this module's names."""
    wanted = extract[extract["measure"].isin(list(MONTHLY_MEASURES))]
    tidy = localdata.demand_as_tidy(wanted, la_code, "")
    tidy = tidy[tidy["period_end"] <= month.to_timestamp(how="end")]
    return pd.DataFrame(
        {
            "measure": tidy["measure"].map(MONTHLY_MEASURES).to_numpy(),
            "period_end": pd.DatetimeIndex(tidy["period_end"]),
            "year": pd.DatetimeIndex(tidy["period_end"]).year,
            "count": tidy["value"].to_numpy(dtype=float),
        }
    ).sort_values(["measure", "period_end"], ignore_index=True)


def _measure_values(
    frame: pd.DataFrame, measure: str, column: str, name: str | None = None
) -> pd.Series:
    """One measure's ``column`` of a history or forecast, by period end. Chosen with NumPy:
    a report looks a measure up a few dozen times, and a pandas filter of a frame this small
    costs several times as much."""
    chosen = frame["measure"].to_numpy() == measure
    return pd.Series(
        frame[column].to_numpy(dtype=float)[chosen],
        index=pd.DatetimeIndex(frame["period_end"].to_numpy()[chosen], name="period_end"),
        name=name,
    )


def _series(history: pd.DataFrame, measure: str) -> pd.Series:
    return _measure_values(history, measure, "count", measure)


def quick_accuracy(
    history: pd.DataFrame, la_code: str, frequency: demand.Frequency = "annual"
) -> pd.DataFrame:
    """Backtest each measure on one LA's own series (:data:`QUICK_BACKTEST`).

    Returns
    -------
    DataFrame
        The columns of :func:`analysis.demand.score_backtest` with ``measure`` and
        ``la_code``; empty when no series is long enough to backtest.
    """
    frames = []
    for measure in dict.fromkeys(history["measure"]):
        series = _series(history, measure)
        origins, steps = QUICK_BACKTEST[frequency]
        backtest = demand.backtest_series(series, steps, frequency=frequency, max_origins=origins)
        if backtest.empty:
            continue
        scored = demand.score_backtest(backtest)
        frames.append(scored.assign(measure=measure, la_code=la_code))
    if not frames:
        return pd.DataFrame(columns=["measure", "la_code", *demand.ACCURACY_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def _march(year: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=3, day=31)


def _forecast(
    history: pd.DataFrame,
    chosen: Mapping[str, str],
    next_year: int,
    frequency: demand.Frequency,
    notes: list[str],
) -> pd.DataFrame:
    frames = []
    for measure in dict.fromkeys(history["measure"]):
        series = _series(history, measure)
        observed = series.dropna()
        if observed.empty or pd.isna(series.iloc[-1]):
            # A forecast from years before a suppressed latest figure would be stale and could
            # hint at the hidden count, so there is none.
            notes.append(
                f"{MEASURE_LABELS[measure]}: the latest published figure is suppressed or not "
                "available, so it is not forecast."
            )
            continue
        last = observed.index.max()
        if frequency == "monthly":
            target = _march(next_year + YEARS_BEYOND_NEXT)
            horizon = max((target.year - last.year) * 12 + target.month - last.month, 1)
        else:
            horizon = max(next_year - int(last.year), 1) + YEARS_BEYOND_NEXT
        method = chosen.get(measure, "naive")
        result = demand.forecast_series(series, horizon, method=method, frequency=frequency)
        result = result.assign(measure=measure, year=pd.DatetimeIndex(result["period_end"]).year)
        frames.append(result)
    if not frames:
        return pd.DataFrame(columns=["measure", "year", *demand.FORECAST_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def combined_series(
    history: pd.DataFrame, forecast: pd.DataFrame, measure: str, bound: str = "forecast"
) -> pd.Series:
    """A measure's published values followed by its forecast (``bound``), by period end."""
    published = _series(history, measure).dropna()
    future = _measure_values(forecast, measure, bound)
    if len(published):
        future = future[future.index > published.index.max()]
    return pd.concat([published, future]).sort_index()


def value_for_year(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    measure: str,
    end: pd.Timestamp,
    frequency: demand.Frequency,
    bound: str = "forecast",
) -> float:
    """A measure's figure for the year ending ``end``: a stock at ``end``; a flow (referrals)
    over the year, which from monthly data is the sum of its twelve months (NaN when any is
    missing). Published figures are used where there are any, the forecast bound after."""
    values = combined_series(history, forecast, measure, bound)
    if frequency == "monthly" and measure in FLOW_MEASURES:
        window = values[(values.index > end - pd.DateOffset(years=1)) & (values.index <= end)]
        return float(window.sum()) if window.notna().sum() == 12 else math.nan
    at_end = values.to_numpy()[values.index == end]
    return float(at_end[-1]) if len(at_end) else math.nan


def _case_measures(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    end: pd.Timestamp,
    frequency: demand.Frequency,
    bound: str,
) -> dict[str, float]:
    """The measures :func:`analysis.workforce.cases_by_team` needs, for the year to ``end``."""
    values = {
        m: value_for_year(history, forecast, m, end, frequency, bound)
        for m in dict.fromkeys([*workforce.CASE_MEASURES, "care_leavers"])
    }
    if frequency == "monthly":
        # A council's extract counts all the care leavers it supports in one figure.
        values["care_leavers_17_18"] = values.pop("care_leavers")
        values["care_leavers_19_21"] = 0.0
    else:
        values.pop("care_leavers")
    return values


def _cases_and_fte(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    params: workforce.WorkforceParameters,
    ends: Mapping[str, pd.Timestamp],
    frequency: demand.Frequency,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    cases_frames, required_frames = [], []
    for label, end in ends.items():
        for bound in (
            ("forecast", "lower_80", "upper_80") if label == "next_year" else ("forecast",)
        ):
            measures = _case_measures(history, forecast, end, frequency, bound)
            try:
                cases = workforce.cases_by_team(measures, params)
            except InputError as error:
                missing = ", ".join(p.column or "" for p in error.problems)
                what = "Caseload and FTE" if bound == "forecast" else "The 80% range of FTE"
                notes.append(
                    f"{what} for {end:%B %Y} not worked out: no usable figure for {missing}."
                )
                break
            scenario_name = label if bound == "forecast" else f"{label}_{bound}"
            cases_frames.append(cases.assign(basis=scenario_name, year=end.year))
            required_frames.append(
                workforce.required_fte(cases, params).assign(basis=scenario_name, year=end.year)
            )
    cases = (
        pd.concat(cases_frames, ignore_index=True)
        if cases_frames
        else pd.DataFrame(columns=["team", "cases", "basis", "year"])
    )
    required = (
        pd.concat(required_frames, ignore_index=True)
        if required_frames
        else pd.DataFrame(columns=[*workforce.REQUIRED_COLUMNS, "basis", "year"])
    )
    return cases, required


def _latest_complete(history: pd.DataFrame, frequency: demand.Frequency) -> pd.Timestamp | None:
    """The latest period end at which every measure was published (not suppressed)."""
    published = history[history["count"].notna()]
    counts = published.groupby("period_end")["measure"].nunique()
    needed = history["measure"].nunique() if frequency == "monthly" else len(FORECAST_MEASURES)
    complete = counts[counts == needed]
    return pd.Timestamp(complete.index.max()) if len(complete) else None


def analyse(
    tidy: pd.DataFrame,
    la_code: str,
    reporting_month: str,
    scenario: Scenario,
    *,
    all_la_accuracy: pd.DataFrame | None = None,
    demand_extract: pd.DataFrame | None = None,
    workforce_extract: pd.DataFrame | None = None,
) -> DemandCaseload:
    """Demand, caseload, FTE and placement cost for one LA as at a reporting month.

    Parameters
    ----------
    tidy
        Every published figure (:func:`analysis.external.load_external`); cut here to what
        had been published by the end of ``reporting_month``.
    la_code
        The LA: ONS code, DfE LA number or name (:func:`analysis.external.resolve_la`).
    reporting_month
        ``YYYY-MM``.
    scenario
        Supplies the caseload targets, workforce allowances and placement unit costs.
    all_la_accuracy
        The all-LA backtest (:func:`analysis.demand.backtest_all`), when one has been run and
        kept: each measure's method is then the one it chose
        (:func:`analysis.demand.choose_methods`) and the accuracy shown is this LA's rows of it.
        When omitted, each measure is backtested on this LA's own series (a few seconds).
    demand_extract
        A council's own monthly demand extract (:func:`analysis.localdata.load_demand_extract`);
        when given with months up to the reporting month, the forecasts are monthly (with
        seasonality) from it, backtested on it, and the all-LA table is not used.
    workforce_extract
        A council's own workforce extract (:func:`analysis.localdata.load_workforce_extract`);
        when given, its latest month up to the reporting month is the actual workforce.

    Raises
    ------
    InputError
        When the LA is unknown, the reporting month is not a month, or the scenario lacks an
        assumption the models need.
    """
    month = parse_reporting_month(reporting_month)
    la = external.resolve_la(la_code, external.la_lookup(tidy))
    code, name = str(la["la_code"]), str(la["la_name"])
    params = workforce.workforce_parameters(scenario)
    costs = placements.unit_costs(scenario)
    notes: list[str] = []
    published = la_view(external.published_as_of(tidy, month.strftime("%Y-%m")), la, notes)
    next_year = next_year_of(reporting_month)

    region_code, region_name = (
        ons_region(tidy, str(la["region_code"])) if pd.notna(la["region_code"]) else ("", "")
    )

    frequency: demand.Frequency = "annual"
    history = _history(published, code, notes)
    if demand_extract is not None and len(demand_extract):
        monthly = _history_monthly(demand_extract, month, code)
        if len(monthly):
            history, frequency = monthly, "monthly"
            notes.append(
                "Demand is forecast monthly from the council's own extract "
                f"({monthly['period_end'].min():%B %Y} to {monthly['period_end'].max():%B %Y})."
            )
    wanted = all_la_accuracy is not None and all_la_accuracy["measure"].isin(FORECAST_MEASURES)
    if frequency == "annual" and all_la_accuracy is not None and wanted.any():
        rows = all_la_accuracy[wanted]
        chosen_methods = demand.choose_methods(rows)
        accuracy = rows[rows["la_code"] == code].reset_index(drop=True)
        accuracy_basis = "all_las"
    else:
        accuracy = quick_accuracy(history, code, frequency)
        chosen_methods = demand.choose_methods(accuracy) if len(accuracy) else {}
        accuracy_basis = "this_la" if len(accuracy) else "none"
    forecast = _forecast(history, chosen_methods, next_year, frequency, notes)

    latest = _latest_complete(history, frequency)
    ends = {"next_year": _march(next_year)}
    if latest is not None:
        ends = {"latest": latest, **ends}
    cases, required = _cases_and_fte(history, forecast, params, ends, frequency, notes)

    actual = None
    if workforce_extract is not None and len(workforce_extract):
        months = workforce_extract["month"].astype(str)
        usable = sorted(m for m in months.unique() if m <= month.strftime("%Y-%m"))
        if usable:
            actual = workforce.actual_from_extract(workforce_extract, usable[-1])
    if actual is None:
        try:
            actual = workforce.actual_from_published(published, code)
        except InputError:
            notes.append("No published social work workforce figures for this LA by then.")
    comparisons = []
    if actual is not None and len(required):
        for basis in ("latest", "next_year"):
            rows = required[required["basis"] == basis]
            if len(rows):
                comparisons.append(
                    workforce.compare_with_actual(rows, actual).assign(
                        basis=basis, year=int(rows["year"].iloc[0])
                    )
                )
    fte_comparison = pd.concat(comparisons, ignore_index=True) if comparisons else pd.DataFrame()
    required_summary = (
        pd.concat(
            [
                workforce.required_fte_summary(rows).assign(basis=basis)
                for basis, rows in required.groupby("basis", sort=False)
            ],
            ignore_index=True,
        )
        if len(required)
        else pd.DataFrame()
    )
    next_cases = cases[cases["basis"] == "next_year"] if len(cases) else cases
    caseload_target = (
        workforce.weighted_caseload_target(next_cases[["team", "cases"]], params)
        if len(next_cases)
        else math.nan
    )

    geographies = {name: code}
    if region_code:
        geographies[region_name] = region_code
    geographies["England"] = ENGLAND_CODE
    caseloads = workforce.published_caseloads(published, geographies)
    rates = rates_per_10k(published, geographies, RATE_MEASURES)

    mixes, per_child, placement_cost = _placement_cost(
        published, code, history, forecast, frequency, costs, notes
    )
    return DemandCaseload(
        la_code=code,
        la_name=name,
        region_code=region_code,
        region_name=region_name,
        reporting_month=month.strftime("%Y-%m"),
        next_year=next_year,
        frequency=frequency,
        history=history,
        forecast=forecast,
        accuracy=accuracy,
        chosen=chosen_methods,
        accuracy_basis=accuracy_basis,
        cases=cases,
        required=required,
        required_summary=required_summary,
        actual=actual,
        fte_comparison=fte_comparison,
        caseloads=caseloads,
        caseload_target=caseload_target,
        rates=rates,
        mixes=mixes,
        cost_per_child=per_child,
        placement_cost=placement_cost,
        notes=notes,
    )


def _monthly_average_children(history: pd.DataFrame, forecast: pd.DataFrame) -> pd.DataFrame:
    """Average month-end children looked after in each whole financial year of the forecast."""
    frames = {
        bound: combined_series(history, forecast, "cla_at_31_march", bound) for bound in BOUNDS
    }
    first_forecast = forecast.loc[forecast["measure"] == "cla_at_31_march", "period_end"].min()
    rows = []
    for end in sorted({_march(y) for y in frames["forecast"].index.year}):
        if end < pd.Timestamp(first_forecast):
            continue
        row: dict[str, object] = {"period_end": end}
        for bound, values in frames.items():
            window = values[(values.index > end - pd.DateOffset(years=1)) & (values.index <= end)]
            row[bound] = float(window.mean()) if window.notna().sum() == 12 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["period_end", *BOUNDS]).dropna(subset=["forecast"])


def _placement_cost(
    published: pd.DataFrame,
    code: str,
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    frequency: demand.Frequency,
    costs: placements.UnitCosts,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    mixes = [placements.placement_mix(published, "england")]
    try:
        mixes.append(placements.placement_mix(published, "la", la_code=code))
    except InputError:
        notes.append("No LA-level placement figures for this LA (2010-2017 SFR files).")
    per_child = pd.concat(
        [
            placements.cost_per_child(mix, costs).assign(
                mix_source=mix["mix_source"].iloc[0], mix_year=int(mix["year"].iloc[0])
            )
            for mix in mixes
        ],
        ignore_index=True,
    )
    totals = per_child[per_child["placement_group"] == "total"].set_index("mix_source")
    central = float(totals.loc[placements.DEFAULT_MIX_SOURCE, "weighted_annual_cost_gbp"])
    others = {
        source: float(row["weighted_annual_cost_gbp"])
        for source, row in totals.iterrows()
        if source != placements.DEFAULT_MIX_SOURCE
    }
    finance = placements.budget_and_outturn(published, code)
    cla_history = history[(history["measure"] == "cla_at_31_march") & history["count"].notna()]
    cla_forecast = forecast[forecast["measure"] == "cla_at_31_march"]
    if cla_history.empty or cla_forecast.empty:
        notes.append("No placement cost: no published number of children looked after.")
        return pd.concat(mixes, ignore_index=True), per_child, finance
    if frequency == "monthly":
        average = _monthly_average_children(history, forecast)
        cost = placements.cost_of_average_children(average, central)
    else:
        last_actual = float(cla_history.sort_values("period_end")["count"].iloc[-1])
        cost = placements.forecast_placement_cost(cla_forecast, last_actual, central)
    summary = placements.placement_cost_summary(cost, finance, others)
    return pd.concat(mixes, ignore_index=True), per_child, summary
