"""The pack's scorecard: figures by hand, statuses from the scenario's thresholds."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import contract, scorecard
from analysis.errors import InputError
from analysis.external import load_external
from analysis.scenario import RagSettings, RagThreshold, load_scenario


def _rag(**changes: tuple[float, float]) -> RagSettings:
    thresholds = {
        "caseload_vs_target": (1.0, 1.1),
        "agency_share_vs_budgeted": (0.0, 0.05),
        "variance_vs_budget": (0.0, 0.02),
        "demand_vs_forecast": (0.05, 0.10),
    }
    thresholds.update(changes)
    return RagSettings(
        **{name: RagThreshold(amber=a, red=r) for name, (a, r) in thresholds.items()}
    )


def _inputs(**changes: object) -> scorecard.ScorecardInputs:
    values: dict[str, object] = {
        "caseload_per_fte": 16.5,
        "caseload_target": 15.0,
        "caseload_as_at": "2024-09-30",
        "agency_share": 0.17,
        "budgeted_agency_share": 0.15,
        "agency_as_at": "2024-09-30",
        "outturn_gbp": 49_000_000.0,
        "budget_gbp": 50_000_000.0,
        "finance_year": "2023/24",
        "demand_actual": 420.0,
        "demand_forecast": 400.0,
        "demand_as_at": "31 March 2024",
    }
    values.update(changes)
    return scorecard.ScorecardInputs(**values)


def test_each_figure_and_its_status_by_hand() -> None:
    table = scorecard.pack_scorecard(_inputs(), _rag()).set_index("indicator")
    assert list(table.index) == list(scorecard.LABELS)
    # 16.5 / 15 = 1.1 exactly: at the red threshold, so still amber (red is *above* 1.1).
    assert table.loc["caseload_vs_target", "value"] == pytest.approx(1.1)
    assert table.loc["caseload_vs_target", "status"] == "amber"
    # 0.17 - 0.15 = two percentage points over: amber (0 < 0.02 <= 0.05).
    assert table.loc["agency_share_vs_budgeted", "value"] == pytest.approx(0.02)
    assert table.loc["agency_share_vs_budgeted", "status"] == "amber"
    # An underspend of £1m on £50m: -2%, green.
    assert table.loc["variance_vs_budget", "value"] == pytest.approx(-0.02)
    assert table.loc["variance_vs_budget", "status"] == "green"
    # 420 against 400: 5% over, at the amber threshold: green.
    assert table.loc["demand_vs_forecast", "value"] == pytest.approx(0.05)
    assert table.loc["demand_vs_forecast", "status"] == "green"
    assert table.loc["variance_vs_budget", "actual"] == 49_000_000.0
    assert table.loc["variance_vs_budget", "compared_with"] == 50_000_000.0


def test_thresholds_come_from_the_scenario_and_are_printed_beside_the_status() -> None:
    table = scorecard.pack_scorecard(_inputs(), _rag(caseload_vs_target=(1.05, 1.08)))
    row = table.set_index("indicator").loc["caseload_vs_target"]
    assert (row["amber_above"], row["red_above"], row["status"]) == (1.05, 1.08, "red")


def test_a_figure_without_data_has_no_status() -> None:
    table = scorecard.pack_scorecard(_inputs(budget_gbp=math.nan), _rag()).set_index("indicator")
    assert math.isnan(table.loc["variance_vs_budget", "value"])
    assert pd.isna(table.loc["variance_vs_budget", "status"])
    zero = scorecard.pack_scorecard(_inputs(demand_forecast=0.0), _rag()).set_index("indicator")
    assert pd.isna(zero.loc["demand_vs_forecast", "status"])


def test_missing_thresholds_are_an_input_error() -> None:
    class Partial:
        def __iter__(self):
            yield "caseload_vs_target", RagThreshold(amber=1.0, red=1.1)

    with pytest.raises(InputError, match="agency_share_vs_budgeted"):
        scorecard.pack_scorecard(_inputs(), Partial())  # type: ignore[arg-type]


def test_the_seed_council_from_the_published_files() -> None:
    scenario = load_scenario()
    view = contract.contract_view(load_external(), "E09000002", "2025-03", scenario)
    inputs = scorecard.scorecard_inputs(view, scenario)
    # DfE workforce, 30 September 2024: 2,016 cases held by 135.4 case-holding FTE; 48.0 agency
    # and 209.4 employed FTE (the published agency rate, 18.6%).
    assert inputs.caseload_per_fte == pytest.approx(2016 / 135.4)
    assert inputs.agency_share == pytest.approx(48.0 / (48.0 + 209.4))
    assert round(inputs.agency_share * 100, 1) == 18.6
    assert inputs.budgeted_agency_share == 0.15
    # RSX 2023-24 £85,661k against RA 2023-24 £70,172k.
    assert (inputs.outturn_gbp, inputs.budget_gbp) == (85_661_000.0, 70_172_000.0)
    # Children looked after at 31 March 2024: 433; the last value a year before, 428.
    assert (inputs.demand_actual, inputs.demand_forecast) == (433.0, 428.0)
    table = scorecard.pack_scorecard(inputs, scenario.settings.rag).set_index("indicator")
    assert table["status"].to_dict() == {
        "caseload_vs_target": "green",
        "agency_share_vs_budgeted": "amber",
        "variance_vs_budget": "red",
        "demand_vs_forecast": "green",
    }
