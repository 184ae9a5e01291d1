"""A council beside its region and England: rates per 10,000 and the ONS region."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.comparisons import ons_region, rates_per_10k
from analysis.errors import InputError
from analysis.external import load_external


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    return load_external()


def test_outer_london_maps_to_london(tidy: pd.DataFrame) -> None:
    assert ons_region(tidy, "E13000002") == ("E12000007", "London")
    assert ons_region(tidy, "E12000002") == ("E12000002", "North West")
    with pytest.raises(InputError):
        ons_region(tidy, "E99999999")


def test_cla_rate_matches_the_dfe_published_rate(tidy: pd.DataFrame) -> None:
    """Barking and Dagenham, 31 March 2025: 431 looked after, 66,465 children aged 0-17 at
    mid-2024: 64.8 per 10,000, which the DfE publishes rounded as 65."""
    table = rates_per_10k(tidy, {"LA": "E09000002"}, ["cla_at_31_march"])
    row = table[table["year"] == 2025].iloc[0]
    assert row["count"] == 431
    assert row["population_0_17"] == 66465
    assert row["rate_per_10k"] == pytest.approx(64.846, abs=1e-3)
    assert round(row["rate_per_10k"]) == 65
