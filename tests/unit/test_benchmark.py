"""Benchmarks against England, the region and similar councils, checked by hand against the
published files, and the RAG rules."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import benchmark
from analysis.errors import InputError
from analysis.external import load_external

BARKING = "E09000002"


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return benchmark.indicator_values(load_external())


@pytest.fixture(scope="module")
def barking_2024(values: pd.DataFrame) -> pd.DataFrame:
    similar = benchmark.similar_councils(values, BARKING, 2024)
    return benchmark.benchmark_table(values, BARKING, 2024, similar["la_code"]).set_index(
        "indicator"
    )


def test_rates_per_10k_match_the_published_counts_and_populations(barking_2024) -> None:
    # cla_number_and_rate_per_10k_children.csv, 2024: Barking and Dagenham 433 children looked
    # after at 31 March, population 64,907; London 9,640 of 1,911,649; England 83,530 of
    # 12,059,476 (the ONS mid-2023 estimates, as the DfE divides).
    row = barking_2024.loc["cla_at_31_march_per_10k"]
    assert row["council"] == pytest.approx(433 / 64907 * 10_000)
    assert row["region"] == pytest.approx(9640 / 1911649 * 10_000)
    assert row["england"] == pytest.approx(83530 / 12059476 * 10_000)
    assert round(row["council"]) == 67  # the DfE's published rate


def test_workforce_indicators_are_the_published_rates(barking_2024) -> None:
    # csww_indicators_2017_to_2025.csv, 30 September 2024: agency_rate_fte
    row = barking_2024.loc["agency_rate_pct"]
    assert (row["council"], row["region"], row["england"]) == (18.6, 21.9, 16.2)
    assert barking_2024.loc["caseload_per_fte", "england"] == 15.4


def test_finance_per_child_and_against_budget(barking_2024) -> None:
    # RSX 2023-24 net current expenditure £85,661k; RA 2023-24 budget £70,172k.
    assert barking_2024.loc["spend_per_child_gbp", "council"] == pytest.approx(85661e3 / 64907)
    assert barking_2024.loc["outturn_vs_budget", "council"] == pytest.approx(85661 / 70172 - 1)


def test_rank_and_quartile_are_among_councils_only(values, barking_2024) -> None:
    cla = values[
        (values["indicator"] == "cla_at_31_march_per_10k")
        & (values["year"] == 2024)
        & (values["geographic_level"] == "Local authority")
    ]
    higher = int((cla["value"] > barking_2024.loc["cla_at_31_march_per_10k", "council"]).sum())
    assert barking_2024.loc["cla_at_31_march_per_10k", "rank"] == higher + 1
    assert barking_2024.loc["cla_at_31_march_per_10k", "councils"] == len(cla)
    assert 1 <= barking_2024.loc["cla_at_31_march_per_10k", "quartile"] <= 4


def _toy_values() -> pd.DataFrame:
    features = {
        # code: (children, cin, cpp, cla per 10k)
        "A": (50_000, 300.0, 40.0, 60.0),
        "B": (51_000, 305.0, 41.0, 61.0),  # nearly identical to A
        "C": (49_000, 290.0, 39.0, 58.0),  # close to A
        "D": (200_000, 600.0, 90.0, 120.0),  # far from A
        "E": (10_000, 100.0, 10.0, 20.0),  # far from A the other way
    }
    rows = []
    names = ("children_0_17", *benchmark.SIMILARITY_FEATURES[1:])
    for code, numbers in features.items():
        for name, value in zip(names, numbers, strict=True):
            rows.append(
                {
                    "geographic_level": "Local authority",
                    "la_code": code,
                    "la_name": f"Council {code}",
                    "region_code": "R",
                    "year": 2024,
                    "indicator": name,
                    "value": value,
                }
            )
    return pd.DataFrame(rows)


def test_similar_councils_are_the_nearest_in_standardised_features() -> None:
    similar = benchmark.similar_councils(_toy_values(), "A", 2024, count=2)
    assert similar["la_code"].tolist() == ["B", "C"]
    assert similar["distance"].is_monotonic_increasing
    assert "A" not in similar["la_code"].tolist()
    assert similar.loc[0, "log_population_0_17"] == pytest.approx(math.log(51_000))


def test_similar_councils_of_each_council_from_one_table_are_its_own() -> None:
    values = _toy_values()
    first = benchmark.similar_councils(values, "A", 2024, count=2)
    second = benchmark.similar_councils(values, "B", 2024, count=2)  # features reused
    pd.testing.assert_frame_equal(second, benchmark.similar_councils(_toy_values(), "B", 2024, 2))
    assert "B" not in second["la_code"].tolist() and "A" not in first["la_code"].tolist()


def test_a_council_without_features_gets_a_clear_error() -> None:
    with pytest.raises(InputError, match="ZZZ.*similar councils"):
        benchmark.similar_councils(_toy_values(), "ZZZ", 2024)


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.95, "green"), (1.0, "green"), (1.05, "amber"), (1.1, "amber"), (1.2, "red"), (None, None)],
)
def test_rag_status_thresholds(value, status) -> None:
    assert benchmark.rag_status(value, amber=1.0, red=1.1) == status


def test_scorecard_prints_thresholds_beside_each_status() -> None:
    card = benchmark.scorecard(
        {"caseload_vs_target": 1.05, "variance_vs_budget": 0.15},
        {"caseload_vs_target": (1.0, 1.1), "variance_vs_budget": (0.0, 0.02)},
    )
    assert card["status"].tolist() == ["amber", "red"]
    assert card.loc[1, ["amber_above", "red_above"]].tolist() == [0.0, 0.02]
    with pytest.raises(InputError, match="settings.rag"):
        benchmark.scorecard({"unknown": 1.0}, {})
