"""Caseload to FTE: the social workers a council needs for its cases, against those it has.

This module owns the arithmetic that turns cases by team type into the case-holding social
worker FTE required to keep caseloads at the scenario's targets, with the practice
supervisors and team managers those social workers need and the allowances for vacancy,
sickness and training; and the comparison of that requirement with the establishment and
the permanent, agency and vacant FTE actually reported (published DfE workforce figures, or a
council's own workforce extract).

How a team type is sized (all numbers are scenario assumptions):

* A qualified social worker holds ``caseload_target_<team>`` cases. A share
  ``asye_share_of_case_holders`` of case-holding social workers are ASYEs, who hold only
  ``asye_caseload_fraction`` of a full caseload, so one social worker FTE holds on average
  ``target x (1 - asye_share x (1 - asye_caseload_fraction))`` cases.
* Each team has one team manager, ``practice_supervisors_per_team`` practice supervisors who
  each hold ``practice_supervisor_cases_max`` cases, and case-holding social workers. The
  manager manages at most ``team_manager_span_max`` social workers, counting the practice
  supervisors, so a full team holds
  ``(span - supervisors) x effective caseload + supervisors x supervisor cases``.
* Team managers required = **ceil**(cases / cases a full team holds) by default: "at most 6
  social workers per manager" is a hard limit, so 13 social workers need 3 managers, not
  2.2. ``manager_rounding="ratio"`` gives the smooth fraction instead (useful where a cost
  model wants no steps). Practice supervisors = managers x supervisors per team; social
  worker FTE = the cases the supervisors do not hold / effective caseload.
* Allowances for vacancy, sickness and training are each a fraction *of the required FTE*
  (the scenario contract), added to every role.

Everything here is pure: DataFrames and plain numbers in, DataFrames out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from analysis.errors import InputError, Problem
from analysis.external import rows_of

if TYPE_CHECKING:
    from analysis.scenario import Scenario

#: Team types in the order a service describes its front door to leaving care.
TEAMS: tuple[str, ...] = ("assessment", "cin", "cp", "cla", "care_leavers")

TEAM_LABELS: dict[str, str] = {
    "assessment": "Assessment",
    "cin": "Children in need",
    "cp": "Child protection",
    "cla": "Children looked after",
    "care_leavers": "Care leavers",
}

#: Roles in the required-FTE table, in the order a structure chart lists them.
ROLES: tuple[str, ...] = ("team_manager", "practice_supervisor", "social_worker", "asye")

ROLE_LABELS: dict[str, str] = {
    "team_manager": "Team manager",
    "practice_supervisor": "Practice supervisor",
    "social_worker": "Social worker (qualified)",
    "asye": "Social worker (ASYE)",
}

CONTRACT_TYPES: tuple[str, ...] = ("permanent", "agency", "vacant")

#: Columns of the table :func:`required_fte` returns.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "team",
    "role",
    "cases_held",
    "caseload_target",
    "fte_for_cases",
    "vacancy_allowance_fte",
    "sickness_allowance_fte",
    "training_allowance_fte",
    "required_fte",
)

#: Calendar weeks in a year (365.25 / 7): turns durations in weeks into shares of a year.
WEEKS_PER_YEAR = 365.25 / 7

ManagerRounding = Literal["ceil", "ratio"]

#: Scenario assumptions this module reads (names fixed by the scenario contract).
ASSUMPTIONS: tuple[str, ...] = (
    *(f"caseload_target_{team}" for team in TEAMS),
    "asye_share_of_case_holders",
    "asye_caseload_fraction",
    "practice_supervisor_cases_max",
    "practice_supervisors_per_team",
    "team_manager_span_max",
    "vacancy_allowance",
    "sickness_allowance",
    "training_allowance",
    "assessment_duration_weeks",
)


@dataclass(frozen=True)
class WorkforceParameters:
    """The assumptions that size a social work establishment from its cases.

    Parameters
    ----------
    caseload_targets
        Cases per qualified case-holding social worker FTE, by team type (all of :data:`TEAMS`).
    asye_share_of_case_holders
        Fraction of case-holding social worker FTE who are ASYEs.
    asye_caseload_fraction
        Fraction of a full caseload an ASYE holds.
    practice_supervisor_cases_max
        Cases each practice supervisor holds.
    practice_supervisors_per_team
        Practice supervisors in each team (one team per team manager).
    team_manager_span_max
        The most social workers (practice supervisors included) a team manager manages.
    vacancy_allowance, sickness_allowance, training_allowance
        Extra FTE, each as a fraction of the FTE required to hold the cases.
    assessment_duration_weeks
        Average weeks an assessment stays open, turning referrals a year into open assessments.
    """

    caseload_targets: Mapping[str, float]
    asye_share_of_case_holders: float
    asye_caseload_fraction: float
    practice_supervisor_cases_max: float
    practice_supervisors_per_team: float
    team_manager_span_max: float
    vacancy_allowance: float
    sickness_allowance: float
    training_allowance: float
    assessment_duration_weeks: float

    def __post_init__(self) -> None:
        problems = []
        where = "workforce parameters"

        def bad(name: str, value: object, expected: str) -> None:
            problems.append(Problem(file=where, column=name, value=value, expected=expected))

        for team in TEAMS:
            target = self.caseload_targets.get(team)
            if target is None or not target > 0:
                bad(f"caseload_target_{team}", target, "a caseload target above zero")
        for name in (
            "asye_share_of_case_holders",
            "vacancy_allowance",
            "sickness_allowance",
            "training_allowance",
        ):
            value = getattr(self, name)
            if not 0 <= value < 1:
                bad(name, value, "a fraction from 0 up to (not including) 1")
        if not 0 < self.asye_caseload_fraction <= 1:
            bad("asye_caseload_fraction", self.asye_caseload_fraction, "a fraction in (0, 1]")
        if not self.practice_supervisor_cases_max >= 0:
            bad("practice_supervisor_cases_max", self.practice_supervisor_cases_max, "0 or more")
        if not self.practice_supervisors_per_team >= 0:
            bad("practice_supervisors_per_team", self.practice_supervisors_per_team, "0 or more")
        if not self.team_manager_span_max > self.practice_supervisors_per_team:
            bad(
                "team_manager_span_max",
                self.team_manager_span_max,
                "a span of control larger than the practice supervisors per team "
                f"({self.practice_supervisors_per_team:g}), leaving room for social workers",
            )
        if not self.assessment_duration_weeks > 0:
            bad("assessment_duration_weeks", self.assessment_duration_weeks, "weeks above zero")
        if problems:
            raise InputError(problems)

    def effective_caseload(self, team: str) -> float:
        """Average cases per case-holding social worker FTE, ASYE protection included."""
        protected = self.asye_share_of_case_holders * (1 - self.asye_caseload_fraction)
        return self.caseload_targets[team] * (1 - protected)

    def team_capacity(self, team: str) -> float:
        """Cases one full team (one manager's span) holds."""
        supervisors = self.practice_supervisors_per_team
        social_workers = self.team_manager_span_max - supervisors
        supervisor_cases = supervisors * self.practice_supervisor_cases_max
        return social_workers * self.effective_caseload(team) + supervisor_cases

    @property
    def total_allowance(self) -> float:
        return self.vacancy_allowance + self.sickness_allowance + self.training_allowance


def workforce_parameters(scenario: Scenario) -> WorkforceParameters:
    """Build the workforce parameters from a scenario.

    Raises
    ------
    InputError
        When the scenario lacks one of :data:`ASSUMPTIONS` (naming the file and every missing
        key) or a value is out of range.
    """
    scenario.require(ASSUMPTIONS, model="workforce (caseload to FTE)")
    return WorkforceParameters(
        caseload_targets={team: scenario.value(f"caseload_target_{team}") for team in TEAMS},
        asye_share_of_case_holders=scenario.value("asye_share_of_case_holders"),
        asye_caseload_fraction=scenario.value("asye_caseload_fraction"),
        practice_supervisor_cases_max=scenario.value("practice_supervisor_cases_max"),
        practice_supervisors_per_team=scenario.value("practice_supervisors_per_team"),
        team_manager_span_max=scenario.value("team_manager_span_max"),
        vacancy_allowance=scenario.value("vacancy_allowance"),
        sickness_allowance=scenario.value("sickness_allowance"),
        training_allowance=scenario.value("training_allowance"),
        assessment_duration_weeks=scenario.value("assessment_duration_weeks"),
    )


#: Demand measures (names of :mod:`analysis.external`) that :func:`cases_by_team` needs.
CASE_MEASURES: tuple[str, ...] = (
    "referrals",
    "cin_at_31_march",
    "cpp_at_31_march",
    "cla_at_31_march",
    "care_leavers_17_18",
    "care_leavers_19_21",
)


def cases_by_team(measures: Mapping[str, float], params: WorkforceParameters) -> pd.DataFrame:
    """Open cases by team type from the published (or forecast) demand measures.

    The DfE counts children in need at 31 March *including* children on a child protection
    plan, children looked after and children still being assessed, so the children-in-need
    team holds what is left once those are taken out. Open assessments at a point in time
    are the referrals of a year times the share of a year an assessment stays open.

    Parameters
    ----------
    measures
        One value per name in :data:`CASE_MEASURES` (referrals a year; the others at 31 March).
    params
        Supplies ``assessment_duration_weeks``.

    Returns
    -------
    DataFrame
        ``team`` (one row per :data:`TEAMS`) and ``cases``.

    Raises
    ------
    InputError
        When a measure is missing, not a number or negative.
    """
    problems = []
    values: dict[str, float] = {}
    for name in CASE_MEASURES:
        value = measures.get(name)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = math.nan
        if not number >= 0:
            problems.append(
                Problem(
                    file="demand measures",
                    column=name,
                    value=value,
                    expected="a count of zero or more (suppressed or missing counts cannot "
                    "size a workforce; use the forecast or an unsuppressed year)",
                )
            )
        values[name] = number
    if problems:
        raise InputError(problems)
    assessments = values["referrals"] * params.assessment_duration_weeks / WEEKS_PER_YEAR
    cin_only = (
        values["cin_at_31_march"]
        - values["cpp_at_31_march"]
        - values["cla_at_31_march"]
        - assessments
    )
    cases = {
        "assessment": assessments,
        "cin": max(cin_only, 0.0),
        "cp": values["cpp_at_31_march"],
        "cla": values["cla_at_31_march"],
        "care_leavers": values["care_leavers_17_18"] + values["care_leavers_19_21"],
    }
    return pd.DataFrame({"team": list(TEAMS), "cases": [cases[t] for t in TEAMS]})


def _check_cases(cases: pd.DataFrame) -> pd.Series:
    problems = []
    missing = {"team", "cases"} - set(cases.columns)
    if missing:
        raise InputError(
            [
                Problem(
                    file="cases by team",
                    value=", ".join(map(str, cases.columns)),
                    expected="columns 'team' and 'cases'",
                )
            ]
        )
    for position, (team, value) in enumerate(zip(cases["team"], cases["cases"], strict=True)):
        row = position + 2
        if team not in TEAMS:
            problems.append(
                Problem(
                    file="cases by team",
                    row=row,
                    column="team",
                    value=team,
                    expected=f"one of {', '.join(TEAMS)}",
                )
            )
        if not (isinstance(value, int | float) and value >= 0 and math.isfinite(value)):
            problems.append(
                Problem(
                    file="cases by team",
                    row=row,
                    column="cases",
                    value=value,
                    expected="a number of cases, zero or more",
                )
            )
    if cases["team"].duplicated().any():
        team = cases.loc[cases["team"].duplicated(), "team"].iloc[0]
        problems.append(
            Problem(file="cases by team", column="team", value=team, expected="each team once")
        )
    if problems:
        raise InputError(problems)
    # built directly: set_index copied the frame and was half of required_fte's time
    return pd.Series(
        cases["cases"].to_numpy(dtype=float),
        index=pd.Index(cases["team"], name="team"),
        name="cases",
    )


def required_fte(
    cases: pd.DataFrame,
    params: WorkforceParameters,
    *,
    manager_rounding: ManagerRounding = "ceil",
) -> pd.DataFrame:
    """The FTE required, by team type and role, to hold ``cases`` at the caseload targets.

    Parameters
    ----------
    cases
        ``team`` (from :data:`TEAMS`) and ``cases`` (open cases); see :func:`cases_by_team`.
    params
        The assumptions (see :func:`workforce_parameters`).
    manager_rounding
        ``"ceil"`` (default): whole teams, since a manager may manage *at most* the span;
        ``"ratio"``: fractional teams, so the FTE moves smoothly with demand.

    Returns
    -------
    DataFrame
        One row per team and role (:data:`ROLES`) with ``cases_held``, ``caseload_target``
        (the cases a full-time member of that role holds; blank for managers),
        ``fte_for_cases`` (FTE needed to hold the cases), ``vacancy_allowance_fte``,
        ``sickness_allowance_fte``, ``training_allowance_fte`` and ``required_fte`` (all of
        them added up).

    Raises
    ------
    InputError
        When a team is unknown or repeated, or a case count is negative or not a number.
    """
    if manager_rounding not in ("ceil", "ratio"):
        raise ValueError(f"manager_rounding must be 'ceil' or 'ratio', not {manager_rounding!r}")
    by_team = _check_cases(cases)
    rows = []
    for team, team_cases in by_team.items():
        teams_needed = team_cases / params.team_capacity(team)
        if manager_rounding == "ceil":
            teams_needed = math.ceil(teams_needed - 1e-9)
        supervisors = teams_needed * params.practice_supervisors_per_team
        supervisor_cases = min(supervisors * params.practice_supervisor_cases_max, team_cases)
        caseload = params.effective_caseload(team)
        social_workers = (team_cases - supervisor_cases) / caseload
        asye = social_workers * params.asye_share_of_case_holders
        qualified = social_workers - asye
        target = params.caseload_targets[team]
        asye_target = target * params.asye_caseload_fraction
        for role, fte, held, role_target in (
            ("team_manager", float(teams_needed), 0.0, math.nan),
            (
                "practice_supervisor",
                float(supervisors),
                supervisor_cases,
                params.practice_supervisor_cases_max,
            ),
            ("social_worker", qualified, qualified * target, target),
            ("asye", asye, asye * asye_target, asye_target),
        ):
            rows.append(
                {
                    "team": team,
                    "role": role,
                    "cases_held": held,
                    "caseload_target": role_target,
                    "fte_for_cases": fte,
                    "vacancy_allowance_fte": fte * params.vacancy_allowance,
                    "sickness_allowance_fte": fte * params.sickness_allowance,
                    "training_allowance_fte": fte * params.training_allowance,
                    "required_fte": fte * (1 + params.total_allowance),
                }
            )
    return pd.DataFrame(rows, columns=list(REQUIRED_COLUMNS))


def required_fte_summary(required: pd.DataFrame) -> pd.DataFrame:
    """Totals of a :func:`required_fte` table by role (one row per role, plus ``total``)."""
    numeric = [
        "cases_held",
        "fte_for_cases",
        "vacancy_allowance_fte",
        "sickness_allowance_fte",
        "training_allowance_fte",
        "required_fte",
    ]
    by_role = required.groupby("role", sort=False)[numeric].sum().reindex(list(ROLES))
    by_role.loc["total"] = by_role.sum()
    return by_role.reset_index()


def case_holding_fte(required: pd.DataFrame, *, with_allowances: bool = False) -> float:
    """Case-holding FTE (social workers, ASYEs and practice supervisors) in a required table."""
    holders = required[required["role"] != "team_manager"]
    column = "required_fte" if with_allowances else "fte_for_cases"
    return float(holders[column].sum())


def implied_caseload(required: pd.DataFrame) -> float:
    """Average cases per case-holding FTE in a required table (the caseload it plans for)."""
    holders = case_holding_fte(required)
    return float(required["cases_held"].sum()) / holders if holders else math.nan


@dataclass(frozen=True)
class ActualWorkforce:
    """The social work FTE a council reports, by contract type, at one date.

    ``permanent_fte`` are employees in post; ``agency_fte`` are agency workers;
    ``vacant_fte`` are vacant posts (some covered by agency workers). The establishment is
    permanent plus vacant posts, as the DfE defines the vacancy rate.
    """

    as_at: str
    source: str
    permanent_fte: float
    agency_fte: float
    vacant_fte: float
    case_holders_fte: float = math.nan
    cases_held: float = math.nan

    @property
    def establishment_fte(self) -> float:
        return self.permanent_fte + self.vacant_fte

    @property
    def working_fte(self) -> float:
        """Social workers at work: employees plus agency workers."""
        return self.permanent_fte + self.agency_fte


def vacant_fte_from_rate(in_post_fte: float, vacancy_rate_pct: float) -> float:
    """Vacant FTE from the DfE vacancy rate, which is vacancies / (vacancies + in post) x 100.

    Raises
    ------
    ValueError
        When the rate is not in [0, 100).
    """
    if not 0 <= vacancy_rate_pct < 100:
        raise ValueError(f"a vacancy rate must lie in [0, 100), not {vacancy_rate_pct}")
    rate = vacancy_rate_pct / 100
    return in_post_fte * rate / (1 - rate)


def actual_from_extract(extract: pd.DataFrame, month: str) -> ActualWorkforce:
    """A council's own workforce extract for one month, as permanent, agency and vacant FTE.

    Parameters
    ----------
    extract
        Rows with ``month`` (YYYY-MM), ``contract_type`` (``permanent``, ``agency``, ``asye``
        or ``vacant``), ``fte`` and, optionally, ``cases_held``. ASYEs are employees, so they
        count as permanent.
    month
        The month to take.

    Raises
    ------
    InputError
        When the extract has no rows for ``month``.
    """
    rows = extract[extract["month"].astype(str) == str(month)]
    if rows.empty:
        months = sorted(extract["month"].astype(str).unique())
        raise InputError(
            [
                Problem(
                    file="workforce extract",
                    column="month",
                    value=month,
                    expected=f"a month present in the extract ({', '.join(months) or 'none'})",
                )
            ]
        )
    contract = rows["contract_type"].astype(str).str.lower().replace({"asye": "permanent"})
    fte = rows["fte"].astype(float).groupby(contract).sum()
    held = rows["cases_held"].astype(float) if "cases_held" in rows else None
    holders = rows.loc[held > 0, "fte"].astype(float).sum() if held is not None else math.nan
    return ActualWorkforce(
        as_at=str(month),
        source="council workforce extract",
        permanent_fte=float(fte.get("permanent", 0.0)),
        agency_fte=float(fte.get("agency", 0.0)),
        vacant_fte=float(fte.get("vacant", 0.0)),
        case_holders_fte=float(holders),
        cases_held=float(held.sum()) if held is not None else math.nan,
    )


def compare_with_actual(required: pd.DataFrame, actual: ActualWorkforce) -> pd.DataFrame:
    """Required FTE beside the establishment and the FTE at work, by contract type.

    Returns
    -------
    DataFrame
        One row per measure: ``required`` (with allowances), ``required_case_holding``
        (without allowances), ``establishment``, ``permanent``, ``agency``, ``vacant``,
        ``at_work`` (permanent + agency) and ``case_holders``; columns ``measure``,
        ``fte``, and ``gap_fte`` (FTE at work minus required; negative = short).
    """
    total_required = float(required["required_fte"].sum())
    rows = [
        ("required", total_required),
        ("required_case_holding", case_holding_fte(required)),
        ("establishment", actual.establishment_fte),
        ("permanent", actual.permanent_fte),
        ("agency", actual.agency_fte),
        ("vacant", actual.vacant_fte),
        ("at_work", actual.working_fte),
        ("case_holders", actual.case_holders_fte),
    ]
    table = pd.DataFrame(rows, columns=["measure", "fte"])
    table["gap_fte"] = math.nan
    table.loc[table["measure"] == "at_work", "gap_fte"] = actual.working_fte - total_required
    table.loc[table["measure"] == "establishment", "gap_fte"] = (
        actual.establishment_fte - total_required
    )
    table.loc[table["measure"] == "case_holders", "gap_fte"] = (
        actual.case_holders_fte - case_holding_fte(required)
    )
    return table


#: Published workforce measures (names of :mod:`analysis.external`) read for one LA.
PUBLISHED_WORKFORCE_MEASURES: tuple[str, ...] = (
    "sw_fte_in_post",
    "agency_fte",
    "vacancy_fte",
    "case_holders_fte",
    "cases_held",
    "caseload_per_fte",
)


def actual_from_published(
    tidy: pd.DataFrame, la_code: str, year: int | None = None
) -> ActualWorkforce:
    """An LA's social workers at 30 September as the DfE workforce census publishes them.

    ``sw_fte_in_post`` are employees (permanent); agency and vacant FTE are published beside
    them. When vacant FTE is suppressed but the vacancy rate is not, it is worked back from
    the rate (:func:`vacant_fte_from_rate`).

    Parameters
    ----------
    tidy
        The tidy table of published statistics (cut to what was published by the reporting
        month, if wanted).
    la_code
        The LA's ONS code.
    year
        Reporting year (the census of 30 September of that year); the latest with an in-post
        figure when omitted.

    Raises
    ------
    InputError
        When the table has no in-post figure for the LA (and year).
    """
    own = rows_of(tidy, la_code)
    rows = own[own["measure"].isin([*PUBLISHED_WORKFORCE_MEASURES, "vacancy_rate_pct"])]
    in_post = rows[(rows["measure"] == "sw_fte_in_post") & rows["value"].notna()]
    if year is not None:
        in_post = in_post[in_post["year"] == int(year)]
    if in_post.empty:
        raise InputError(
            [
                Problem(
                    file="published statistics (children's social work workforce)",
                    column="sw_fte_in_post",
                    value=la_code if year is None else f"{la_code} in {year}",
                    expected="a published number of social workers in post for this LA",
                )
            ]
        )
    chosen = int(in_post["year"].max())
    values = (
        rows[rows["year"] == chosen].drop_duplicates("measure", keep="last").set_index("measure")
    )["value"]

    def get(name: str) -> float:
        value = values.get(name, math.nan)
        return float(value) if pd.notna(value) else math.nan

    vacant = get("vacancy_fte")
    if math.isnan(vacant) and not math.isnan(get("vacancy_rate_pct")):
        vacant = vacant_fte_from_rate(get("sw_fte_in_post"), get("vacancy_rate_pct"))
    period_end = in_post.loc[in_post["year"] == chosen, "period_end"].iloc[-1]
    return ActualWorkforce(
        as_at=pd.Timestamp(period_end).strftime("%Y-%m-%d"),
        source="DfE children's social work workforce",
        permanent_fte=get("sw_fte_in_post"),
        agency_fte=get("agency_fte"),
        vacant_fte=vacant,
        case_holders_fte=get("case_holders_fte"),
        cases_held=get("cases_held"),
    )


def weighted_caseload_target(cases: pd.DataFrame, params: WorkforceParameters) -> float:
    """The caseload target across teams, weighted by each team's cases (cases per FTE).

    It is the single target a published all-team caseload per FTE can be compared with.
    """
    by_team = _check_cases(cases)
    total = float(by_team.sum())
    if not total > 0:
        return math.nan
    fte = sum(by_team[t] / params.caseload_targets[t] for t in by_team.index)
    return total / fte


def published_caseloads(tidy: pd.DataFrame, codes: Mapping[str, str]) -> pd.DataFrame:
    """Published caseload per case-holding FTE for several geographies, year by year.

    Parameters
    ----------
    tidy
        The tidy table of published statistics.
    codes
        Label -> ONS code (for example ``{"Barking and Dagenham": "E09000002",
        "London": "E12000007", "England": "E92000001"}``).

    Returns
    -------
    DataFrame
        ``year``, ``period_end``, ``geography`` (the label), ``la_code``,
        ``caseload_per_fte``, ``cases_held`` and ``case_holders_fte``.
    """
    wanted = ["caseload_per_fte", "cases_held", "case_holders_fte"]
    frames = []
    for label, code in codes.items():
        own = rows_of(tidy, code)
        rows = own[own["measure"].isin(wanted)]
        if rows.empty:
            continue
        wide = rows.pivot_table(
            index=["year", "period_end"], columns="measure", values="value", aggfunc="last"
        ).reindex(columns=wanted)
        wide.columns.name = None
        frames.append(wide.reset_index().assign(geography=label, la_code=code))
    columns = ["year", "period_end", "geography", "la_code", *wanted]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
