"""Loaders for the seed council's published tables, each checked against its declared schema.

One function per raw table. Each returns a typed DataFrame indexed by the row number a person
sees in the file, or raises :class:`~analysis.errors.InputError` naming every problem. The
published figures are facts as printed: these loaders never correct them (see
:mod:`analysis.reconcile` for the checks of whether they add up).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.errors import InputError, Problem
from analysis.paths import seed_dir
from analysis.tables import Column, TableSpec, read_table

STRUCTURES = ("before", "improvement", "efficient")
TOTAL_AREA = "Total"

FUNDING_COLUMNS = (
    "care_and_support_funding_gbp",
    "other_council_funding_gbp",
    "external_funding_gbp",
)


def _consecutive_years(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Financial years must run without a gap (2019/20, 2020/21, ...)."""
    years = sorted({int(str(y)[:4]) for y in frame["financial_year"]})
    problems = []
    for earlier, later in zip(years, years[1:], strict=False):
        if later != earlier + 1:
            row = int(frame.index[frame["financial_year"].str.startswith(str(later))][0])
            problems.append(
                Problem(
                    file=file,
                    row=row,
                    column="financial_year",
                    value=f"{later}/{str(later + 1)[2:]}",
                    expected=f"consecutive financial years; the year before it, "
                    f"{earlier + 1}/{str(earlier + 2)[2:]}, is missing",
                )
            )
    return problems


def _balances_not_negative(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Opening and closing budgets and out-turns are amounts of zero or more."""
    balances = frame[frame["kind"].isin(["opening", "closing"]) & (frame["amount_gbp_m"] < 0)]
    return [
        Problem(
            file=file,
            row=int(row),
            column="amount_gbp_m",
            value=amount,
            expected="an opening or closing balance of zero or more (£m)",
        )
        for row, amount in balances["amount_gbp_m"].items()
    ]


TOM_STRUCTURES = TableSpec(
    name="Target Operating Model structures",
    columns=(
        Column("source", "text", "the published document the row comes from"),
        Column("structure", "category", "before, improvement or efficient", allowed=STRUCTURES),
        Column("budget_area", "text", "the service, or 'Total'"),
        Column("fte", "fte", "full-time equivalent posts"),
        Column("cost_gbp", "money", "base cost: the posts at budgeted pay, £ per year"),
        Column("true_cost_gbp", "money", "true cost including agency premium and payments"),
        Column(
            "care_and_support_funding_gbp",
            "money",
            "funded by the children's care budget",
            blank_allowed=True,
        ),
        Column(
            "other_council_funding_gbp",
            "money",
            "funded by other council budgets",
            blank_allowed=True,
        ),
        Column(
            "external_funding_gbp",
            "money",
            "funded by police, NHS, Home Office grants",
            blank_allowed=True,
        ),
    ),
    key=("structure", "budget_area"),
)

BUDGET_TRAJECTORY = TableSpec(
    name="budget trajectory",
    columns=(
        Column("source", "text", "the published document the row comes from"),
        Column("financial_year", "financial_year", "the financial year, like 2019/20"),
        Column(
            "side",
            "category",
            "budget, outturn or variance",
            allowed=("budget", "outturn", "variance"),
        ),
        Column("line", "text", "the line as printed"),
        Column(
            "kind",
            "category",
            "opening, movement, closing or published",
            allowed=("opening", "movement", "closing", "published"),
        ),
        Column(
            "amount_gbp_m",
            "number",
            "the amount in £ million; blank where not printed",
            blank_allowed=True,
        ),
    ),
    key=("financial_year", "side", "line"),
    checks=(_consecutive_years, _balances_not_negative),
)

PUBLISHED_ASSUMPTIONS = TableSpec(
    name="published assumptions",
    columns=(
        Column("source", "text", "the published document the assumption comes from"),
        Column("name", "text", "the assumption's name"),
        Column("value", "number", "the published value"),
        Column("unit", "text", "the unit of the value"),
        Column("applies_to", "text", "what the assumption applies to"),
        Column("quote_summary", "text", "a short summary of the published text"),
    ),
    key=("name",),
)


TEXT_PRESSURES = TableSpec(
    name="budget pressures stated in the text",
    columns=(
        Column("source", "text", "the published document the figure comes from"),
        Column("financial_year", "financial_year", "the financial year, like 2019/20"),
        Column("pressure_gbp_m", "number", "the pressure stated in the text, £ million"),
        Column("quote_summary", "text", "a short summary of the published text"),
    ),
    key=("financial_year",),
)


def load_text_pressures(path: Path | None = None) -> pd.DataFrame:
    """Return the budget pressures the programme document's narrative states (£m).

    Raises
    ------
    InputError
        With every problem in the file.
    """
    return read_table(path or seed_dir() / "budget_text_pressures.csv", TEXT_PRESSURES)


def load_tom_structures(path: Path | None = None) -> pd.DataFrame:
    """Return the published FTE, cost, true cost and funding by structure and budget area."""
    return read_table(path or seed_dir() / "tom_structures.csv", TOM_STRUCTURES)


def load_budget_trajectory(path: Path | None = None) -> pd.DataFrame:
    """Return the published budget and out-turn build-up by financial year (£m)."""
    return read_table(path or seed_dir() / "budget_trajectory.csv", BUDGET_TRAJECTORY)


def load_published_assumptions(path: Path | None = None) -> pd.DataFrame:
    """Return the numeric assumptions stated in the published documents."""
    return read_table(path or seed_dir() / "published_assumptions.csv", PUBLISHED_ASSUMPTIONS)


#: Every seed table: its file name and loader, in the order ``validate`` checks them.
SEED_TABLES: dict[str, tuple[str, Callable[[Path | None], pd.DataFrame]]] = {
    "tom_structures": ("tom_structures.csv", load_tom_structures),
    "budget_trajectory": ("budget_trajectory.csv", load_budget_trajectory),
    "published_assumptions": ("published_assumptions.csv", load_published_assumptions),
    "budget_text_pressures": ("budget_text_pressures.csv", load_text_pressures),
}


def load_seed_tables(folder: Path | None = None) -> dict[str, pd.DataFrame]:
    """Load every seed table, reporting the problems of all files together.

    Raises
    ------
    InputError
        With the problems of every file that failed.
    """
    folder = folder or seed_dir()
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name, (file_name, loader) in SEED_TABLES.items():
        try:
            tables[name] = loader(folder / file_name)
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return tables
