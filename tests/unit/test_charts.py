"""The house style: charts say what they show, and styled tables show input text as text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from analysis import charts


@pytest.fixture(autouse=True)
def _house_style_for_this_test_only():
    """use_house_style sets process-wide options; put them back so other tests see defaults."""
    with matplotlib.rc_context(), pd.option_context("styler.format.escape", None):
        yield


def test_styled_tables_escape_markup_from_inputs() -> None:
    charts.use_house_style()
    html = pd.DataFrame({"budget_area": ["<script>alert(1)</script>"]}).style.to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_chart_needs_a_title_units_and_a_source() -> None:
    charts.use_house_style()
    figure, ax = charts.new_chart()
    ax.plot([1, 2], [3, 4], label="cost")
    with pytest.raises(ValueError, match="source"):
        charts.finish_chart(ax, title="Cost", xlabel="Year", ylabel="£m", source=" ")
    finished = charts.finish_chart(ax, title="Cost", xlabel="Year", ylabel="£m", source="LBBD")
    texts = [t.get_text() for t in finished.texts]
    assert texts == ["Source: LBBD"]
    assert ax.get_title(loc="left") == "Cost"
    assert ax.get_legend() is not None
