"""Budget trajectory: the Care and Support budget, out-turn and variance by financial year,
published and modelled side by side, and projected over the scenario's medium-term horizon.

Every figure carries a ``status``:

* ``published``: as printed, in the programme document's Appendix B, in its narrative text
  (``data/raw/seed/budget_text_pressures.csv``) or in the council's MHCLG revenue returns (RA
  budget, RSX out-turn; whole children's social care, a wider scope than the Care and Support
  budget, and only once published by the reporting month);
* ``modelled``: the model's figure for a year the document covers (2019/20 to 2021/22);
* ``projected``: the model's figure for a later year.

How the model builds each year (all in £m; the first year opens on the document's 2018/19
budget and out-turn, each later year on the model's previous closing figures):

Out-turn = opening + the document's own movements (existing savings plans, projected growth)
where it prints them + the staffing lines from the cost model:

* **structure change**: the change in the Care and Support share of the true cost of the
  structure in place, at last year's prices and grants. The Improvement structure runs from
  the first year; the Efficient one from ``efficient_structure_from``, with a part-year effect
  (a move in October puts half the saving in that year and the rest in the next). In
  2019/20 this is Improvement less Before, the document's "TOM cost implications" (£1.9m).
* **pay award**: ``pay_award_rate`` on the whole true cost from the second year, as the
  document prices it (2% on £18.04m is £0.36m, "in addition to the £18m cost");
* **external grants**: the Care and Support budget picks up grants that do not continue
  (``grant_continuation`` each year);
* **legacy retention award**: the one-off award in its year, reversed the year after.

After the document's years, demand growth is ``demand_growth_rate`` on the previous out-turn
and no savings plans are assumed. The budget is the document's opening plus its printed
movements; later years hold it flat, except where the council's RA budget covers the year:
then the budget moves with the council's whole-service RA budget from the last year the
document and the RA returns share (``projected`` from council returns). The council's RSX
out-turn gives a second, independent projection of the out-turn the same way.

Variance = out-turn - budget (positive is an overspend). :func:`variance_comparison` sets the
model against both published versions of the variance, and :func:`explain_variances` writes
which it agrees with and why, from the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from analysis.costs import CostAssumptions, ScenarioLike, totals_of
from analysis.errors import InputError, Problem
from analysis.periods import (
    financial_year_label,
    financial_year_of,
    months_from,
    parse_reporting_month,
    start_year_of_label,
)

MODEL_NAME = "budget trajectory"
BUDGET_ASSUMPTION_NAMES = ("pay_award_rate", "demand_growth_rate", "grant_continuation")

#: Appendix B out-turn lines the cost model works out itself (the rest are taken as printed).
COST_MODEL_LINES = ("TOM Cost Implications", "Efficient TOM Structure")

#: Figures in Appendix B are printed to £0.1m; a variance compares two rounded closings and is
#: itself rounded, so model and print agree when within three half-units.
PRINTED_UNIT_GBP_M = 0.1
AGREEMENT_TOLERANCE_GBP_M = 3 * PRINTED_UNIT_GBP_M / 2

STATUSES = ("published", "modelled", "projected")

LINE_STRUCTURE = "Structure change (cost model)"
LINE_PAY = "Pay award (scenario)"
LINE_GRANTS = "External grants not continuing (scenario)"
LINE_LEGACY = "Legacy retention award (one-off)"
LINE_GROWTH = "Demand growth (scenario)"
LINE_RA = "Council budget change (MHCLG RA)"


@dataclass(frozen=True)
class BudgetAssumptions:
    """The named assumptions and settings of the budget trajectory, as plain values."""

    pay_award_rate: float
    demand_growth_rate: float
    grant_continuation: float
    efficient_structure_from: str
    horizon_years: int


def budget_assumptions(scenario: ScenarioLike) -> BudgetAssumptions:
    """Read the budget trajectory's assumptions and settings from a scenario.

    Raises
    ------
    InputError
        Naming the scenario file and every assumption the trajectory needs that it lacks.
    """
    scenario.require(BUDGET_ASSUMPTION_NAMES, model=MODEL_NAME)
    settings = scenario.settings
    return BudgetAssumptions(
        pay_award_rate=float(scenario.value("pay_award_rate")),
        demand_growth_rate=float(scenario.value("demand_growth_rate")),
        grant_continuation=float(scenario.value("grant_continuation")),
        efficient_structure_from=str(settings.efficient_structure_from),
        horizon_years=int(settings.horizon_years),
    )


def trajectory_years(
    published: pd.DataFrame, reporting_month: str | pd.Period, horizon_years: int
) -> list[str]:
    """Return the financial years to show: from the document's first year to the reporting
    year's horizon (``horizon_years`` years starting with the reporting year), and at least
    every year the document covers.

    Raises
    ------
    InputError
        When the reporting month is malformed or falls before the document's first year.
    """
    month = (
        reporting_month
        if isinstance(reporting_month, pd.Period)
        else parse_reporting_month(reporting_month)
    )
    starts = sorted({start_year_of_label(y) for y in published["financial_year"]})
    first, last = starts[0], starts[-1]
    reporting = start_year_of_label(financial_year_of(month))
    if reporting < first:
        raise InputError(
            [
                Problem(
                    file="the reporting_month parameter",
                    value=str(month),
                    expected=f"a month in or after April {first}, when the budget trajectory "
                    f"starts ({financial_year_label(first)})",
                )
            ]
        )
    end = max(last, reporting + horizon_years - 1)
    return [financial_year_label(y) for y in range(first, end + 1)]


# ---- council returns (MHCLG RA budget and RSX out-turn) -------------------------------------


def council_returns(tidy: pd.DataFrame, la_code: str, reporting_month: str) -> pd.DataFrame:
    """Return the council's whole children's social care budget and net out-turn by financial
    year (£m), from the MHCLG RA and RSX returns published by ``reporting_month``.

    ``tidy`` is :func:`analysis.external.load_external`'s table; years a return does not
    cover, or that were not yet published, are missing.
    """
    from analysis.external import published_as_of, rows_of

    known = rows_of(published_as_of(tidy, reporting_month), la_code)
    frames = []
    for measure, column in (
        ("csc_budget_gbp_k", "budget_gbp_m"),
        ("csc_net_outturn_gbp_k", "outturn_gbp_m"),
    ):
        rows = known[known["measure"] == measure]
        frames.append(
            pd.Series(
                rows["value"].to_numpy() / 1000,
                index=[financial_year_label(int(y) - 1) for y in rows["year"]],
                name=column,
            )
        )
    returns = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    returns = returns.reindex(columns=["budget_gbp_m", "outturn_gbp_m"])
    returns.index.name = "financial_year"
    return returns.sort_index().reset_index()


# ---- staffing cost by year -------------------------------------------------------------------


def staffing_by_year(
    costs: pd.DataFrame,
    cost: CostAssumptions,
    budget: BudgetAssumptions,
    years: Sequence[str],
) -> pd.DataFrame:
    """Return the Care and Support cost of the structure in place in each year, and its change
    split into structure, pay award, grants and the legacy award (£).

    ``costs`` is :func:`analysis.costs.structure_costs` (recurring, at the first year's prices).
    The year before the first is the Before structure.
    """
    totals = totals_of(costs)
    rows = []
    previous = {
        "true_cost": float(totals.loc["before", "true_cost_gbp"]),
        "external": float(totals.loc["before", "external_funding_gbp"]),
        "other": float(totals.loc["before", "other_council_funding_gbp"]),
        "pay_factor": 1.0,
        "grant_factor": 1.0,
        "legacy": 0.0,
    }
    legacy_total = cost.legacy_retention_award_staff * cost.legacy_retention_award_gbp
    for index, year in enumerate(years):
        efficient_months = months_from(year, budget.efficient_structure_from)
        weight = {"improvement": (12 - efficient_months) / 12, "efficient": efficient_months / 12}

        def blend(column: str, w: dict[str, float] = weight) -> float:
            return float(sum(share * totals.loc[s, column] for s, share in w.items()))

        current = {
            "true_cost": blend("true_cost_gbp"),
            "external": blend("external_funding_gbp"),
            "other": blend("other_council_funding_gbp"),
            "pay_factor": (1 + budget.pay_award_rate) ** index,
            "grant_factor": budget.grant_continuation**index,
            "legacy": legacy_total if year == cost.legacy_retention_award_year else 0.0,
        }
        structure_change = (
            (current["true_cost"] - previous["true_cost"]) * previous["pay_factor"]
            - (current["external"] - previous["external"]) * previous["grant_factor"]
            - (current["other"] - previous["other"])
        )
        pay = current["true_cost"] * (current["pay_factor"] - previous["pay_factor"])
        grants = -current["external"] * (current["grant_factor"] - previous["grant_factor"])
        care_and_support = (
            current["true_cost"] * current["pay_factor"]
            - current["external"] * current["grant_factor"]
            - current["other"]
        )
        rows.append(
            {
                "financial_year": year,
                "improvement_months": 12 - efficient_months,
                "efficient_months": efficient_months,
                "true_cost_gbp": current["true_cost"] * current["pay_factor"],
                "external_funding_gbp": current["external"] * current["grant_factor"],
                "other_council_funding_gbp": current["other"],
                "care_and_support_cost_gbp": care_and_support + current["legacy"],
                "structure_change_gbp": structure_change,
                "pay_award_gbp": pay,
                "grants_not_continuing_gbp": grants,
                "legacy_retention_award_gbp": current["legacy"] - previous["legacy"],
            }
        )
        previous = current
    return pd.DataFrame(rows)


# ---- the trajectory --------------------------------------------------------------------------


def _line(year: str, side: str, line: str, kind: str, amount: float, status: str, basis: str):
    return {
        "financial_year": year,
        "side": side,
        "line": line,
        "kind": kind,
        "amount_gbp_m": amount,
        "status": status,
        "basis": basis,
    }


def _reference_index(returns: pd.DataFrame, column: str, published_years: set[str]):
    """The last year the document and the council's return share, and the return's values."""
    series = returns.set_index("financial_year")[column].dropna()
    shared = [y for y in series.index if y in published_years]
    return (shared[-1], series) if shared else (None, series)


def modelled_lines(
    published: pd.DataFrame,
    staffing: pd.DataFrame,
    budget: BudgetAssumptions,
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the model's budget and out-turn build-up by year: opening, movements, closing.

    Columns: financial_year, side (budget, outturn), line, kind (opening, movement, closing),
    amount_gbp_m, status (modelled or projected) and basis (where the figure comes from).

    Raises
    ------
    InputError
        When the published trajectory lacks the first year's opening budget or out-turn.
    """
    published_years = list(dict.fromkeys(published["financial_year"]))
    first = published_years[0]
    openings = published[(published["financial_year"] == first) & (published["kind"] == "opening")]
    problems = [
        Problem(
            file="data/raw/seed/budget_trajectory.csv",
            column="kind",
            expected=f"an opening {side} line for {first}",
            has_value=False,
        )
        for side in ("budget", "outturn")
        if openings[openings["side"] == side]["amount_gbp_m"].dropna().empty
    ]
    if problems:
        raise InputError(problems)
    returns = returns if returns is not None else pd.DataFrame(columns=["financial_year"])
    ra_reference, ra = (
        _reference_index(returns, "budget_gbp_m", set(published_years))
        if "budget_gbp_m" in returns
        else (None, pd.Series(dtype=float))
    )
    rows: list[dict] = []
    closing = {
        side: float(openings[openings["side"] == side]["amount_gbp_m"].iloc[0])
        for side in ("budget", "outturn")
    }
    reference_budget = None
    for step in staffing.itertuples(index=False):
        year = step.financial_year
        in_document = year in published_years
        status = "modelled" if in_document else "projected"
        printed = published[
            (published["financial_year"] == year) & (published["kind"] == "movement")
        ]
        opening = dict(closing)
        # budget side
        rows.append(
            _line(
                year,
                "budget",
                "Opening budget",
                "opening",
                opening["budget"],
                status,
                "Appendix B" if year == first else "model: previous closing budget",
            )
        )
        budget_total = opening["budget"]
        for item in printed[printed["side"] == "budget"].itertuples(index=False):
            amount = 0.0 if pd.isna(item.amount_gbp_m) else float(item.amount_gbp_m)
            rows.append(
                _line(
                    year, "budget", item.line, "movement", amount, status, "Appendix B, as printed"
                )
            )
            budget_total += amount
        if not in_document and ra_reference is not None and year in ra.index:
            target = reference_budget * ra[year] / ra[ra_reference]
            rows.append(
                _line(
                    year,
                    "budget",
                    LINE_RA,
                    "movement",
                    target - budget_total,
                    status,
                    f"council RA budget {year} / {ra_reference}",
                )
            )
            budget_total = target
        if year == ra_reference:
            reference_budget = budget_total
        rows.append(
            _line(
                year,
                "budget",
                "Closing budget",
                "closing",
                budget_total,
                status,
                "opening + movements",
            )
        )
        # out-turn side
        rows.append(
            _line(
                year,
                "outturn",
                "Opening out-turn",
                "opening",
                opening["outturn"],
                status,
                "Appendix B" if year == first else "model: previous closing out-turn",
            )
        )
        outturn_total = opening["outturn"]
        for item in printed[printed["side"] == "outturn"].itertuples(index=False):
            if item.line in COST_MODEL_LINES:
                continue
            amount = 0.0 if pd.isna(item.amount_gbp_m) else float(item.amount_gbp_m)
            rows.append(
                _line(
                    year, "outturn", item.line, "movement", amount, status, "Appendix B, as printed"
                )
            )
            outturn_total += amount
        if not in_document:
            growth = budget.demand_growth_rate * opening["outturn"]
            rows.append(
                _line(
                    year,
                    "outturn",
                    LINE_GROWTH,
                    "movement",
                    growth,
                    status,
                    "demand_growth_rate x previous out-turn",
                )
            )
            outturn_total += growth
        for line, column, basis in (
            (
                LINE_STRUCTURE,
                "structure_change_gbp",
                "cost model: Care and Support share of true cost, structure in place",
            ),
            (LINE_PAY, "pay_award_gbp", "pay_award_rate x true cost"),
            (
                LINE_GRANTS,
                "grants_not_continuing_gbp",
                "(1 - grant_continuation) x external funding",
            ),
            (
                LINE_LEGACY,
                "legacy_retention_award_gbp",
                "legacy award staff x award, in its year; reversed the year after",
            ),
        ):
            amount = float(getattr(step, column)) / 1e6
            rows.append(_line(year, "outturn", line, "movement", amount, status, basis))
            outturn_total += amount
        rows.append(
            _line(
                year,
                "outturn",
                "Closing out-turn",
                "closing",
                outturn_total,
                status,
                "opening + movements",
            )
        )
        closing = {"budget": budget_total, "outturn": outturn_total}
    return pd.DataFrame(rows)


def _closings(lines: pd.DataFrame) -> pd.DataFrame:
    closing = lines[lines["kind"] == "closing"].pivot(
        index="financial_year", columns="side", values="amount_gbp_m"
    )
    closing["variance"] = closing["outturn"] - closing["budget"]
    status = lines.groupby("financial_year")["status"].first()
    return closing.assign(status=status)


def outturn_from_council_returns(
    published: pd.DataFrame, lines: pd.DataFrame, returns: pd.DataFrame | None
) -> pd.Series:
    """Project the out-turn of later years from the council's RSX out-turn (£m).

    The model's out-turn in the last year the document and the RSX returns share moves with the
    council's whole-service net out-turn: out-turn(t) = model(ref) x RSX(t) / RSX(ref). Only
    years after the document's, where the RSX out-turn is published, get a figure.
    """
    empty = pd.Series(dtype=float, name="outturn_gbp_m")
    if returns is None or returns.empty or "outturn_gbp_m" not in returns:
        return empty
    document_years = set(published["financial_year"])
    reference, rsx = _reference_index(returns, "outturn_gbp_m", document_years)
    if reference is None:
        return empty
    model = _closings(lines)["outturn"]
    later = [y for y in rsx.index if y not in document_years and y in model.index]
    return pd.Series(
        [model[reference] * rsx[y] / rsx[reference] for y in later],
        index=later,
        name="outturn_gbp_m",
        dtype=float,
    )


def trajectory_table(
    published: pd.DataFrame,
    text_pressures: pd.DataFrame,
    lines: pd.DataFrame,
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return the trajectory in long form, one figure per row, each labelled with its status.

    Columns: financial_year, measure (budget, outturn, variance), status (published, modelled,
    projected), basis and amount_gbp_m. Published figures come from Appendix B, the
    document's text (variance only) and the council's RA/RSX returns (whole children's social
    care); modelled and projected ones from :func:`modelled_lines`.
    """
    rows = []
    for item in published[published["kind"].isin(["closing", "published"])].itertuples():
        measure = "variance" if item.side == "variance" else item.side
        rows.append((item.financial_year, measure, "published", "Appendix B", item.amount_gbp_m))
    for item in text_pressures.itertuples():
        rows.append(
            (item.financial_year, "variance", "published", "document text", item.pressure_gbp_m)
        )
    if returns is not None and not returns.empty:
        basis = "MHCLG RA/RSX, whole children's social care"
        for item in returns.itertuples():
            variance = item.outturn_gbp_m - item.budget_gbp_m
            for measure, value in (
                ("budget", item.budget_gbp_m),
                ("outturn", item.outturn_gbp_m),
                ("variance", variance),
            ):
                if pd.notna(value):
                    rows.append((item.financial_year, measure, "published", basis, value))
    for year, closing in _closings(lines).iterrows():
        for measure in ("budget", "outturn", "variance"):
            rows.append((year, measure, closing["status"], "model", closing[measure]))
    for year, value in outturn_from_council_returns(published, lines, returns).items():
        rows.append(
            (year, "outturn", "projected", "model out-turn moved with the council's RSX", value)
        )
    table = pd.DataFrame(
        rows, columns=["financial_year", "measure", "status", "basis", "amount_gbp_m"]
    )
    return table.sort_values(["financial_year", "measure"], kind="stable").reset_index(drop=True)


def trajectory_summary(
    published: pd.DataFrame,
    text_pressures: pd.DataFrame,
    lines: pd.DataFrame,
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per financial year: published and model figures side by side (£m).

    Columns: financial_year, status (of the model figures: modelled or projected),
    published_budget_gbp_m, published_outturn_gbp_m, appendix_variance_gbp_m,
    text_pressure_gbp_m, model_budget_gbp_m, model_outturn_gbp_m, model_variance_gbp_m and,
    when ``returns`` are given, council_budget_gbp_m, council_outturn_gbp_m (whole children's
    social care, MHCLG RA/RSX, published) and outturn_from_council_returns_gbp_m (projected:
    see :func:`outturn_from_council_returns`).
    """
    closings = _closings(lines)
    printed = published[published["kind"].isin(["closing", "published"])]
    printed = printed.pivot(index="financial_year", columns="side", values="amount_gbp_m")
    text = text_pressures.set_index("financial_year")["pressure_gbp_m"]
    summary = pd.DataFrame(index=closings.index)
    summary["status"] = closings["status"]
    summary["published_budget_gbp_m"] = printed["budget"].reindex(summary.index)
    summary["published_outturn_gbp_m"] = printed["outturn"].reindex(summary.index)
    summary["appendix_variance_gbp_m"] = printed["variance"].reindex(summary.index)
    summary["text_pressure_gbp_m"] = text.reindex(summary.index)
    summary["model_budget_gbp_m"] = closings["budget"]
    summary["model_outturn_gbp_m"] = closings["outturn"]
    summary["model_variance_gbp_m"] = closings["variance"]
    if returns is not None and not returns.empty:
        council = returns.set_index("financial_year")
        summary["council_budget_gbp_m"] = council["budget_gbp_m"].reindex(summary.index)
        summary["council_outturn_gbp_m"] = council["outturn_gbp_m"].reindex(summary.index)
        summary["outturn_from_council_returns_gbp_m"] = outturn_from_council_returns(
            published, lines, returns
        ).reindex(summary.index)
    return summary.reset_index()


def appendix_basis(cost: CostAssumptions, budget: BudgetAssumptions):
    """Return the assumptions with the items Appendix B leaves out switched off: no pay award,
    no legacy retention award, every grant continuing."""
    return (
        replace(cost, legacy_retention_award_staff=0.0, pay_award_rate=0.0),
        replace(budget, pay_award_rate=0.0, grant_continuation=1.0),
    )


def variance_comparison(
    published: pd.DataFrame,
    text_pressures: pd.DataFrame,
    lines: pd.DataFrame,
    appendix_basis_lines: pd.DataFrame,
    tolerance_gbp_m: float = AGREEMENT_TOLERANCE_GBP_M,
) -> pd.DataFrame:
    """Set the model's variance against the appendix's and the text's, year by year.

    Columns: financial_year, appendix_variance_gbp_m, text_pressure_gbp_m,
    printed_outturn_less_budget_gbp_m (the appendix's own closings subtracted),
    printed_budget_gbp_m, built_up_budget_gbp_m (appendix opening + printed movements),
    model_variance_gbp_m, model_appendix_basis_gbp_m (the model without the items the
    appendix leaves out), items_left_out_gbp_m (pay award, legacy award and grants) and
    agrees_with, agrees_with_on_appendix_basis ("appendix", "text", "both" or "neither").
    """
    summary = trajectory_summary(published, text_pressures, lines).set_index("financial_year")
    basis = _closings(appendix_basis_lines)
    years = [y for y in summary.index if pd.notna(summary.loc[y, "appendix_variance_gbp_m"])]
    table = summary.loc[years, ["appendix_variance_gbp_m", "text_pressure_gbp_m"]].copy()
    table["printed_outturn_less_budget_gbp_m"] = (
        summary.loc[years, "published_outturn_gbp_m"] - summary.loc[years, "published_budget_gbp_m"]
    )
    table["printed_budget_gbp_m"] = summary.loc[years, "published_budget_gbp_m"]
    table["built_up_budget_gbp_m"] = basis.loc[years, "budget"]
    table["model_variance_gbp_m"] = summary.loc[years, "model_variance_gbp_m"]
    table["model_appendix_basis_gbp_m"] = basis.loc[years, "variance"]
    table["items_left_out_gbp_m"] = (
        table["model_variance_gbp_m"] - table["model_appendix_basis_gbp_m"]
    )

    def verdict(model: pd.Series) -> pd.Series:
        appendix = (model - table["appendix_variance_gbp_m"]).abs() <= tolerance_gbp_m
        text = (model - table["text_pressure_gbp_m"]).abs() <= tolerance_gbp_m
        words = pd.Series("neither", index=model.index)
        words[appendix & ~text] = "appendix"
        words[text & ~appendix] = "text"
        words[appendix & text] = "both"
        return words

    table["agrees_with"] = verdict(table["model_variance_gbp_m"])
    table["agrees_with_on_appendix_basis"] = verdict(table["model_appendix_basis_gbp_m"])
    return table.reset_index()


def _m(value: float) -> str:
    """Write £m to one decimal, rounding halves away from zero as printed tables do."""
    tenths = int(abs(value) * 10 + 0.5 + 1e-9)
    sign = "-" if value < 0 and tenths else ""
    return f"{sign}£{tenths // 10:,}.{tenths % 10}m"


def _matching_line(
    published: pd.DataFrame, year: str, difference: float, tolerance_gbp_m: float
) -> str | None:
    """Name the printed movement, in ``year`` or before, whose size is closest to
    ``difference`` (within ``tolerance_gbp_m``), or ``None``."""
    movements = published[(published["kind"] == "movement") & published["amount_gbp_m"].notna()]
    movements = movements[movements["financial_year"] <= year]
    if movements.empty:
        return None
    gaps = (movements["amount_gbp_m"].abs() - abs(difference)).abs()
    best = gaps.idxmin()
    if gaps[best] > tolerance_gbp_m:
        return None
    line = movements.loc[best]
    amount = float(line["amount_gbp_m"])
    printed = f"{'-' if amount < 0 else ''}£{abs(amount):g}m"
    return f"'{line['line']}' ({line['financial_year']}, {printed})"


def explain_variances(
    comparison: pd.DataFrame,
    published: pd.DataFrame,
    tolerance_gbp_m: float = AGREEMENT_TOLERANCE_GBP_M,
) -> str:
    """Write, from the numbers, where the model agrees with the appendix or the text and why.

    For each year: which published variance the model agrees with on the appendix's basis;
    whether the appendix's variance follows its printed closings or its built-up budget; what
    the items the appendix leaves out add; and, where the text differs from the appendix, the
    printed line of the same size (within one printed unit), if any.
    """
    verdicts = {
        "appendix": "agrees with the appendix",
        "text": "agrees with the text",
        "both": "agrees with both",
        "neither": "agrees with neither",
    }
    sentences = []
    for row in comparison.itertuples(index=False):
        sentence = (
            f"{row.financial_year}: the appendix gives a variance of "
            f"{_m(row.appendix_variance_gbp_m)} and the text a pressure of "
            f"{_m(row.text_pressure_gbp_m)}; on the appendix's own basis the model finds "
            f"{_m(row.model_appendix_basis_gbp_m)}, which "
            f"{verdicts[row.agrees_with_on_appendix_basis]}"
        )
        gap = row.printed_outturn_less_budget_gbp_m - row.appendix_variance_gbp_m
        budget_gap = row.printed_budget_gbp_m - row.built_up_budget_gbp_m
        if abs(gap) > tolerance_gbp_m and abs(budget_gap) > tolerance_gbp_m:
            sentence += (
                f". The appendix's printed closing budget, {_m(row.printed_budget_gbp_m)}, is "
                f"not its opening plus its printed movements, {_m(row.built_up_budget_gbp_m)}: "
                f"its variance is the out-turn less the built-up budget (the printed closings "
                f"give {_m(row.printed_outturn_less_budget_gbp_m)})"
            )
        if abs(row.items_left_out_gbp_m) > tolerance_gbp_m:
            sentence += (
                f". Adding the pay award, the legacy retention award and grant changes, which "
                f"the appendix leaves out, the model's variance is {_m(row.model_variance_gbp_m)}"
            )
        difference = row.text_pressure_gbp_m - row.appendix_variance_gbp_m
        if pd.notna(difference) and abs(difference) > tolerance_gbp_m:
            match = _matching_line(published, row.financial_year, difference, PRINTED_UNIT_GBP_M)
            sentence += (
                f". The text's figure is {_m(abs(difference))} "
                f"{'above' if difference > 0 else 'below'} the appendix's"
            )
            sentence += (
                f", the size of the appendix line {match}"
                if match
                else ", which no printed line of that size explains"
            )
        sentences.append(sentence + ".")
    return " ".join(sentences)


def waterfall(lines: pd.DataFrame, financial_year: str, side: str = "outturn") -> pd.DataFrame:
    """Return one year's build-up as waterfall steps: opening, each movement, closing.

    Columns: step, kind, amount_gbp_m, start_gbp_m, end_gbp_m (the bar runs from start to end).
    Movements of zero are left out.

    Raises
    ------
    ValueError
        When the year or side is not in ``lines``.
    """
    year = lines[(lines["financial_year"] == financial_year) & (lines["side"] == side)]
    if year.empty:
        raise ValueError(f"no {side} lines for {financial_year}")
    steps = []
    running = 0.0
    for item in year.itertuples(index=False):
        if item.kind == "movement" and abs(item.amount_gbp_m) < 1e-9:
            continue
        if item.kind == "movement":
            start, running = running, running + item.amount_gbp_m
        else:
            start, running = 0.0, item.amount_gbp_m
        steps.append((item.line, item.kind, item.amount_gbp_m, start, running))
    return pd.DataFrame(steps, columns=["step", "kind", "amount_gbp_m", "start_gbp_m", "end_gbp_m"])


def build_trajectory(
    published: pd.DataFrame,
    costs_at_scenario: pd.DataFrame,
    costs_appendix_basis: pd.DataFrame,
    cost: CostAssumptions,
    budget: BudgetAssumptions,
    reporting_month: str,
    returns: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the modelled lines at the scenario and on the appendix's basis, over the years
    :func:`trajectory_years` gives for ``reporting_month``.

    ``costs_appendix_basis`` is :func:`analysis.costs.structure_costs` with the cost assumptions
    from :func:`appendix_basis` (the recurring cost does not depend on them today, but the
    caller passes it so the two runs stay independent).

    Raises
    ------
    InputError
        When the reporting month is malformed or before the trajectory starts.
    """
    years = trajectory_years(published, reporting_month, budget.horizon_years)
    cost_basis, budget_basis = appendix_basis(cost, budget)
    lines = modelled_lines(
        published, staffing_by_year(costs_at_scenario, cost, budget, years), budget, returns
    )
    basis_lines = modelled_lines(
        published,
        staffing_by_year(costs_appendix_basis, cost_basis, budget_basis, years),
        budget_basis,
        returns,
    )
    return lines, basis_lines
