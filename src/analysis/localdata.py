"""A council's own monthly management information: the demand and workforce extracts.

This module owns the two monthly extract formats a council can drop into ``data/raw/local/``
(documented in ``docs/local_extracts.md``, with templates in ``docs/templates/``):

``demand_monthly.csv``
    one row per calendar month and measure: ``month`` (YYYY-MM), ``measure`` (one of
    :data:`DEMAND_MEASURES`) and ``count``. Flows (referrals, starts, ceases) are counted in
    the month; stocks (open cases) are counted on the last day of the month.
``workforce_monthly.csv``
    one row per month, team, role and contract type: ``month``, ``team`` (the council's own
    team name), ``role`` (:data:`ROLES`), ``contract_type`` (:data:`CONTRACT_TYPES`), ``fte``
    and ``cases_held`` (blank for roles that hold no cases).

Both are read with :func:`analysis.tables.read_table`, so every problem names the file, the
row, the column, the value and what was expected. The extracts are optional: when they are
absent, :func:`load_local_extracts` says so and the models use the annual published series.

:func:`demand_as_tidy` turns the demand extract into the long shape of
:mod:`analysis.external` (``la_code``, ``measure``, ``period_end``, ``value`` ...) so the
forecasting code reads monthly and annual data alike, and :func:`annual_from_monthly` sums
flows over April-March and takes stocks at March, so a council's own figures can be set beside
the published ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import Problem
from analysis.paths import display_path, local_dir
from analysis.tables import Column, TableSpec, read_table

DEMAND_FILE = "demand_monthly.csv"
WORKFORCE_FILE = "workforce_monthly.csv"

FLOW = "flow"
STOCK = "stock"


@dataclass(frozen=True)
class MonthlyMeasure:
    """A monthly measure: whether it is a flow or a stock, and its published annual twin."""

    name: str
    kind: str  # FLOW: counted in the month; STOCK: counted on the month's last day
    annual: str | None  # the measure in analysis.external it adds up to, if any
    description: str


#: The measures a demand extract may hold, in the order a report reads them.
DEMAND_MEASURES: dict[str, MonthlyMeasure] = {
    m.name: m
    for m in (
        MonthlyMeasure("referrals", FLOW, "referrals", "referrals received in the month"),
        MonthlyMeasure(
            "assessments_completed", FLOW, None, "children and family assessments completed"
        ),
        MonthlyMeasure(
            "section47_enquiries", FLOW, "section47_enquiries", "section 47 enquiries started"
        ),
        MonthlyMeasure("icpcs", FLOW, "icpcs", "initial child protection conferences held"),
        MonthlyMeasure("cin_starts", FLOW, "cin_starts", "children in need episodes started"),
        MonthlyMeasure(
            "cin_at_month_end", STOCK, "cin_at_31_march", "children in need on the last day"
        ),
        MonthlyMeasure("cpp_starts", FLOW, None, "child protection plans started"),
        MonthlyMeasure("cpp_ends", FLOW, None, "child protection plans ended"),
        MonthlyMeasure(
            "cpp_at_month_end", STOCK, "cpp_at_31_march", "child protection plans on the last day"
        ),
        MonthlyMeasure("cla_starts", FLOW, "cla_starts", "children starting to be looked after"),
        MonthlyMeasure("cla_ceases", FLOW, "cla_ceases", "children ceasing to be looked after"),
        MonthlyMeasure(
            "cla_at_month_end", STOCK, "cla_at_31_march", "children looked after on the last day"
        ),
        MonthlyMeasure(
            "care_leavers_at_month_end", STOCK, None, "care leavers the council supports"
        ),
    )
}

#: Roles in a workforce extract.
ROLES: tuple[str, ...] = (
    "team_manager",
    "practice_supervisor",
    "senior_social_worker",
    "social_worker",
)

#: Contract types: ASYEs are employees in their first year; vacant rows are unfilled posts.
CONTRACT_TYPES: tuple[str, ...] = ("permanent", "agency", "asye", "vacant")


# ASCII digits and a year from 0001: pandas' periods reject other scripts' digits and year 0.
_MONTH = r"(?!0000)[0-9]{4}-(0[1-9]|1[0-2])"


def _month_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Every month is a real calendar month written YYYY-MM."""
    text = frame["month"].astype("string").str.strip()
    valid = text.str.fullmatch(_MONTH).fillna(False)
    return [
        Problem(
            file=file,
            row=int(row),
            column="month",
            value=frame.at[row, "month"],
            expected="a calendar month written YYYY-MM, such as 2024-04",
        )
        for row in frame.index[~valid]
    ]


def _whole_problems(frame: pd.DataFrame, file: str, column: str) -> list[Problem]:
    values = frame[column]
    bad = values.notna() & ((values < 0) | (values != np.round(values)))
    return [
        Problem(
            file=file,
            row=int(row),
            column=column,
            value=values[row],
            expected="a whole number of zero or more (a count of children or cases)",
        )
        for row in frame.index[bad]
    ]


def _gap_problems(frame: pd.DataFrame, file: str, by: str) -> list[Problem]:
    """Each measure's months run without a gap, so seasonality is read from the right month."""
    problems = []
    valid = frame["month"].astype("string").str.fullmatch(_MONTH).fillna(False)
    for name, rows in frame[valid].groupby(by, sort=True):
        months = pd.PeriodIndex(rows["month"].astype(str), freq="M")
        expected = pd.period_range(months.min(), months.max(), freq="M")
        missing = expected.difference(months)
        if len(missing):
            problems.append(
                Problem(
                    file=file,
                    column="month",
                    value=str(name),
                    location=f"{by} {name}",
                    has_value=False,
                    expected=f"one row for every month from {months.min()} to {months.max()}; "
                    f"missing {', '.join(str(m) for m in missing[:6])}"
                    + (" ..." if len(missing) > 6 else ""),
                )
            )
    return problems


def _demand_checks(frame: pd.DataFrame, file: str) -> list[Problem]:
    problems = _month_problems(frame, file) + _whole_problems(frame, file, "count")
    return problems or _gap_problems(frame, file, "measure")


def _workforce_checks(frame: pd.DataFrame, file: str) -> list[Problem]:
    problems = _month_problems(frame, file) + _whole_problems(frame, file, "cases_held")
    vacant_with_cases = (frame["contract_type"] == "vacant") & (frame["cases_held"] > 0)
    problems += [
        Problem(
            file=file,
            row=int(row),
            column="cases_held",
            value=frame.at[row, "cases_held"],
            expected="0 or blank on a vacant row (a vacant post holds no cases)",
        )
        for row in frame.index[vacant_with_cases]
    ]
    return problems


DEMAND_EXTRACT = TableSpec(
    name="monthly demand extract",
    columns=(
        Column("month", "text", "the calendar month, written YYYY-MM"),
        Column(
            "measure",
            "category",
            "what was counted",
            allowed=tuple(DEMAND_MEASURES),
        ),
        Column("count", "number", "the count: in the month for flows, on its last day for stocks"),
    ),
    key=("month", "measure"),
    checks=(_demand_checks,),
)

WORKFORCE_EXTRACT = TableSpec(
    name="monthly workforce extract",
    columns=(
        Column("month", "text", "the calendar month, written YYYY-MM"),
        Column("team", "text", "the council's name for the team"),
        Column("role", "category", "the role", allowed=ROLES),
        Column("contract_type", "category", "the contract", allowed=CONTRACT_TYPES),
        Column("fte", "fte", "full-time equivalent at the month's end"),
        Column(
            "cases_held",
            "number",
            "cases held at the month's end; blank for roles that hold none",
            blank_allowed=True,
        ),
    ),
    key=("month", "team", "role", "contract_type"),
    checks=(_workforce_checks,),
)


def load_demand_extract(path: Path | None = None) -> pd.DataFrame:
    """Read a council's monthly demand extract.

    Parameters
    ----------
    path
        The CSV file; ``data/raw/local/demand_monthly.csv`` by default.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``measure``, ``count`` indexed by the file's row number (header = 1).

    Raises
    ------
    InputError
        Naming the file, row, column and value of every problem (a month not written YYYY-MM,
        an unknown measure, a negative or fractional count, a repeated month and measure, a
        gap in a measure's months).
    """
    return read_table(path or local_dir() / DEMAND_FILE, DEMAND_EXTRACT)


def load_workforce_extract(path: Path | None = None) -> pd.DataFrame:
    """Read a council's monthly workforce extract.

    Parameters
    ----------
    path
        The CSV file; ``data/raw/local/workforce_monthly.csv`` by default.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``team``, ``role``, ``contract_type``, ``fte``, ``cases_held`` indexed by the
        file's row number (header = 1).

    Raises
    ------
    InputError
        Naming the file, row, column and value of every problem (unknown role or contract
        type, negative FTE, cases on a vacant row, a repeated month/team/role/contract).
    """
    return read_table(path or local_dir() / WORKFORCE_FILE, WORKFORCE_EXTRACT)


@dataclass(frozen=True)
class LocalExtracts:
    """The extracts found in a folder; ``None`` for one that is absent."""

    folder: str
    demand: pd.DataFrame | None
    workforce: pd.DataFrame | None

    @property
    def has_demand(self) -> bool:
        return self.demand is not None

    def describe(self) -> str:
        """One sentence for a report saying which data the models used."""
        if self.demand is None:
            return (
                f"No monthly demand extract in {self.folder}: the forecasts use the DfE's "
                "annual published statistics."
            )
        months = self.demand["month"]
        return (
            f"The council's monthly demand extract ({months.min()} to {months.max()}, "
            f"{self.demand['measure'].nunique()} measures) from {self.folder}."
        )


def load_local_extracts(folder: Path | None = None) -> LocalExtracts:
    """Read whichever monthly extracts are present in ``data/raw/local/``.

    Raises
    ------
    InputError
        When an extract is present but wrong (an absent extract is not an error).
    """
    folder = folder or local_dir()
    demand_path, workforce_path = folder / DEMAND_FILE, folder / WORKFORCE_FILE
    return LocalExtracts(
        folder=display_path(folder),
        demand=load_demand_extract(demand_path) if demand_path.is_file() else None,
        workforce=load_workforce_extract(workforce_path) if workforce_path.is_file() else None,
    )


def demand_as_tidy(
    demand: pd.DataFrame, la_code: str, la_name: str, source_file: str = DEMAND_FILE
) -> pd.DataFrame:
    """Return a demand extract in the long shape of :mod:`analysis.external`.

    ``period_end`` is the month's last day; ``year`` is the calendar year of that day.

    Parameters
    ----------
    demand
        From :func:`load_demand_extract`.
    la_code, la_name
        The council the extract belongs to.
    source_file
        Named in ``source_file`` (relative to ``data/raw``, e.g. ``local/demand_monthly.csv``).
    """
    month = pd.PeriodIndex(demand["month"].astype(str), freq="M")
    period_end = month.to_timestamp(how="end").normalize()
    return pd.DataFrame(
        {
            "geographic_level": "Local authority",
            "la_code": la_code,
            "la_name": la_name,
            "year": period_end.year.to_numpy(),
            "period_end": period_end.to_numpy(),
            "measure": demand["measure"].astype(str).to_numpy(),
            "value": demand["count"].astype(float).to_numpy(),
            "unit": "children",
            "suppression": pd.array([pd.NA] * len(demand), dtype="string"),
            "source_file": f"local/{source_file}" if "/" not in source_file else source_file,
        }
    ).sort_values(["measure", "period_end"], ignore_index=True)


def annual_from_monthly(demand: pd.DataFrame) -> pd.DataFrame:
    """Add a demand extract up to reporting years (April to March), as the DfE publishes them.

    Flows are summed over the twelve months April to March; stocks are taken at March. A year
    with a missing month is left out rather than under-counted. Only measures with a
    published twin (:class:`MonthlyMeasure` ``annual``) are returned, under that name.

    Returns
    -------
    pandas.DataFrame
        ``year`` (2025 = April 2024 to March 2025), ``measure`` (the published name),
        ``value`` and ``months`` (12).
    """
    month = pd.PeriodIndex(demand["month"].astype(str), freq="M")
    frame = pd.DataFrame(
        {
            "measure": demand["measure"].astype(str).to_numpy(),
            "count": demand["count"].astype(float).to_numpy(),
            # The reporting year ends in March: April 2024 belongs to 2025.
            "year": month.year + (month.month >= 4),
            "is_march": month.month == 3,
        }
    )
    rows = []
    for (measure, year), group in frame.groupby(["measure", "year"], sort=True):
        spec = DEMAND_MEASURES[measure]
        if spec.annual is None or len(group) != 12:
            continue
        value = group["count"].sum() if spec.kind == FLOW else group.loc[group["is_march"], "count"]
        rows.append(
            {
                "year": int(year),
                "measure": spec.annual,
                "value": float(value if spec.kind == FLOW else value.iloc[0]),
                "months": len(group),
            }
        )
    return pd.DataFrame(rows, columns=["year", "measure", "value", "months"])
