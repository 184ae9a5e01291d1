"""Scenario files: published values read not retyped, inheritance, and every error message."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from analysis import paths
from analysis.errors import InputError
from analysis.loaders import load_published_assumptions
from analysis.scenario import (
    ASSUMPTION_COLUMNS,
    export_scenario_to_excel,
    load_scenario,
    load_scenario_from_excel,
)

CONTRACT_ASSUMPTIONS = (
    "agency_share",
    "agency_premium_gbp_per_fte",
    "recruitment_payment_gbp",
    "retention_payment_rate",
    "legacy_retention_award_gbp",
    "pay_award_rate",
    "grant_continuation",
    "demand_growth_rate",
    "caseload_target_assessment",
    "caseload_target_cin",
    "caseload_target_cp",
    "caseload_target_cla",
    "caseload_target_care_leavers",
    "asye_share_of_case_holders",
    "asye_caseload_fraction",
    "practice_supervisor_cases_max",
    "team_manager_span_max",
    "vacancy_allowance",
    "sickness_allowance",
    "training_allowance",
    "cla_entry_rate_change",
    "cla_exit_rate_change",
    "unit_cost_fostering_gbp_per_week",
    "unit_cost_residential_gbp_per_week",
    "unit_cost_other_placement_gbp_per_week",
)

PUBLISHED = {
    "agency_share": ("agency_share_of_social_worker_posts", 0.15),
    "agency_premium_gbp_per_fte": ("agency_premium_per_fte", 30000),
    "recruitment_payment_gbp": ("recruitment_payment", 5000),
    "retention_payment_rate": ("retention_payment_rate_max", 0.06),
    "legacy_retention_award_gbp": ("legacy_retention_award", 15000),
    "pay_award_rate": ("pay_award_rate_example", 0.02),
    "practice_supervisor_cases_max": ("practice_supervisor_caseload_max", 8),
    "team_manager_span_max": ("team_manager_span_of_control_max", 6),
}


@pytest.fixture(scope="module")
def base():
    return load_scenario()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A scenarios folder holding a copy of base.yaml, for children broken on purpose."""
    shutil.copy(paths.default_scenario_path(), tmp_path / "base.yaml")
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def child(folder: Path, body: str, name: str = "child.yaml") -> Path:
    header = "name: Child\ndescription: A test child.\nextends: base.yaml\n"
    return write(folder, name, header + textwrap.dedent(body))


def edited_base(folder: Path, old: str, new: str) -> Path:
    """The copied base with one piece of text replaced (the first occurrence)."""
    path = folder / "base.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    """The line (counted from 1) where ``text`` first appears in a file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)


def problems_of(path: Path | str) -> str:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    report = caught.value.report()
    assert "Input should" not in report and "pydantic" not in report
    return report


# ---- the base scenario ---------------------------------------------------------------------


def test_base_reads_published_values_from_the_seed_file(base):
    table = load_published_assumptions().set_index("name")["value"]
    for name, (published_name, printed) in PUBLISHED.items():
        assumption = base.assumption(name)
        assert assumption.published == published_name
        assert assumption.value == printed == table[published_name]
    assert base.value("agency_share") == 0.15


def test_base_holds_every_assumption_of_the_contract_with_unit_source_and_range(base):
    assert set(CONTRACT_ASSUMPTIONS) <= set(base.assumptions)
    for name in CONTRACT_ASSUMPTIONS:
        a = base.assumption(name)
        assert a.name == name
        assert a.unit and a.source and a.description
        assert a.low <= a.value <= a.high


def test_base_values_and_ranges_that_matter_to_the_models(base):
    premium = base.assumption("agency_premium_gbp_per_fte")
    assert (premium.value, premium.low, premium.high) == (30000, 6000, 40000)
    assert premium.unit == "GBP per FTE per year"
    assert base.value("grant_continuation") == 1.0
    assert "15.2" in base.assumption("caseload_target_cin").source
    assert base.assumption("caseload_target_cp").distribution == "fixed"
    assert base.assumption("agency_share").distribution == "triangular"


def test_base_settings_with_grid_ranges_taken_from_the_assumptions(base):
    settings = base.settings
    assert settings.la_code == "E09000002"
    assert settings.efficient_structure_from == "2021-04"
    assert settings.horizon_years == 5
    share = settings.sensitivity.agency_share_grid
    premium = settings.sensitivity.agency_premium_grid
    assert (share.low, share.high, share.steps) == (0.05, 0.50, 46)
    assert (premium.low, premium.high, premium.steps) == (6000, 40000, 35)
    assert settings.sensitivity.seed == 20190401
    assert settings.sensitivity.correlation_agency_share_premium == 0.0
    assert settings.rag.variance_vs_budget.red == 0.02
    assert settings.rag.caseload_vs_target.amber == 1.0


def test_base_provenance(base):
    path = paths.default_scenario_path()
    assert base.path == path
    assert base.files == [path]
    assert base.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert base.name == "Base case"


def test_blank_path_means_the_base_scenario(base):
    assert load_scenario("") == base
    assert load_scenario("scenarios/base.yaml") == base


def test_published_value_follows_the_file_it_is_read_from(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(paths.scenarios_dir(), root / "scenarios")
    shutil.copytree(paths.seed_dir(), root / "data" / "raw" / "seed")
    csv = root / "data" / "raw" / "seed" / "published_assumptions.csv"
    csv.chmod(0o644)
    csv.write_text(
        csv.read_text().replace(
            "agency_share_of_social_worker_posts,0.15,", "agency_share_of_social_worker_posts,0.25,"
        )
    )
    monkeypatch.setenv("CSC_FINANCE_ROOT", str(root))
    assert load_scenario().value("agency_share") == 0.25


# ---- a child scenario ----------------------------------------------------------------------


def test_child_changes_only_the_value_it_overrides(base):
    high = load_scenario(paths.scenarios_dir() / "high_agency.yaml")
    assert high.value("agency_share") == 0.226
    assert high.assumption("agency_share").unit == "fraction"
    assert high.assumption("agency_share").published is None
    assert "22.6%" in high.assumption("agency_share").source
    changed = [n for n in base.assumptions if high.assumptions[n] != base.assumptions[n]]
    assert changed == ["agency_share"]
    assert high.settings == base.settings
    assert high.name == "High agency share"
    assert high.files == [paths.scenarios_dir() / "high_agency.yaml", paths.default_scenario_path()]


def test_child_overrides_a_setting_deep_inside_a_block(folder):
    path = child(folder, "settings:\n  sensitivity:\n    seed: 7\n  horizon_years: 3\n")
    scenario = load_scenario(path)
    assert scenario.settings.sensitivity.seed == 7
    assert scenario.settings.horizon_years == 3
    assert scenario.settings.sensitivity.monte_carlo_draws == 100000


# ---- the API -------------------------------------------------------------------------------


def test_with_values_changes_one_value_and_records_it(base):
    changed = base.with_values(agency_share=0.3, pay_award_rate=0.04)
    assert changed.value("agency_share") == 0.3
    assert changed.value("pay_award_rate") == 0.04
    assert changed.overrides == {"agency_share": 0.3, "pay_award_rate": 0.04}
    assert base.value("agency_share") == 0.15
    assert changed.value("agency_premium_gbp_per_fte") == 30000
    assert changed != base
    assert changed.with_values(agency_share=0.15, pay_award_rate=0.02) == base


def test_with_values_refuses_a_value_outside_its_range_or_an_unknown_name(base):
    with pytest.raises(InputError) as caught:
        base.with_values(agency_share=0.8, agency_shar=0.2, pay_award_rate="high")
    report = caught.value.report()
    assert (
        "In scenarios/base.yaml, key 'assumptions.agency_share.value': found '0.8'; expected a "
        "value inside its plausible range, 0.05 to 0.5" in report
    )
    assert "assumptions.agency_shar'" in report and "did you mean 'agency_share'?" in report
    assert (
        "key 'assumptions.pay_award_rate.value': found 'high'; expected a finite number" in report
    )


@hypothesis_settings(max_examples=50, deadline=None)
@given(share=st.floats(min_value=-1.0, max_value=2.0, allow_nan=False))
def test_with_values_accepts_exactly_the_plausible_range(base, share):
    if 0.05 <= share <= 0.50:
        assert base.with_values(agency_share=share).value("agency_share") == share
    else:
        with pytest.raises(InputError):
            base.with_values(agency_share=share)


def test_value_and_require_name_the_file_and_every_missing_assumption(base):
    with pytest.raises(InputError) as caught:
        base.value("on_cost_rate")
    assert caught.value.report().startswith(
        "In scenarios/base.yaml, key 'assumptions.on_cost_rate'; expected an assumption "
        "'on_cost_rate'"
    )
    base.require(["agency_share", "pay_award_rate"], "the TOM cost model")
    with pytest.raises(InputError) as caught:
        base.require(["agency_share", "on_cost_rate", "agency_cap_gbp"], "the TOM cost model")
    problems = caught.value.problems
    assert [p.location for p in problems] == [
        "key 'assumptions.on_cost_rate'",
        "key 'assumptions.agency_cap_gbp'",
    ]
    assert "which the TOM cost model needs; add it to scenarios/base.yaml" in problems[0].message()


def test_assumptions_table(base):
    table = base.assumptions_table()
    assert tuple(table.columns) == ASSUMPTION_COLUMNS
    assert len(table) == len(base.assumptions)
    row = table.set_index("name").loc["agency_premium_gbp_per_fte"]
    assert (row["value"], row["low"], row["high"], row["unit"]) == (
        30000.0,
        6000.0,
        40000.0,
        "GBP per FTE per year",
    )
    assert row["published"] == "agency_premium_per_fte"


# ---- every kind of error -------------------------------------------------------------------


def test_unknown_keys_at_every_level(folder):
    path = child(
        folder,
        """
        colour: blue
        settings:
          sensitivity:
            monte_carlo_drawz: 5
        assumptions:
          agency_shar:
            value: 0.2
            source: analyst judgement
          recruitment_payment_gbp:
            vaule: 3
        """,
    )
    report = problems_of(path)
    assert "child.yaml, key 'colour' (line 5): found 'colour'; expected a known key" in report
    assert (
        "key 'settings.sensitivity.monte_carlo_drawz' (line 8): found 'monte_carlo_drawz'; "
        "expected a known key (did you mean 'monte_carlo_draws'?)" in report
    )
    assert (
        "key 'assumptions.agency_shar' (line 10): found 'agency_shar'; expected the name of an "
        "assumption defined in" in report
    )
    assert "(did you mean 'agency_share'?)" in report
    assert (
        "key 'assumptions.recruitment_payment_gbp.vaule' (line 14): found 'vaule'; expected a "
        "known key (did you mean 'value'?); the keys allowed here are value, unit, source, low, "
        "high, distribution, description" in report
    )
    assert len(report.split("\n\n")) == 4


def test_missing_unit(folder):
    path = edited_base(folder, "    unit: fraction\n", "")
    report = problems_of(path)
    assert report == (
        f"In {path}, key 'assumptions.agency_share.unit' (in the block at line "
        f"{line_of(path, '  agency_share:')}); expected a value for 'unit': the unit "
        "of the value, such as 'fraction' or 'GBP per FTE per year'."
    )


def test_value_outside_its_range(folder):
    path = child(
        folder, "assumptions:\n  agency_premium_gbp_per_fte:\n    value: 50000\n    source: x\n"
    )
    assert problems_of(path) == (
        f"In {path}, key 'assumptions.agency_premium_gbp_per_fte.value' (line 6): found "
        "'50000.0'; expected a value inside its plausible range, 6000 to 40000; widen low or high "
        "if the value is right."
    )


def test_published_value_outside_its_range_says_where_it_was_read(folder):
    path = edited_base(folder, "    low: 0.05\n    high: 0.50\n", "    low: 0.20\n    high: 0.50\n")
    report = problems_of(path)
    assert "key 'assumptions.agency_share.value' (line " in report
    assert "found '0.15'; expected a value inside its plausible range, 0.2 to 0.5" in report
    assert (
        "(the value is read from data/raw/seed/published_assumptions.csv, "
        "'agency_share_of_social_worker_posts')" in report
    )


def test_wrong_types(folder):
    path = child(
        folder,
        """
        settings:
          horizon_years: "5"
          la_code: X123
        assumptions:
          pay_award_rate:
            value: 2%
            source: x
          sickness_allowance:
            low: abc
        """,
    )
    report = problems_of(path)
    assert (
        "key 'assumptions.pay_award_rate.value' (line 10): found '2%'; expected a number (write a "
        "plain number without £, % or commas: 0.15 for 15%, 30000 for £30k)" in report
    )
    assert (
        "key 'assumptions.sickness_allowance.low' (line 13): found 'abc'; expected a number"
        in report
    )
    assert (
        "key 'settings.horizon_years' (line 6): found '5'; expected a whole number (this was "
        "read as text" in report
    )
    assert (
        "key 'settings.la_code' (line 7): found 'X123'; expected the ONS code of an English "
        "upper-tier council, like E09000002" in report
    )


def test_low_above_high(folder):
    path = child(
        folder, "assumptions:\n  recruitment_payment_gbp:\n    low: 9000\n    high: 1000\n"
    )
    assert problems_of(path) == (
        f"In {path}, key 'assumptions.recruitment_payment_gbp.low' (line 6): found '9000.0'; "
        "expected a low end at or below the high end (1000)."
    )


def test_fraction_outside_zero_to_one(folder):
    path = child(
        folder, "assumptions:\n  grant_continuation:\n    value: 1.5\n    high: 2\n    source: x\n"
    )
    report = problems_of(path)
    assert (
        "key 'assumptions.grant_continuation.value' (line 6): found '1.5'; expected a fraction "
        "between 0 and 1." in report
    )
    assert (
        "key 'assumptions.grant_continuation.high' (line 7): found '2.0'; expected a fraction"
        in report
    )


def test_growth_may_be_negative_but_not_below_minus_one(folder):
    assert load_scenario(child(folder, "assumptions:\n  demand_growth_rate:\n    low: -0.5\n"))
    path = child(folder, "assumptions:\n  demand_growth_rate:\n    low: -1.5\n", "fall.yaml")
    assert (
        "found '-1.5'; expected a fraction per year of -1 (everything gone) or more"
        in problems_of(path)
    )


def test_unsupported_distribution(folder):
    path = child(folder, "assumptions:\n  agency_share:\n    distribution: lognormal\n")
    assert problems_of(path) == (
        f"In {path}, key 'assumptions.agency_share.distribution' (line 6): found 'lognormal'; "
        "expected one of 'triangular', 'uniform', 'normal' or 'fixed': how the Monte Carlo draws "
        "the assumption."
    )


def test_grid_points_over_the_limit(folder):
    path = child(folder, "settings:\n  sensitivity:\n    max_grid_points: 1000\n")
    assert problems_of(path) == (
        f"In {path}, key 'settings.sensitivity.agency_share_grid.steps' "
        f"(line {line_of(folder / 'base.yaml', 'steps: 46')}): found '46'; "
        "expected at most settings.sensitivity.max_grid_points = 1,000 grid points; "
        "agency_share_grid.steps x agency_premium_grid.steps = 46 x 35 = 1,610: use fewer steps "
        "or raise the limit."
    ).replace(f"In {path}", f"In {folder / 'base.yaml'}")


def test_grid_outside_its_assumption_range(folder):
    path = child(folder, "settings:\n  sensitivity:\n    agency_share_grid:\n      high: 0.9\n")
    assert (
        "key 'settings.sensitivity.agency_share_grid.high' (line 7): found '0.9'; expected a value "
        "inside the plausible range of agency_share, 0.05 to 0.5" in problems_of(path)
    )


def test_rag_amber_above_red(folder):
    path = child(folder, "settings:\n  rag:\n    variance_vs_budget:\n      amber: 0.05\n")
    assert problems_of(path) == (
        f"In {path}, key 'settings.rag.variance_vs_budget.amber' (line 7): found '0.05'; "
        "expected an amber threshold at or below the red one (0.02)."
    )


def test_unreadable_yaml_names_the_line(folder):
    path = write(
        folder,
        "broken.yaml",
        "name: X\ndescription: x\nsettings:\n  la_code: E1\n   horizon_years: 5\n",
    )
    report = problems_of(path)
    assert report.startswith(f"In {path}, line 5, character 17; expected valid YAML")
    assert "check the indentation" in report


def test_duplicate_key(folder):
    path = write(folder, "dup.yaml", "name: X\ndescription: x\nname: Y\n")
    assert problems_of(path) == (
        f"In {path}, key 'name' (line 3); expected each key written once in its block; this one "
        "repeats an earlier key, whose value would silently be replaced."
    )


def test_missing_file_and_missing_parent(folder):
    assert problems_of(folder / "nothere.yaml") == (
        f"In {folder / 'nothere.yaml'}; expected an existing scenario file."
    )
    path = write(folder, "orphan.yaml", "name: X\ndescription: x\nextends: gone.yaml\n")
    assert problems_of(path) == (
        f"In {path}, key 'extends' (line 3): found 'gone.yaml'; expected an existing scenario "
        f"file; there is no {folder / 'gone.yaml'} (the path is relative to the file that names "
        "it)."
    )


def test_extends_cycle(folder):
    write(folder, "a.yaml", "name: A\ndescription: a\nextends: b.yaml\n")
    write(folder, "b.yaml", "name: B\ndescription: b\nextends: a.yaml\n")
    report = problems_of(folder / "a.yaml")
    assert report.startswith(f"In {folder / 'b.yaml'}, key 'extends' (line 3): found 'a.yaml'")
    assert (
        f"this one loops: {folder / 'a.yaml'} -> {folder / 'b.yaml'} -> {folder / 'a.yaml'}"
        in report
    )


def test_extends_may_not_leave_the_scenarios_folder(folder):
    path = write(folder, "escape.yaml", "name: X\ndescription: x\nextends: ../../etc/x.yaml\n")
    assert problems_of(path) == (
        f"In {path}, key 'extends' (line 3): found '../../etc/x.yaml'; expected a scenario in the "
        f"same folder; path must stay inside {folder}/."
    )


def test_project_scenario_may_not_leave_scenarios(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(paths.scenarios_dir(), root / "scenarios")
    (root / "secret.yaml").write_text("name: S\n")
    write(root / "scenarios", "escape.yaml", "name: X\ndescription: x\nextends: ../secret.yaml\n")
    monkeypatch.setenv("CSC_FINANCE_ROOT", str(root))
    assert "path must stay inside scenarios/." in problems_of("scenarios/escape.yaml")


def test_child_changing_a_value_must_give_a_source(folder):
    path = child(folder, "assumptions:\n  agency_share:\n    value: 0.3\n")
    assert problems_of(path) == (
        f"In {path}, key 'assumptions.agency_share.source' (in the block at line 5); expected a "
        "source for the new "
        f"value, since this file changes the value inherited from {folder / 'base.yaml'} (the "
        "document and section, or 'analyst judgement: <why>')."
    )


def test_child_must_name_itself(folder):
    path = write(folder, "nameless.yaml", "extends: base.yaml\n")
    report = problems_of(path)
    assert f"In {path}, key 'name'; expected a value for 'name'" in report
    assert f"In {path}, key 'description'; expected a value for 'description'" in report


def test_unknown_published_name(folder):
    path = edited_base(
        folder, "{published: agency_premium_per_fte}", "{published: agency_premium_per_ftee}"
    )
    assert problems_of(path) == (
        f"In {path}, key 'assumptions.agency_premium_gbp_per_fte.value.published' "
        f"(line {line_of(path, 'agency_premium_per_ftee')}): "
        "found 'agency_premium_per_ftee'; expected the name of a published figure (did you mean "
        "'agency_premium_per_fte'?); the names are in data/raw/seed/published_assumptions.csv."
    )


def test_child_may_point_a_value_at_another_published_figure(folder):
    path = child(
        folder,
        """
        assumptions:
          recruitment_payment_gbp:
            value: {published: legacy_retention_award}
            source: analyst judgement, a test of a published reference in a child
            high: 20000
          agency_share:
            value: {published: agency_sharee}
            source: x
        """,
    )
    assert problems_of(path) == (
        f"In {path}, key 'assumptions.agency_share.value.published' (line 11): found "
        "'agency_sharee'; expected the name of a published figure; the names are in "
        "data/raw/seed/published_assumptions.csv."
    )
    path.write_text(
        path.read_text().replace("agency_sharee", "agency_share_of_social_worker_posts")
    )
    scenario = load_scenario(path)
    assert scenario.value("recruitment_payment_gbp") == 15000
    assert scenario.assumption("recruitment_payment_gbp").published == "legacy_retention_award"


def test_every_problem_is_reported_together(folder):
    path = child(
        folder,
        """
        settings:
          rag:
            demand_vs_forecast: {amber: 0.2, red: 0.1}
        assumptions:
          agency_share: {low: 0.6, high: 0.2}
          pay_award_rate: {distribution: gamma}
          training_allowance: {value: "lots", source: x}
        """,
    )
    report = problems_of(path)
    assert len(report.split("\n\n")) == 4
    for key in (
        "settings.rag.demand_vs_forecast.amber",
        "assumptions.agency_share.low",
        "assumptions.pay_award_rate.distribution",
        "assumptions.training_allowance.value",
    ):
        assert f"key '{key}'" in report


# ---- Excel both ways -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["base.yaml", "high_agency.yaml"])
def test_excel_round_trip_gives_an_identical_scenario(tmp_path, name):
    scenario = load_scenario(paths.scenarios_dir() / name)
    workbook = export_scenario_to_excel(scenario, tmp_path / "scenario.xlsx")
    back = load_scenario_from_excel(workbook)
    assert back == scenario
    assert back.assumptions_table().equals(scenario.assumptions_table())
    assert back.path == workbook.resolve()
    assert back.sha256 == hashlib.sha256(workbook.read_bytes()).hexdigest()
    assert load_scenario(workbook) == scenario


def test_excel_sheets_hold_one_row_per_assumption_and_setting(tmp_path, base):
    workbook = export_scenario_to_excel(base, tmp_path / "base.xlsx")
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["assumptions", "settings"]
    rows = list(book["assumptions"].iter_rows(values_only=True))
    assert rows[0] == ASSUMPTION_COLUMNS
    assert rows[1][:6] == ("agency_share", 0.15, "fraction", rows[1][3], 0.05, 0.5)
    assert len(rows) == len(base.assumptions) + 1
    settings = {row[0]: row[1] for row in book["settings"].iter_rows(min_row=2, values_only=True)}
    assert settings["name"] == "Base case"
    assert settings["sensitivity.agency_share_grid.steps"] == 46
    assert settings["rag.variance_vs_budget.red"] == 0.02


def edited_workbook(tmp_path: Path, base, edit) -> Path:
    workbook = export_scenario_to_excel(base, tmp_path / "high.xlsx")
    book = openpyxl.load_workbook(workbook)
    edit(book)
    book.save(workbook)
    return workbook


def settings_row(book, key: str) -> int:
    for row in book["settings"].iter_rows(min_row=2):
        if row[0].value == key:
            return row[0].row
    raise AssertionError(key)


def test_excel_edit_is_read_back(tmp_path, base):
    def edit(book):
        sheet = book["assumptions"]
        sheet["B9"] = 0.03  # demand_growth_rate, a typed value
        book["settings"].cell(settings_row(book, "efficient_structure_from"), 2).value = datetime(
            2022, 4, 1
        )

    scenario = load_scenario_from_excel(edited_workbook(tmp_path, base, edit))
    assert scenario.value("demand_growth_rate") == 0.03
    assert scenario.settings.efficient_structure_from == "2022-04"
    assert scenario.value("agency_share") == 0.15


def test_excel_round_trip_keeps_an_explicit_grid_range(folder):
    path = child(folder, "settings:\n  sensitivity:\n    agency_share_grid:\n      low: 0.10\n")
    scenario = load_scenario(path)
    back = load_scenario_from_excel(export_scenario_to_excel(scenario, folder / "grid.xlsx"))
    assert back.settings.sensitivity.agency_share_grid.low == 0.10
    assert back == scenario


def test_excel_grid_follows_an_edited_range(tmp_path, base):
    def edit(book):
        book["assumptions"]["E2"] = 0.10  # agency_share low

    scenario = load_scenario_from_excel(edited_workbook(tmp_path, base, edit))
    assert scenario.assumption("agency_share").low == 0.10
    assert scenario.settings.sensitivity.agency_share_grid.low == 0.10
    assert scenario.settings.sensitivity.agency_share_grid.high == 0.50


def test_excel_sheet_without_the_optional_columns(tmp_path, base):
    def edit(book):
        sheet = book["assumptions"]
        sheet.delete_cols(9)  # published: every value is then the number in the sheet
        sheet.delete_cols(7)  # distribution: triangular unless said otherwise

    scenario = load_scenario_from_excel(edited_workbook(tmp_path, base, edit))
    assert scenario.value("agency_share") == 0.15
    assert scenario.assumption("agency_share").published is None
    assert scenario.assumption("caseload_target_cp").distribution == "triangular"


def test_excel_errors_name_sheet_row_and_column(tmp_path, base):
    def edit(book):
        sheet = book["assumptions"]
        sheet["B4"] = "abc"  # recruitment_payment_gbp, published
        sheet["B8"] = "abc"  # grant_continuation, typed
        sheet["B2"] = 0.99  # agency_share, differs from its published figure
        sheet["G6"] = "lognormal"
        sheet["E7"] = None
        settings = book["settings"]
        settings.cell(settings_row(book, "horizon_years"), 2).value = "five"
        settings.append(["sensitivity.bogus", 3, ""])

    workbook = edited_workbook(tmp_path, base, edit)
    with pytest.raises(InputError) as caught:
        load_scenario_from_excel(workbook)
    report = caught.value.report()
    prefix = f"In {workbook.resolve()}, sheet "
    expected = [
        "'assumptions', row 4, column 'value': found 'abc'; expected a number, or a blank cell "
        "to use the published figure named in the 'published' column.",
        "'assumptions', row 2, column 'value': found '0.99'; expected the published figure 0.15 "
        "named in the 'published' column ('agency_share_of_social_worker_posts'); to use your own "
        "value, clear that cell and give a source.",
        "'assumptions', row 6, column 'distribution': found 'lognormal'; expected one of",
        "'assumptions', row 7, column 'low'; expected a value for 'low'",
        "'assumptions', row 8, column 'value': found 'abc'; expected a number",
        "'settings', row 6, column 'value': found 'five'; expected a whole number",
        f"'settings', row {len(list(openpyxl.load_workbook(workbook)['settings'].rows))}, "
        "column 'key': found 'sensitivity.bogus'; expected a known key",
    ]
    for text in expected:
        assert prefix + text in report
    assert len(report.split("\n\n")) == len(expected)


def test_excel_missing_sheet_bad_header_and_not_a_workbook(tmp_path, base):
    def edit(book):
        del book["settings"]
        book["assumptions"]["C1"] = "units"

    workbook = edited_workbook(tmp_path, base, edit)
    with pytest.raises(InputError) as caught:
        load_scenario_from_excel(workbook)
    report = caught.value.report()
    assert "expected a sheet named 'settings' (the sheets found are assumptions)" in report
    assert (
        "sheet 'assumptions', row 1, column 'units': found 'units'; expected a known column "
        "(did you mean 'unit'?)" in report
    )
    assert "row 1; expected a header row with the columns name, value, unit" in report

    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    with pytest.raises(InputError) as caught:
        load_scenario(fake)
    assert caught.value.report() == (
        f"In {fake}; expected an Excel workbook (.xlsx) written by export_scenario_to_excel."
    )
