"""A council beside its region and England: rates per 10,000 children aged 0 to 17.

This module owns putting one LA's published counts on the same footing as its region's and
England's: each count divided by the ONS mid-year population of children aged 0 to 17 and
multiplied by 10,000. As the DfE does, a count for the year ending 31 March ``Y`` is divided
by the population at mid-year ``Y - 1`` (the latest estimate at that date).

The region is the ONS region (London, not the DfE's Inner or Outer London sub-regions, which
the published files give London boroughs as their region), so every LA is compared with one
of the nine English regions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.errors import InputError, Problem
from analysis.external import rows_of

ENGLAND_CODE = "E92000001"
POPULATION_MEASURE = "population_0_17"
PER = 10_000


def ons_region(tidy: pd.DataFrame, region_code: str) -> tuple[str, str]:
    """The ONS region (code, name) of a region code, mapping Inner/Outer London to London.

    Raises
    ------
    InputError
        When the code is not a region in the published files.
    """
    rows = _regional_rows(tidy, region_code)
    if rows.empty:
        raise InputError(
            [
                Problem(
                    file="published statistics",
                    column="region_code",
                    value=region_code,
                    expected="a region code present in the published files (E12000001 to "
                    "E12000009, E13000001 or E13000002)",
                )
            ]
        )
    parent = rows["region_code"].dropna()
    code = str(parent.iloc[-1]) if len(parent) else region_code
    return code, str(_regional_rows(tidy, code)["la_name"].dropna().iloc[-1])


def _regional_rows(tidy: pd.DataFrame, code: str) -> pd.DataFrame:
    # through the table's row index: comparing the code of every published row cost 12 ms
    rows = rows_of(tidy, code)
    return rows[rows["geographic_level"] == "Regional"]


def rates_per_10k(
    tidy: pd.DataFrame, codes: Mapping[str, str], measures: Sequence[str]
) -> pd.DataFrame:
    """Counts per 10,000 children aged 0 to 17 for several geographies and measures.

    Parameters
    ----------
    tidy
        The tidy table of published statistics (with ``population_0_17``).
    codes
        Label -> ONS code, for example ``{"Barking and Dagenham": "E09000002", "London":
        "E12000007", "England": "E92000001"}``.
    measures
        Count measures (``cla_at_31_march``, ``referrals``, ...).

    Returns
    -------
    DataFrame
        ``geography`` (the label), ``la_code``, ``measure``, ``year``, ``period_end``,
        ``count``, ``population_0_17`` (mid-year ``year - 1``) and ``rate_per_10k``; a year
        without a population estimate or a published count has no row.
    """
    frames = []
    for label, code in codes.items():
        rows = tidy[tidy["la_code"] == code]
        population = (
            rows[rows["measure"] == POPULATION_MEASURE]
            .drop_duplicates("year", keep="last")
            .set_index("year")["value"]
        )
        counts = rows[rows["measure"].isin(list(measures)) & rows["value"].notna()]
        counts = counts.sort_values("edition").drop_duplicates(["measure", "year"], keep="last")
        if counts.empty:
            continue
        frame = pd.DataFrame(
            {
                "geography": label,
                "la_code": code,
                "measure": counts["measure"].to_numpy(),
                "year": counts["year"].to_numpy(),
                "period_end": counts["period_end"].to_numpy(),
                "count": counts["value"].astype(float).to_numpy(),
            }
        )
        frame["population_0_17"] = (frame["year"] - 1).map(population).astype(float)
        frame["rate_per_10k"] = frame["count"] / frame["population_0_17"] * PER
        frames.append(frame.dropna(subset=["rate_per_10k"]))
    columns = [
        "geography",
        "la_code",
        "measure",
        "year",
        "period_end",
        "count",
        "population_0_17",
        "rate_per_10k",
    ]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)[columns]
    return table.sort_values(["measure", "geography", "year"], ignore_index=True)
