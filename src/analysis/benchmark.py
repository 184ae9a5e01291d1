"""Is this normal? One council's indicators against England, its region and similar councils.

This module owns the comparison of published indicators across councils, and the RAG
scorecard:

* :func:`indicator_values` computes every benchmark indicator for every geography and year
  from the tidy published statistics (:mod:`analysis.external`): rates per 10,000 children
  aged 0-17 (referrals, children in need, child protection plans, children looked after,
  starts), the workforce indicators as the DfE publishes them (agency rate, vacancy rate,
  turnover, caseload per case-holding FTE), and finance (net spend on children's social care
  per child, and out-turn against budget, from the MHCLG RA and RSX returns);
* :func:`similar_councils` chooses a group of similar councils by a stated method: the
  nearest neighbours in standardised published characteristics (the size of the child
  population, on a log scale, and the rates of children in need, on a child protection plan
  and looked after per 10,000), all for the same year;
* :func:`benchmark_table` sets one council beside England, its region and that group, with
  its rank and quartile among all councils and its trend;
* :func:`rag_status` and :func:`scorecard` turn an indicator into red, amber or green from
  thresholds held in the scenario file.

Rates follow the DfE: a count for the year ending 31 March ``Y`` is divided by the mid-year
population estimate of ``Y - 1``. England and regional finance figures are sums over the
councils that reported, because the RA and RSX files have no regional rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import InputError, Problem
from analysis.external import once_per_table

ENGLAND_CODE = "E92000001"
LOCAL_AUTHORITY = "Local authority"
PER_10K = 10_000

Rag = Literal["red", "amber", "green"]


@dataclass(frozen=True)
class Indicator:
    """A benchmark indicator: its name, its label in reports and its unit."""

    name: str
    label: str
    unit: str


RATE_MEASURES = {
    "referrals": "Referrals",
    "cin_at_31_march": "Children in need at 31 March",
    "cpp_at_31_march": "Child protection plans at 31 March",
    "cla_at_31_march": "Children looked after at 31 March",
    "cla_starts": "Children starting to be looked after",
}
WORKFORCE_MEASURES = {
    "agency_rate_pct": ("Agency social workers", "% of social workers"),
    "vacancy_rate_pct": ("Social worker vacancies", "% of posts"),
    "turnover_rate_pct": ("Social worker turnover", "% a year"),
    "caseload_per_fte": ("Caseload", "cases per case-holding FTE"),
}

INDICATORS: tuple[Indicator, ...] = (
    *(
        Indicator(f"{m}_per_10k", label, "per 10,000 children")
        for m, label in RATE_MEASURES.items()
    ),
    *(Indicator(m, label, unit) for m, (label, unit) in WORKFORCE_MEASURES.items()),
    Indicator("children_0_17", "Children aged 0-17", "children (mid-year estimate)"),
    Indicator(
        "spend_per_child_gbp", "Net spend on children's social care", "£ per child aged 0-17"
    ),
    Indicator("outturn_vs_budget", "Out-turn against budget", "fraction of budget"),
)

#: The published characteristics that define "similar councils" (all per the same year).
SIMILARITY_FEATURES = (
    "log_population_0_17",
    "cin_at_31_march_per_10k",
    "cpp_at_31_march_per_10k",
    "cla_at_31_march_per_10k",
)

_GEOGRAPHY = ["geographic_level", "la_code", "la_name", "region_code"]
_FINANCE_AND_POPULATION = ("population_0_17", "csc_net_outturn_gbp_k", "csc_budget_gbp_k")


def _latest_edition(tidy: pd.DataFrame, measures: Sequence[str]) -> pd.DataFrame:
    rows = tidy[tidy["measure"].isin(list(measures)) & tidy["value"].notna()]
    order = ["edition"] if "edition" in rows.columns else []
    return rows.sort_values(order).drop_duplicates(["la_code", "measure", "year"], keep="last")


def _wide(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per geography and year, one column per measure, with each council's ONS region.

    The DfE files give London boroughs the sub-region Inner or Outer London; the regional
    rows name London as their parent, which is the region councils are compared with.
    """
    geography = rows.drop_duplicates("la_code", keep="last").set_index("la_code")[
        ["geographic_level", "la_name", "region_code"]
    ]
    regions = geography[geography["geographic_level"] == "Regional"]["region_code"].dropna()
    parent = {code: region for code, region in regions.items() if code != region}
    councils = geography["geographic_level"] == LOCAL_AUTHORITY
    geography.loc[councils, "region_code"] = geography.loc[councils, "region_code"].replace(parent)
    wide = rows.pivot_table(index=["la_code", "year"], columns="measure", values="value")
    return wide.reset_index().join(geography, on="la_code")


def indicator_values(tidy: pd.DataFrame) -> pd.DataFrame:
    """Every benchmark indicator for every geography and year.

    Parameters
    ----------
    tidy
        The tidy published statistics (:func:`analysis.external.load_external`).

    Returns
    -------
    DataFrame
        ``geographic_level, la_code, la_name, region_code, year, indicator, value``; a year
        without the inputs an indicator needs has no row.
    """
    counts = _latest_edition(tidy, [*RATE_MEASURES, *WORKFORCE_MEASURES, *_FINANCE_AND_POPULATION])
    wide = _wide(counts)
    # A month before a collection was first published (the RA and RSX files start in 2021/22)
    # has none of its measures: their indicators are simply missing.
    for measure in (*RATE_MEASURES, *WORKFORCE_MEASURES, *_FINANCE_AND_POPULATION):
        if measure not in wide.columns:
            wide[measure] = np.nan
    population = wide.set_index(["la_code", "year"])["population_0_17"]
    previous = pd.MultiIndex.from_arrays([wide["la_code"], wide["year"] - 1])
    wide["population_previous_year"] = population.reindex(previous).to_numpy()
    wide = _add_finance_aggregates(wide)
    values = pd.DataFrame(index=wide.index)
    for measure in RATE_MEASURES:
        values[f"{measure}_per_10k"] = wide[measure] / wide["population_previous_year"] * PER_10K
    for measure in WORKFORCE_MEASURES:
        values[measure] = wide[measure]
    values["children_0_17"] = wide["population_previous_year"]
    values["spend_per_child_gbp"] = (
        wide["finance_outturn_gbp_k"] * 1000 / wide["finance_population"]
    )
    values["outturn_vs_budget"] = wide["finance_outturn_gbp_k"] / wide["finance_budget_gbp_k"] - 1
    values = pd.concat([wide[[*_GEOGRAPHY, "year"]], values], axis=1)
    long = values.melt(id_vars=[*_GEOGRAPHY, "year"], var_name="indicator", value_name="value")
    long = long[np.isfinite(long["value"].astype(float))]
    return long.sort_values(["indicator", "la_code", "year"], ignore_index=True)


def _add_finance_aggregates(wide: pd.DataFrame) -> pd.DataFrame:
    """Add the figures finance indicators divide: a council's own, or, for England and each
    region, sums over the councils that reported both budget and out-turn (the RA and RSX
    returns have no regional rows, and a sum over fewer councils than the population covers
    would understate spend per child)."""
    own = ["csc_net_outturn_gbp_k", "csc_budget_gbp_k", "population_previous_year"]
    finance = ["finance_outturn_gbp_k", "finance_budget_gbp_k", "finance_population"]
    wide[finance] = wide[own].to_numpy()
    councils = wide[wide["geographic_level"] == LOCAL_AUTHORITY].dropna(subset=own)
    groups = [(ENGLAND_CODE, councils), *councils.groupby("region_code")]
    wide = wide.set_index(["la_code", "year"])
    for code, group in groups:
        for year, row in group.groupby("year")[own].sum().iterrows():
            if (code, year) in wide.index:
                wide.loc[(code, year), finance] = row.to_numpy()
    return wide.reset_index()


def similar_councils(
    values: pd.DataFrame, la_code: str, year: int, count: int = 10
) -> pd.DataFrame:
    """The ``count`` councils most like ``la_code`` in ``year``, nearest first.

    Method: for every council with all :data:`SIMILARITY_FEATURES` in ``year``, standardise
    each feature (subtract the mean across councils, divide by the standard deviation), and
    rank councils by Euclidean distance from ``la_code``. The size of the child population
    enters on a log scale so that doubling counts the same for small and large councils.

    Returns
    -------
    DataFrame
        ``la_code, la_name, distance`` and the raw features, ``count`` rows.

    Raises
    ------
    InputError
        When ``la_code`` lacks a feature in ``year``.
    """
    # every council's features are the same for each council's report of the month
    features = once_per_table(
        values, f"similarity_features {year}", lambda table: similarity_features(table, year)
    )
    if la_code not in features.index:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="la_code",
                    value=la_code,
                    expected=f"a council with published population, children in need, child "
                    f"protection and looked-after figures for {year}, to find similar councils",
                )
            ]
        )
    standardised = (
        features[list(SIMILARITY_FEATURES)] - features[list(SIMILARITY_FEATURES)].mean()
    ) / features[list(SIMILARITY_FEATURES)].std(ddof=0)
    distance = np.sqrt(((standardised - standardised.loc[la_code]) ** 2).sum(axis=1))
    nearest = distance.drop(la_code).sort_values(kind="stable").head(count)
    chosen = features.loc[nearest.index].copy()
    chosen.insert(1, "distance", nearest)
    return chosen.reset_index()


def similarity_features(values: pd.DataFrame, year: int) -> pd.DataFrame:
    """The similarity features of every council with all of them in ``year``, by ``la_code``."""
    councils = values[(values["geographic_level"] == LOCAL_AUTHORITY) & (values["year"] == year)]
    wide = councils.pivot_table(index="la_code", columns="indicator", values="value")
    names = councils.drop_duplicates("la_code").set_index("la_code")["la_name"]
    rates = [f for f in SIMILARITY_FEATURES if f != "log_population_0_17"]
    if not {*rates, "children_0_17"} <= set(wide.columns):
        return pd.DataFrame(columns=["la_name", *SIMILARITY_FEATURES])
    features = wide[rates].copy()
    features.insert(0, "log_population_0_17", np.log(wide["children_0_17"]))
    features.insert(0, "la_name", names.reindex(features.index))
    features = features.dropna()
    return features


def benchmark_table(
    values: pd.DataFrame, la_code: str, year: int, similar: Sequence[str]
) -> pd.DataFrame:
    """One council's indicators beside England, its region and similar councils.

    Parameters
    ----------
    values
        :func:`indicator_values`.
    la_code
        The council.
    year
        The reporting year (the year ending 31 March; 30 September for the workforce).
    similar
        Codes of the similar councils (:func:`similar_councils`).

    Returns
    -------
    DataFrame
        One row per indicator: ``indicator, label, unit, year, council, england, region,
        similar_councils`` (their median), ``rank`` (1 = highest among councils),
        ``councils`` (how many had a value), ``quartile`` (1 = lowest quarter, 4 = highest),
        ``change_on_year`` (against the year before) and ``trend_per_year`` (least-squares
        slope over up to the last five years).
    """
    council = values[values["la_code"] == la_code]
    if council.empty:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="la_code",
                    value=la_code,
                    expected="a local authority in the published statistics",
                )
            ]
        )
    region_code = str(council["region_code"].dropna().iloc[-1])
    # The year's rows and the council's, split by indicator once: filtering the whole table
    # for each indicator cost three times as much.
    in_years = _by_indicator(values[values["year"] == year])
    histories = _by_indicator(council)
    rows = []
    for indicator in INDICATORS:
        of_year = in_years.get(indicator.name, values.iloc[:0])
        in_year = of_year.set_index("la_code")["value"]
        councils = of_year[of_year["geographic_level"] == LOCAL_AUTHORITY].set_index("la_code")[
            "value"
        ]
        history = histories.get(indicator.name, values.iloc[:0]).set_index("year")["value"]
        own = in_year.get(la_code, np.nan)
        rows.append(
            {
                "indicator": indicator.name,
                "label": indicator.label,
                "unit": indicator.unit,
                "year": year,
                "council": own,
                "england": in_year.get(ENGLAND_CODE, np.nan),
                "region": in_year.get(region_code, np.nan),
                "similar_councils": councils.reindex(list(similar)).median(),
                "rank": _rank(councils, la_code),
                "councils": int(councils.notna().sum()),
                "quartile": _quartile(councils, own),
                "change_on_year": own - history.get(year - 1, np.nan),
                "trend_per_year": _trend(history, year),
            }
        )
    return pd.DataFrame(rows)


def _by_indicator(values: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of each indicator, in their order."""
    return dict(tuple(values.groupby("indicator", sort=False)))  # type: ignore[arg-type]


def _rank(values: pd.Series, la_code: str) -> float:
    if la_code not in values.index or pd.isna(values[la_code]):
        return np.nan
    return float(values.rank(ascending=False, method="min")[la_code])


def _quartile(values: pd.Series, value: float) -> float:
    """1 for the lowest quarter of councils, 4 for the highest (NaN without a value)."""
    if pd.isna(value) or values.empty:
        return np.nan
    share_below = float((values < value).sum()) / len(values)
    return float(min(4, int(share_below * 4) + 1))


def _trend(history: pd.Series, year: int, span: int = 5) -> float:
    recent = history[(history.index <= year) & (history.index > year - span)].dropna()
    if len(recent) < 3:
        return np.nan
    return float(np.polyfit(recent.index.astype(float), recent.to_numpy(dtype=float), 1)[0])


def rag_status(value: float | None, amber: float, red: float) -> Rag | None:
    """Red, amber or green for a figure where higher is worse.

    Green at or below ``amber``, amber above ``amber`` up to ``red``, red above ``red``;
    ``None`` when there is no figure.

    Raises
    ------
    ValueError
        When ``amber`` is above ``red`` (the scenario loader refuses such thresholds).
    """
    if amber > red:
        raise ValueError(f"the amber threshold {amber} is above the red threshold {red}")
    if value is None or pd.isna(value):
        return None
    if value > red:
        return "red"
    if value > amber:
        return "amber"
    return "green"


def scorecard(
    figures: Mapping[str, float | None],
    thresholds: Mapping[str, tuple[float, float]],
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A RAG scorecard: each figure with its status and the thresholds beside it.

    Parameters
    ----------
    figures
        Indicator name -> the measured figure (for example ``caseload_vs_target`` = average
        caseload / target, so 1.0 is at target).
    thresholds
        Indicator name -> (amber, red), from the scenario's ``rag`` settings.
    labels
        Indicator name -> the words shown in the report.

    Returns
    -------
    DataFrame
        ``indicator, label, value, amber_above, red_above, status``, in the order of
        ``figures``.

    Raises
    ------
    InputError
        When a figure has no thresholds.
    """
    missing = [name for name in figures if name not in thresholds]
    if missing:
        raise InputError(
            [
                Problem(
                    file="scenario",
                    location="settings.rag",
                    column=name,
                    expected="amber and red thresholds for every scorecard indicator",
                    has_value=False,
                )
                for name in missing
            ]
        )
    labels = labels or {}
    rows = []
    for name, value in figures.items():
        amber, red = thresholds[name]
        rows.append(
            {
                "indicator": name,
                "label": labels.get(name, name.replace("_", " ")),
                "value": value,
                "amber_above": amber,
                "red_above": red,
                "status": rag_status(value, amber, red),
            }
        )
    return pd.DataFrame(rows)
