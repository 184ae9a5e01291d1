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


def _texts_outside(figure) -> list[str]:
    """Texts and legends that a draw puts (partly) outside the figure."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    # an axis keeps tick objects beyond its limits that it does not draw
    undrawn = set()
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            drawn = set(axis._update_ticks())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if tick not in drawn:
                    undrawn.update((id(tick.label1), id(tick.label2)))
    edge = figure.bbox
    outside = []
    for artist in figure.findobj(lambda a: isinstance(a, Text | Legend)):
        if not artist.get_visible() or id(artist) in undrawn:
            continue
        if isinstance(artist, Text) and not artist.get_text():
            continue
        box = artist.get_window_extent(renderer)
        if box.x0 < edge.x0 or box.y0 < edge.y0 or box.x1 > edge.x1 or box.y1 > edge.y1:
            outside.append(artist.get_text() if isinstance(artist, Text) else "legend")
    return outside


def test_long_category_labels_titles_and_sources_stay_inside_the_chart() -> None:
    charts.use_house_style()
    figure, ax = charts.new_chart()
    categories = [f"agency_premium_gbp_per_fte_{n} (6000 to 40000)" for n in range(8)]
    ax.barh(range(8), [1e6 * n for n in range(8)], label="At its high end")
    ax.set_yticks(range(8), categories)
    charts.gbp_millions_axis(ax, "x")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    finished = charts.finish_chart(
        ax,
        title="Efficient structure: what moves the variance most when each assumption moves",
        xlabel="Change in variance (£m)",
        ylabel="Assumption (low to high of its range)",
        source="scenarios/base.yaml; LBBD programme document 2019, Appendix C; DfE CIN and CLA "
        "statistics; ONS mid-year population estimates; MHCLG revenue account budget",
        legend=False,
    )
    assert _texts_outside(finished) == []
    # the legend sits beside the bars, not over them
    renderer = finished.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    # the long title and source were broken onto more lines, not cut
    assert "\n" in ax.get_title(loc="left")
    assert finished.texts[0].get_text().startswith("Source: scenarios/base.yaml")
    # the axes took the room left beside the labels, not a fixed share of the figure
    position = ax.get_position()
    assert 0.3 < position.x0 < 0.5
    assert position.x1 < 0.85


def test_a_label_placed_at_a_missing_value_does_not_upset_the_layout() -> None:
    """A bar total of NaN (an unpublished figure) gives a text matplotlib never draws; the
    layout ignores it as the draw does (it once stopped four councils' packs)."""
    charts.use_house_style()
    figure, ax = charts.new_chart()
    ax.bar([0, 1], [10.0, 12.0])
    ax.text(1, float("nan"), "nan FTE")
    finished = charts.finish_chart(
        ax, title="Social worker FTE", xlabel="", ylabel="FTE", source="DfE workforce"
    )
    assert _texts_outside(finished) == []
    assert 0.0 < ax.get_position().x0 < ax.get_position().x1 < 1.0


def test_rotated_labels_side_by_side_axes_and_a_colour_bar_stay_inside_the_chart() -> None:
    import matplotlib.pyplot as plt

    charts.use_house_style()
    figure, (ax, detail) = plt.subplots(1, 2, figsize=(10.0, 4.4))
    steps = ["Opening out-turn", "Demand growth (scenario)", "Structure change (cost model)"]
    ax.bar(range(3), [3e7, 1e6, 2e6])
    ax.set_xticks(range(3), steps, rotation=30, ha="right", fontsize=8)
    mesh = detail.pcolormesh([[0.0, 1.0], [2.0, 3.0]])
    figure.colorbar(mesh, ax=detail, label="Variance against funded budget (£m; + overspend)")
    detail.set_title("The components alone", fontsize=10)
    finished = charts.finish_chart(
        ax, title="Budget waterfall", xlabel="Line", ylabel="Out-turn (£m)", source="LBBD"
    )
    assert _texts_outside(finished) == []
    assert ax.get_position().x1 < detail.get_position().x0


def test_notebook_charts_are_drawn_once_without_a_tight_bounding_box() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    charts.use_house_style()
    svg = InteractiveShell.instance().display_formatter.formatters["image/svg+xml"]
    assert svg.lookup_by_type(Figure).keywords == {
        "fmt": "svg",
        "bbox_inches": None,
        "backend": charts.SVG_BACKEND,
    }


def _svg(figure, **options) -> str:
    import io

    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None}, **options)
    return out.getvalue()


def test_the_notebook_svg_is_matplotlibs_own_with_texts_measured_once() -> None:
    """The house SVG canvas keeps text sizes and font metrics from chart to chart; a chart it
    draws is the SVG matplotlib draws, to the byte, the second time as the first."""
    charts.use_house_style()
    with matplotlib.rc_context({"svg.hashsalt": "test"}):
        figure, ax = charts.new_chart()
        ax.plot([2019, 2020, 2021], [1.5e6, 2.5e6, 2.0e6], marker="o", label="Net spend")
        ax.plot([2019, 2021], [2.0e6, 2.0e6], linestyle="--", label="Budget,\nheld flat")
        charts.gbp_millions_axis(ax)
        charts.finish_chart(
            ax,
            title="A title long enough to be broken onto two lines when the chart is laid "
            "out, which measures the gap between its lines",
            xlabel="Year",
            ylabel="£m",
            source="LBBD",
        )
        expected = _svg(figure)
        assert _svg(figure, backend=charts.SVG_BACKEND) == expected
        # measured from the process-wide sizes this time
        assert _svg(figure, backend=charts.SVG_BACKEND) == expected
    assert "Budget," in expected and ">held flat<" in expected


def test_the_layout_uses_the_limits_the_draw_will_use() -> None:
    charts.use_house_style()
    figure, ax = charts.new_chart()
    # pcolormesh leaves its limits to be autoscaled at draw time
    ax.pcolormesh([[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0]])
    finished = charts.finish_chart(ax, title="Grid", xlabel="x", ylabel="y", source="LBBD")
    x0, _y0, x1, _y1 = ax.get_position().extents
    assert 0.0 < x0 < 0.2
    assert 0.9 < x1 < 1.0
    assert _texts_outside(finished) == []


def test_a_legend_above_the_axes_sits_under_the_title() -> None:
    charts.use_house_style()
    figure, ax = charts.new_chart()
    ax.plot([0.1], [30000], "o", label="Scenario assumption")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    finished = charts.finish_chart(
        ax,
        title="Efficient structure: variance a year on, by agency share and premium",
        xlabel="Agency share",
        ylabel="Agency premium",
        source="LBBD",
        legend=False,
    )
    assert _texts_outside(finished) == []
    renderer = finished.canvas.get_renderer()
    title = ax._left_title.get_window_extent(renderer)
    assert ax.get_legend().get_window_extent(renderer).y1 <= title.y0
    assert ax.get_window_extent(renderer).y1 <= ax.get_legend().get_window_extent(renderer).y0


def test_axes_in_more_than_one_row_are_refused() -> None:
    import matplotlib.pyplot as plt

    charts.use_house_style()
    _figure, (top, _bottom) = plt.subplots(2, 1)
    with pytest.raises(ValueError, match="one row"):
        charts.finish_chart(top, title="Cost", xlabel="Year", ylabel="£m", source="LBBD")


def test_the_layout_keeps_only_the_ticks_the_chart_shows() -> None:
    """The locator also gives ticks beyond the view, which the draw would make and leave out;
    the laid-out axis keeps those it shows, labelled as before, and draws the same SVG."""
    charts.use_house_style()
    figure, ax = charts.new_chart()
    ax.plot([2019, 2020, 2021, 2022], [0.9e6, 2.45e6, 1.7e6, 2.2e6], label="Net spend")
    charts.gbp_millions_axis(ax)
    locators = [(a.get_major_locator(), a.get_major_formatter()) for a in (ax.xaxis, ax.yaxis)]
    assert len(ax.yaxis.get_majorticklocs()) == 10  # £0.8m to £2.6m, two outside the view
    charts.finish_chart(ax, title="Cost", xlabel="Year", ylabel="£m", source="LBBD")
    with matplotlib.rc_context({"svg.hashsalt": "test"}):
        kept = _svg(figure, backend=charts.SVG_BACKEND)
        labels = [label.get_text() for label in ax.get_yticklabels()]
        assert labels == ["£1.0m", "£1.2m", "£1.4m", "£1.6m", "£1.8m", "£2.0m", "£2.2m", "£2.4m"]
        # asking for the labels made a Tick object for each tick shown and no more
        assert len(ax.yaxis.majorTicks) == 8
        for axis, (locator, formatter) in zip((ax.xaxis, ax.yaxis), locators, strict=True):
            axis.set_major_locator(locator)
            axis.set_major_formatter(formatter)
        assert _svg(figure, backend=charts.SVG_BACKEND) == kept


def _drawn_both_ways(figure) -> tuple[str, str, list[int]]:
    """The house canvas's SVG of a copy of ``figure`` drawn first (before anything made its
    Tick objects), the Tick objects each of its axes then held, and matplotlib's own SVG of
    another copy."""
    import pickle

    ours, theirs = pickle.loads(pickle.dumps(figure)), pickle.loads(pickle.dumps(figure))
    with matplotlib.rc_context({"svg.hashsalt": "test"}):
        svg = _svg(ours, backend=charts.SVG_BACKEND)
        ticks = [len(axis.majorTicks) for ax in ours.axes for axis in (ax.xaxis, ax.yaxis)]
        return svg, _svg(theirs), ticks


def test_one_tick_object_draws_every_tick_to_the_same_svg() -> None:
    """The house canvas draws an axis' ticks with its first Tick moved from location to
    location: no Tick per location, and the SVG matplotlib draws with one, to the byte."""
    import matplotlib.pyplot as plt

    charts.use_house_style()
    figure, ax = charts.new_chart()
    years = pd.to_datetime([f"{year}-03-31" for year in range(2015, 2026)])
    ax.plot(years, range(300, 311), marker="o", label="Published")
    ax.fill_between(years, range(290, 301), range(310, 321), alpha=0.2, label="80% interval")
    ax.tick_params(axis="x", labelrotation=30, colors="#444444")  # every tick, the first too
    charts.gbp_millions_axis(ax)
    charts.finish_chart(ax, title="Cost", xlabel="Year", ylabel="£m", source="LBBD")
    ours, theirs, ticks = _drawn_both_ways(figure)
    assert ours == theirs
    assert ticks == [1, 1]
    assert ours.count('<g id="xtick_') >= 4 and ours.count('<g id="ytick_') >= 4  # all drawn

    figure, (grid_ax, bar_ax) = plt.subplots(1, 2)
    mesh = grid_ax.pcolormesh([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]], cmap=charts.DIVERGING_CMAP)
    figure.colorbar(mesh, ax=grid_ax, label="Variance (£m)")
    bar_ax.bar(["Before", "Improvement", "Efficient"], [16.9, 18.0, 17.2])
    charts.finish_chart(bar_ax, title="Cost", xlabel="Structure", ylabel="£m", source="LBBD")
    ours, theirs, ticks = _drawn_both_ways(figure)
    assert ours == theirs
    assert ticks == [1, 1, 1, 1, 1, 1]  # the grid, the bars and the colour bar


def test_ticks_styled_one_by_one_or_an_offset_are_drawn_by_matplotlib() -> None:
    """Where one Tick cannot stand for the others (a label coloured on its own, an offset text
    placed from every label's box), the house canvas leaves the axis to matplotlib's draw."""
    charts.use_house_style()
    figure, ax = charts.new_chart()
    ax.plot([2019, 2020, 2021], [3.0, 4.0, 5.0])
    charts.finish_chart(ax, title="Cost", xlabel="Year", ylabel="£m", source="LBBD")
    ax.get_xticklabels()[1].set_color("#D55E00")
    ours, theirs, ticks = _drawn_both_ways(figure)
    assert ours == theirs
    assert "#d55e00" in ours.lower()
    assert ticks[0] > 1

    figure, ax = charts.new_chart()
    ax.plot([1, 2, 3], [1_000_000.1, 1_000_000.3, 1_000_000.2])
    ax.set_title("Offset")
    ours, theirs, _ticks = _drawn_both_ways(figure)
    assert ours == theirs
    assert "+1e6" in ours.replace("\u2212", "-")
