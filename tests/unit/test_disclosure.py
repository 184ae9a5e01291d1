"""Disclosure control: suppressed counts of children cannot be worked out from what is published.

The attacker in these tests knows every published cell and every total, and that counts are
zero or more, and solves for the smallest and largest value each hidden cell could hold
(a linear programme). Protection holds when that range is wider than a single value.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from analysis.disclosure import display_table, format_count, protect_counts


def _table(rows: dict[str, list[float]], columns: list[str]) -> pd.DataFrame:
    """A 2-D table of inner cells with its Total column and Total row added."""
    inner = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    inner["Total"] = inner.sum(axis=1)
    table = pd.concat([inner, inner.sum().to_frame("Total").T])
    return table.rename_axis(index="age", columns="placement")


def _hidden_ranges(protected: pd.DataFrame, original: pd.DataFrame) -> dict[tuple, tuple]:
    """For each hidden cell, the (lowest, highest) value consistent with what is published.

    ``original`` (a 2-D table with a Total row and column) only supplies the layout; values
    come from ``protected``.
    """
    shown = protected.set_index(["age", "placement"])["count"]
    cells = list(itertools.product(original.index, original.columns))
    hidden = [c for c in cells if math.isnan(shown[c])]
    if not hidden:
        return {}
    column = {c: i for i, c in enumerate(hidden)}
    equations, right = [], []

    def relation(members: list[tuple], total: tuple) -> None:
        row, rhs = np.zeros(len(hidden)), 0.0
        for cell, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if cell in column:
                row[column[cell]] += sign
            else:
                rhs -= sign * shown[cell]
        if row.any():
            equations.append(row)
            right.append(rhs)

    inner_rows = [r for r in original.index if r != "Total"]
    inner_columns = [c for c in original.columns if c != "Total"]
    for r in original.index:
        relation([(r, c) for c in inner_columns], (r, "Total"))
    for c in original.columns:
        relation([(r, c) for r in inner_rows], ("Total", c))
    ranges = {}
    for cell, i in column.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1.0
        low = linprog(objective, A_eq=equations, b_eq=right, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=equations, b_eq=right, bounds=(0, None), method="highs")
        assert low.status == 0
        ranges[cell] = (low.fun, -high.fun if high.status == 0 else math.inf)
    return ranges


def _symbols(protected: pd.DataFrame) -> dict[tuple, str]:
    return dict(
        zip(
            zip(protected["age"], protected["placement"], strict=True),
            protected["symbol"],
            strict=True,
        )
    )


PLACEMENTS = {
    "Under 5": [10, 4, 20],
    "5-10": [3, 0, 8],
    "11-15": [12, 7, 9],
}


def test_a_2d_table_with_totals_hides_small_counts_and_enough_others() -> None:
    table = _table(PLACEMENTS, ["Foster", "Residential", "Other"])
    protected = protect_counts(table)
    assert display_table(protected, index="age", columns="placement").values.tolist() == [
        ["c", "c", "20", "34"],
        ["c", "0", "c", "11"],
        ["12", "c", "c", "28"],
        ["25", "11", "37", "73"],
    ]
    reasons = protected.set_index(["age", "placement"])["reason"]
    assert reasons[("5-10", "Foster")].startswith("a count of 1 to 5")
    assert reasons[("Under 5", "Foster")].startswith("suppressed so that another 'c' cell")
    assert reasons[("5-10", "Residential")] == ""  # the zero is published


def test_the_suppressed_counts_cannot_be_recovered_from_the_totals() -> None:
    table = _table(PLACEMENTS, ["Foster", "Residential", "Other"])
    ranges = _hidden_ranges(protect_counts(table), table)
    # the 3 children aged 5-10 in foster care could be anything from 0 to 10
    assert ranges[("5-10", "Foster")] == pytest.approx((0, 10))
    assert ranges[("Under 5", "Residential")] == pytest.approx((1, 11))
    for low, high in ranges.values():
        assert high - low >= 1


def test_primary_suppression_alone_would_give_the_counts_away() -> None:
    """The attack works: without secondary suppression the hidden 3 is found exactly."""
    table = _table(PLACEMENTS, ["Foster", "Residential", "Other"])
    naive = protect_counts(table, threshold=0)
    small = (naive["count"] > 0) & (naive["count"] <= 5)
    naive.loc[small, "count"] = np.nan
    ranges = _hidden_ranges(naive, table)
    assert ranges[("5-10", "Foster")] == pytest.approx((3, 3))


def test_a_cell_joining_two_blocks_is_protected_by_the_exact_check() -> None:
    """Every row and column has two hidden cells, yet the joining cell would be found."""
    small, big = 2, 40
    rows = {
        "a": [small, small, big, big, big],
        "b": [small, small, small, big, big],
        "c": [big, big, small, small, big],
        "d": [big, big, small, small, big],
        "e": [big, big, big, big, big],
    }
    table = _table(rows, ["p", "q", "r", "s", "t"])
    naive = protect_counts(table, threshold=0)
    naive.loc[naive["count"] == small, "count"] = np.nan
    assert _hidden_ranges(naive, table)[("b", "r")] == pytest.approx((small, small))
    protected = protect_counts(table)
    symbols = _symbols(protected)
    assert sum(s == "c" for s in symbols.values()) > 9
    for low, high in _hidden_ranges(protected, table).values():
        assert high - low >= 1


def test_a_long_table_with_totals_in_its_groups() -> None:
    long = pd.DataFrame(
        {
            "la": ["A", "A", "A", "B", "B", "B", "Total", "Total", "Total"],
            "need": ["abuse", "neglect", "Total"] * 3,
            "children": [4, 30, 34, 12, 50, 62, 16, 80, 96],
            "note": ["kept"] * 9,
        }
    )
    protected = protect_counts(long, value="children", groups=["la", "need"])
    assert list(protected.columns) == ["la", "need", "children", "note", "symbol", "reason"]
    assert protected["symbol"].tolist() == ["c", "c", "", "c", "c", "", "", "", ""]
    assert (
        protected["children"].isna().tolist() == [True, True] + [False] + [True, True] + [False] * 4
    )
    assert (protected["note"] == "kept").all()


def test_a_long_table_without_totals_assumes_its_sums_are_published_elsewhere() -> None:
    long = pd.DataFrame({"placement": ["foster", "residential", "other"], "n": [40, 3, 12]})
    protected = protect_counts(long, value="n")
    assert protected["symbol"].tolist() == ["", "c", "c"]  # the next-smallest, 12, hidden too
    unknown_total = protect_counts(long, value="n", margins_known=False)
    assert unknown_total["symbol"].tolist() == ["", "c", ""]


def test_three_group_columns() -> None:
    cells = list(itertools.product(["A", "B"], ["boys", "girls"], ["u5", "5plus"]))
    values = [1, 20, 30, 40, 50, 60, 70, 80]
    long = pd.DataFrame(cells, columns=["la", "sex", "age"]).assign(n=values)
    protected = protect_counts(long, value="n")
    hidden = protected["n"].isna()
    assert hidden.sum() >= 4  # a single cell in a 2x2x2 cube needs a cycle of at least four
    for axis in ("la", "sex", "age"):
        others = [c for c in ("la", "sex", "age") if c != axis]
        per_line = hidden.groupby([protected[c] for c in others]).sum()
        assert not (per_line == 1).any()


def test_zero_is_published_unless_it_is_the_only_protection_left() -> None:
    long = pd.DataFrame({"placement": ["foster", "residential"], "n": [3, 0]})
    protected = protect_counts(long, value="n")
    assert protected["symbol"].tolist() == ["c", "c"]
    zeros_kept = protect_counts(pd.DataFrame({"g": ["a", "b", "c"], "n": [3, 0, 9]}), value="n")
    assert zeros_kept["symbol"].tolist() == ["c", "", "c"]


def test_missing_input_cells_stay_hidden_and_are_protected() -> None:
    long = pd.DataFrame({"g": ["a", "b", "c"], "n": [np.nan, 50, 9]})
    protected = protect_counts(long, value="n")
    assert protected["symbol"].tolist() == ["x", "", "c"]
    assert protected["reason"][0] == "not available in the input"


def test_national_figures_are_rounded_to_the_nearest_10() -> None:
    long = pd.DataFrame({"region": list("abcdef"), "n": [0, 3, 14, 15, 25, 80_466]})
    protected = protect_counts(long, value="n", threshold=0, rounding_base=10)
    assert protected["n"].tolist()[2:] == [10, 20, 30, 80_470]
    assert protected["n"][0] == 0 and math.isnan(protected["n"][1])
    assert protected["symbol"].tolist() == ["", "k", "", "", "", ""]
    assert protected["reason"][2] == "rounded to the nearest 10"


def test_a_small_forecast_is_suppressed_like_a_small_count() -> None:
    long = pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [0.4, 5.4, 5.6, 100.0]})
    protected = protect_counts(long, value="n", margins_known=False)
    assert protected["symbol"].tolist() == ["c", "c", "", ""]


def test_format_count() -> None:
    assert format_count(3, "c") == "c"
    assert format_count(1234.0) == "1,234"
    assert format_count(0) == "0"
    assert format_count(math.nan, "x") == "x"
    assert format_count(math.nan) == "–"


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (pd.DataFrame({"g": ["a"], "n": [-1]}), {"value": "n"}, "zero or more"),
        (pd.DataFrame({"g": ["a", "a"], "n": [1, 2]}), {"value": "n"}, "more than once"),
        (pd.DataFrame({"g": ["a"], "n": [1]}), {"value": "m"}, "no column 'm'"),
        (pd.DataFrame({"g": ["a"], "n": [1]}), {"value": "n", "threshold": -1}, "threshold"),
        (pd.DataFrame({"g": ["a"], "n": [1]}), {"value": "n", "rounding_base": 0}, "rounding"),
        (pd.DataFrame({"g": ["a"], "n": [1]}), {"value": "n", "groups": ["h"]}, "no group"),
    ],
)
def test_mistakes_are_refused(frame: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protect_counts(frame, **kwargs)


small_counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inner=st.integers(2, 4).flatmap(
        lambda n_rows: st.integers(2, 4).flatmap(
            lambda n_cols: st.lists(
                st.lists(small_counts, min_size=n_cols, max_size=n_cols),
                min_size=n_rows,
                max_size=n_rows,
            )
        )
    )
)
def test_property_no_group_has_exactly_one_hidden_cell_and_none_can_be_recovered(inner) -> None:
    columns = [f"p{j}" for j in range(len(inner[0]))]
    table = _table({f"r{i}": row for i, row in enumerate(inner)}, columns)
    protected = protect_counts(table)
    hidden = protected.set_index(["age", "placement"])["count"].isna().unstack()
    hidden = hidden.reindex(index=table.index, columns=table.columns)
    for line in [*hidden.to_numpy(), *hidden.to_numpy().T]:
        assert line.sum() != 1 or line.all()
    values = table.to_numpy()
    small = (values >= 1) & (values <= 5)
    assert hidden.to_numpy()[small].all()
    for cell, (low, high) in _hidden_ranges(protected, table).items():
        assert high - low >= 1, (cell, low, high)
