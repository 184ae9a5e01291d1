"""The house style for every chart in the pack: colour-blind-safe colours, titles, labelled
axes with units, and a source line.

Colours are the Okabe-Ito palette (distinguishable with the common forms of colour-blindness);
diverging maps are centred on zero. Charts render as SVG in notebooks, which keeps line and
bar charts small in the exported HTML and sharp on a tablet.

Every chart is laid out once, without drawing it: ``finish_chart`` measures the texts around its
axes (tick labels, axis labels, titles, outside legends, the source line) and sets the margins
so that nothing is clipped. matplotlib's ``tight_layout`` and the notebook's default
``bbox_inches="tight"`` reach the same result by laying every chart out three times (two draws
and a layout pass), which made charts the largest part of a pack's run. The layout works out
the tick labels without making matplotlib's Tick objects (five artists each) and leaves each
axis with the ticks it shows. Notebooks draw the SVG with this module's ``FigureCanvas``, which
measures each text once per process instead of once per chart and draws each axis' ticks with
its first Tick moved from location to location: the same SVG, to the byte, without a Tick
object per location.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import math
import textwrap
from collections.abc import Iterator, Sequence
from functools import lru_cache, partial
from typing import IO, NamedTuple

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import cbook
from matplotlib.artist import allow_rasterization
from matplotlib.axes import Axes
from matplotlib.axis import Axis, Tick
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager, get_font
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FixedLocator, FuncFormatter, NullLocator
from matplotlib.transforms import Bbox, _interval_contains_close

#: Okabe-Ito colour-blind-safe palette (black last: used for reference lines).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Colours with a fixed meaning across the pack.
STRUCTURE_COLOURS = {"before": PALETTE[4], "improvement": PALETTE[0], "efficient": PALETTE[2]}
RAG_COLOURS = {"red": "#D55E00", "amber": "#E69F00", "green": "#009E73"}
REFERENCE_COLOUR = PALETTE[7]

#: Diverging colour map for values either side of zero (blue under, vermillion over budget).
DIVERGING_CMAP = "RdBu_r"

FIGURE_SIZE = (8.0, 4.0)


def use_house_style() -> None:
    """Apply the house style to matplotlib (and SVG output when running in a notebook), and
    make every styled table escape its text.

    pandas' ``Styler`` writes cell text into the HTML as it is, unlike a plain DataFrame; a
    budget area or scenario source carrying markup must show as text in a committee report.
    """
    pd.set_option("styler.format.escape", "html")
    mpl.rcParams.update(
        {
            "figure.figsize": FIGURE_SIZE,
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 10,
            "axes.grid": True,
            "axes.grid.axis": "y",
            "grid.color": "#dddddd",
            "legend.frameon": False,
            "font.size": 10,
            "svg.fonttype": "none",
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # outside Jupyter, charts are saved by the caller
        return
    # finish_chart has already sized the margins; a tight bounding box would lay the chart
    # out and draw it a second time only to crop it. The SVG is drawn by this module's
    # FigureCanvas, which measures each text once per process rather than once per chart.
    set_matplotlib_formats("svg", bbox_inches=None, backend=SVG_BACKEND)


def gbp_millions_axis(ax: Axes, axis: str = "y") -> None:
    """Label an axis in £ millions (``£18.0m``)."""
    formatter = FuncFormatter(lambda value, _pos: f"£{value / 1e6:,.1f}m")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def percent_axis(ax: Axes, axis: str = "y", decimals: int = 0) -> None:
    """Label an axis holding fractions as percentages."""
    formatter = FuncFormatter(lambda value, _pos: f"{value * 100:.{decimals}f}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def finish_chart(
    ax: Axes,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    source: str,
    legend: bool | None = None,
) -> Figure:
    """Give a chart its title, labelled axes (with units) and a source line, and lay it out
    (``fit_margins``); return its figure.

    Call it once everything around the axes is in place (tick labels, a legend beside the
    axes, a colour bar): the layout makes room for what is there when it runs.

    Raises
    ------
    ValueError
        When the title, an axis label or the source is empty: every chart in a committee report
        must say what it shows and where the figures come from; or when the figure's axes are
        not side by side in one row.
    """
    for name, text in (("title", title), ("ylabel", ylabel), ("source", source)):
        if not text or not text.strip():
            raise ValueError(f"a chart needs a {name}")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    handles, _labels = ax.get_legend_handles_labels()
    if legend or (legend is None and handles):
        ax.legend(loc="best")
    figure = ax.get_figure(root=True)
    source_line = figure.text(
        0, 0, f"Source: {source}", fontsize=8, color="#444444", ha="left", va="bottom"
    )
    fit_margins(figure, source_line)
    return figure


def new_chart(size: Sequence[float] = FIGURE_SIZE) -> tuple[Figure, Axes]:
    """Return a new figure and axes in the house style."""
    figure, ax = plt.subplots(figsize=tuple(size))
    return figure, ax


# ---- layout without drawing ------------------------------------------------------------------

#: Space between the outermost text and the figure's edge, and between neighbouring axes (points).
EDGE_PAD_PT = 6.0
AXES_GAP_PT = 12.0
#: Space between the source line and the x axis' label above it (points).
SOURCE_GAP_PT = 4.0


@lru_cache(maxsize=8192)
def _svg_text_metrics(text: str, font: FontProperties, ismath: bool | str) -> tuple[float, ...]:
    return RendererSVG.get_text_width_height_descent(_RENDERER, text, font, ismath)


@lru_cache(maxsize=256)
def _font_height_metrics(font: FontProperties) -> tuple[float, float, float]:
    """A font's ascent, descent and line gap in points, read from its tables as matplotlib's
    text layout reads them at 72 dpi (``Text._get_layout``)."""
    face = get_font(fontManager._find_fonts_by_props(font))
    scale = font.get_size_in_points() / face.get_sfnt_table("head")["unitsPerEm"]
    for table_name, gap, ascent, descent in (
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ):
        table = face.get_sfnt_table(table_name)
        if table is not None:
            return table[ascent] * scale, -table[descent] * scale, table[gap] * scale
    raise ValueError(f"font {face.fname} has neither an OS/2 nor an hhea table")


class _SharedMetricsRendererSVG(RendererSVG):
    """matplotlib's SVG renderer with text sizes kept for the whole process.

    matplotlib keeps the sizes of texts per renderer, and each SVG drawing has a new one, so
    every chart measured its tick labels, legend entries and titles again (FreeType lays out
    each string, and the font's tables are read for every text: together about a third of
    drawing a chart). The sizes depend only on the string and its font: the same for every
    chart. Used at 72 dpi only, as SVG output is.
    """

    def get_text_width_height_descent(
        self, s: str, prop: FontProperties, ismath: bool | str
    ) -> tuple[float, ...]:
        # a copy: FontProperties is mutable, and its hash follows its state
        return _svg_text_metrics(s, prop.copy(), ismath)

    def _get_font_height_metrics(self, prop: FontProperties) -> tuple[float, float, float]:
        # the hook Text._get_layout asks a renderer first (matplotlib 3.10 on); without it,
        # the layout finds the font and reads its tables for every text it lays out
        return _font_height_metrics(prop.copy())


class FigureCanvas(FigureCanvasSVG):
    """The canvas the notebooks' SVG output is drawn with (``SVG_BACKEND``): matplotlib's, with
    the renderer that measures each text once per process."""

    def print_svg(
        self,
        filename: str | IO[str],
        *,
        bbox_inches_restore: object = None,
        metadata: dict[str, object] | None = None,
        **_applied: object,
    ) -> None:
        # FigureCanvasSVG.print_svg (matplotlib 3.11) with the renderer swapped; print_figure
        # also passes the colours and orientation it has already applied to the figure
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as fh:
            if not cbook.file_requires_unicode(fh):
                fh = codecs.getwriter("utf-8")(fh)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            renderer = MixedModeRenderer(
                self.figure,
                width,
                height,
                dpi,
                _SharedMetricsRendererSVG(
                    width * 72, height * 72, fh, image_dpi=dpi, metadata=metadata
                ),
                bbox_inches_restore=bbox_inches_restore,
            )
            with _ticks_drawn_one_at_a_time(self.figure):
                self.figure.draw(renderer)
            renderer.finalize()


#: This module as a matplotlib backend, for ``print_figure(..., backend=SVG_BACKEND)``.
SVG_BACKEND = f"module://{__name__}"

# Texts are measured by matplotlib's own text layout on a scratch figure at 72 dpi (a pixel is a
# point) with the SVG backend's font metrics, the ones the pack's charts are drawn with (Agg's,
# hinted to pixels, differ by a point or two on a long label; EDGE_PAD_PT absorbs that).
_SCRATCH = Figure(dpi=72)
_RENDERER = _SharedMetricsRendererSVG(1, 1, io.StringIO())
_PROBE = Text(0, 0, "")
_PROBE.set_figure(_SCRATCH)

#: Legend locations as (horizontal, vertical) alignment of the legend box to its anchor box.
_LEGEND_ALIGN = {
    1: ("right", "top"),
    2: ("left", "top"),
    3: ("left", "bottom"),
    4: ("right", "bottom"),
    5: ("right", "center"),
    6: ("left", "center"),
    7: ("right", "center"),
    8: ("center", "bottom"),
    9: ("center", "top"),
    10: ("center", "center"),
}


class _Sides(NamedTuple):
    """How far an axes' texts reach beyond its box on each side, and how far outside it its
    axis labels and titles go (points; ``nan`` when there is none)."""

    left: float
    right: float
    bottom: float
    top: float
    xlabel_gap: float
    ylabel_gap: float
    title_gap: float


@lru_cache(maxsize=4096)
def _measure(
    text: str, font: FontProperties, rotation: float, linespacing: float
) -> tuple[float, float]:
    _PROBE.set_text(text)
    _PROBE.set_fontproperties(font)
    _PROBE.set_rotation(rotation)
    _PROBE.set_linespacing(linespacing)
    extent = _PROBE.get_window_extent(_RENDERER)
    return extent.width, extent.height


def _size_as(text: Text, string: str) -> tuple[float, float]:
    """Width and height in points of ``string`` set in ``text``'s font, rotation and spacing."""
    return _measure(
        string, text.get_fontproperties().copy(), text.get_rotation(), text.get_linespacing()
    )


def text_size_pt(text: Text) -> tuple[float, float]:
    """Width and height in points of a text's (rotated) bounding box, without drawing it."""
    if not text.get_visible() or not text.get_text():
        return 0.0, 0.0
    return _size_as(text, text.get_text())


def _box(size: tuple[float, float], x: float, y: float, ha: str, va: str) -> Bbox:
    """The box of a text of ``size`` aligned to the point (x, y) as matplotlib aligns it."""
    width, height = size
    x0 = {"left": x, "right": x - width}.get(ha, x - width / 2)
    y0 = {"bottom": y, "top": y - height, "baseline": y - 0.2 * height}.get(va, y - height / 2)
    return Bbox.from_bounds(x0, y0, width, height)


def _text_box(text: Text, x: float, y: float) -> Bbox | None:
    size = text_size_pt(text)
    if size == (0.0, 0.0):
        return None
    return _box(size, x, y, text.get_horizontalalignment(), text.get_verticalalignment())


class _Ticks(NamedTuple):
    """The major or minor ticks an axis will draw: where, labelled how, and the tick whose
    label properties and padding every one of them takes."""

    major: bool
    prototype: Tick
    locations: list[float]
    labels: list[str]
    located: int  # how many locations the locator gave, in view or not


def _ticks_in_view(axis: Axis) -> list[_Ticks]:
    """The ticks the next draw will show, located, labelled and kept to the view as
    ``Axis._update_ticks`` does, without making a Tick object per location as it does: making
    them was most of a chart's layout, and the draw makes those it shows anyway."""
    transform = axis.get_transform()
    view = transform.transform(sorted(axis.get_view_interval()))
    groups = []
    for major, ticker, settings in (
        (True, axis.major, axis._major_tick_kw),
        (False, axis.minor, axis._minor_tick_kw),
    ):
        if not Axis._tick_group_visible(settings) or isinstance(ticker.locator, NullLocator):
            continue
        locations = list(axis.get_majorticklocs() if major else axis.get_minorticklocs())
        labels = ticker.formatter.format_ticks(locations)
        shown = [
            (location, label)
            for location, label in zip(locations, labels, strict=True)
            if _interval_contains_close(view, transform.transform(location))
        ]
        prototype = (axis.majorTicks if major else axis.minorTicks)[0]
        groups.append(
            _Ticks(
                major,
                prototype,
                [location for location, _label in shown],
                [label for _location, label in shown],
                len(locations),
            )
        )
    return groups


def _tick_boxes(axis: Axis, width: float, height: float) -> tuple[list[Bbox], list[Bbox]]:
    """Boxes of the tick labels the next draw will show: (bottom or left, top or right)."""
    ax = axis.axes
    is_x = axis.axis_name == "x"
    to_axes = (ax.get_xaxis_transform() if is_x else ax.get_yaxis_transform()) - ax.transAxes
    near: list[Bbox] = []
    far: list[Bbox] = []
    for ticks in _ticks_in_view(axis):
        offset = ticks.prototype.get_tick_padding() + ticks.prototype.get_pad()
        label1, label2 = ticks.prototype.label1, ticks.prototype.label2
        for location, label in zip(ticks.locations, ticks.labels, strict=True):
            if is_x:
                along = to_axes.transform((location, 0.0))[0] * width
                spots = ((label1, along, -offset, near), (label2, along, height + offset, far))
            else:
                along = to_axes.transform((0.0, location))[1] * height
                spots = ((label1, -offset, along, near), (label2, width + offset, along, far))
            for template, x, y, boxes in spots:
                if template.get_visible() and label:
                    size = _size_as(template, label)
                    ha, va = template.get_horizontalalignment(), template.get_verticalalignment()
                    boxes.append(_box(size, x, y, ha, va))
    return near, far


def _keep_ticks_in_view(axis: Axis) -> None:
    """Fix an axis' ticks to those it shows at its laid-out size, labelled as they are.

    A locator gives a location or two beyond each end of the view, and the draw makes a Tick
    object (five artists) for each before leaving it out: a quarter of the ticks made.
    """
    for ticks in _ticks_in_view(axis):
        if len(ticks.locations) == ticks.located:
            continue
        formatter = FixedFormatter(ticks.labels)
        ticker = axis.major if ticks.major else axis.minor
        formatter.set_offset_string(ticker.formatter.get_offset())
        if ticks.major:
            axis.set_major_locator(FixedLocator(ticks.locations))
            axis.set_major_formatter(formatter)
        else:
            axis.set_minor_locator(FixedLocator(ticks.locations))
            axis.set_minor_formatter(formatter)


def _one_tick_draws_them_all(axis: Axis, groups: list[_Ticks]) -> bool:
    """Whether the axis' first Tick, moved to each location, draws what a Tick per location
    would: it does unless the axis has Ticks made one by one (which a caller may have styled
    singly) or an offset text (placed from every label's box)."""
    return (
        axis.axes.name == "rectilinear"
        and not axis.major.formatter.get_offset()
        and all(len(axis.majorTicks if t.major else axis.minorTicks) == 1 for t in groups)
    )


def _move_tick(tick: Tick, location: float, label: str) -> None:
    # as Axis._update_ticks places each of its ticks
    tick.update_position(location)
    tick.label1.set_text(label)
    tick.label2.set_text(label)


@allow_rasterization  # as Axis.draw: it also ends the raster run of an artist drawn before
def _draw_axis(axis: Axis, renderer: RendererBase) -> None:
    """``Axis.draw`` (matplotlib 3.11), with every tick drawn by the axis' first Tick moved to
    each location in turn rather than by a Tick object per location.

    An axis' ticks share every property but their location and label (each new Tick copies
    the first one's), so the drawing calls, and the SVG, are the same as matplotlib's; making
    the Tick objects, five artists each, was about a third of drawing a chart. Where that
    does not hold (:func:`_one_tick_draws_them_all`) matplotlib's own draw runs.
    """
    if not axis.get_visible():
        return
    groups = _ticks_in_view(axis)
    if not _one_tick_draws_them_all(axis, groups):
        type(axis).draw.__wrapped__(axis, renderer)  # already inside allow_rasterization
        return
    renderer.open_group(Axis.__module__, gid=axis.get_gid())  # the group Axis.draw opens
    for ticks in groups:
        for location, label in zip(ticks.locations, ticks.labels, strict=True):
            _move_tick(ticks.prototype, location, label)
            ticks.prototype.draw(renderer)
        if ticks.locations:  # left placed, and labelled, as the first tick it drew
            _move_tick(ticks.prototype, ticks.locations[0], ticks.labels[0])
    if axis.label.get_visible() and axis.label.get_text():
        # a laid-out label is pinned (_pin_labels); one left to place itself measures every
        # tick label, and an empty one draws nothing wherever it is
        axis._update_label_position(renderer)
        axis.label.draw(renderer)
    # no offset text to place or draw: _one_tick_draws_them_all checked
    renderer.close_group(Axis.__module__)
    axis.stale = False


@contextlib.contextmanager
def _ticks_drawn_one_at_a_time(figure: Figure) -> Iterator[None]:
    """Draw the figure's axes with :func:`_draw_axis` for the duration of one drawing."""
    axes = [axis for ax in figure.get_axes() for axis in (ax.xaxis, ax.yaxis)]
    for axis in axes:
        axis.draw = partial(_draw_axis, axis)
    try:
        yield
    finally:
        for axis in axes:
            del axis.draw


def _legend_box(legend: Legend, ax: Axes, width: float, height: float) -> Bbox | None:
    """The box a legend will take, worked out from its texts and spacing rather than drawn."""
    texts = [text for text in legend.get_texts() if text.get_visible()]
    if not texts:
        return None
    loc = legend._loc  # fixed location code; 0 ("best") is searched at draw time inside the axes
    if loc not in _LEGEND_ALIGN:
        return None
    size = legend.prop.get_size_in_points()
    columns = max(1, min(legend._ncols, len(texts)))
    rows = -(-len(texts) // columns)
    text_sizes = [text_size_pt(text) for text in texts]
    column_widths = [
        max(w for w, _h in text_sizes[c * rows : (c + 1) * rows]) for c in range(columns)
    ]
    row_height = max(max(h for _w, h in text_sizes), legend.handleheight * size)
    box_width = (
        sum(column_widths)
        + columns * (legend.handlelength + legend.handletextpad) * size
        + (columns - 1) * legend.columnspacing * size
        + 2 * legend.borderpad * size
    )
    box_height = rows * row_height + (rows - 1) * legend.labelspacing * size
    box_height += 2 * legend.borderpad * size
    if legend.get_title().get_text():
        title_width, title_height = text_size_pt(legend.get_title())
        box_width = max(box_width, title_width + 2 * legend.borderpad * size)
        box_height += title_height + legend.labelspacing * size
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    gap = legend.borderaxespad * size
    x0, x1 = anchor.x0 * width + gap, anchor.x1 * width - gap
    y0, y1 = anchor.y0 * height + gap, anchor.y1 * height - gap
    ha, va = _LEGEND_ALIGN[loc]
    x = {"left": x0, "right": x1}.get(ha, (x0 + x1) / 2)
    y = {"bottom": y0, "top": y1}.get(va, (y0 + y1) / 2)
    return _box((box_width, box_height), x, y, ha, va)


def _titles(ax: Axes) -> tuple[Text, ...]:
    return (ax._left_title, ax.title, ax._right_title)


def _sides(ax: Axes, width: float, height: float) -> _Sides:
    """How far the texts of an axes of ``width`` x ``height`` points reach beyond its box."""
    # the ticks follow the view limits, which plotting only marks for autoscaling at draw time
    ax.get_xlim()
    ax.get_ylim()
    boxes = [Bbox.from_bounds(0.0, 0.0, width, height)]
    below, above = _tick_boxes(ax.xaxis, width, height)
    left_of, right_of = _tick_boxes(ax.yaxis, width, height)
    boxes += below + above + left_of + right_of
    # axis labels go beside the tick labels, as matplotlib places them when it draws
    xlabel_gap = ylabel_gap = math.nan
    xlabel = text_size_pt(ax.xaxis.label)
    if xlabel != (0.0, 0.0):
        centre = ax.xaxis.label.get_position()[0] * width
        if ax.xaxis.get_label_position() == "bottom":
            xlabel_gap = max([0.0, *(-box.y0 for box in below)]) + ax.xaxis.labelpad
            boxes.append(_box(xlabel, centre, -xlabel_gap, "center", "top"))
        else:
            xlabel_gap = max([0.0, *(box.y1 - height for box in above)]) + ax.xaxis.labelpad
            boxes.append(_box(xlabel, centre, height + xlabel_gap, "center", "bottom"))
    ylabel = text_size_pt(ax.yaxis.label)
    if ylabel != (0.0, 0.0):
        centre = ax.yaxis.label.get_position()[1] * height
        if ax.yaxis.get_label_position() == "left":
            ylabel_gap = max([0.0, *(-box.x0 for box in left_of)]) + ax.yaxis.labelpad
            boxes.append(_box(ylabel, -ylabel_gap, centre, "right", "center"))
        else:
            ylabel_gap = max([0.0, *(box.x1 - width for box in right_of)]) + ax.yaxis.labelpad
            boxes.append(_box(ylabel, width + ylabel_gap, centre, "left", "center"))
    for axis, at_top in ((ax.yaxis, True), (ax.xaxis, False)):
        offset = axis.get_major_formatter().get_offset()
        if offset:
            axis.offsetText.set_text(offset)
            size = text_size_pt(axis.offsetText)
            boxes.append(
                _box(size, 0.0, height, "left", "bottom")
                if at_top
                else _box(size, width, min(b.y0 for b in boxes), "right", "top")
            )
    legend = ax.get_legend()
    if legend is not None and legend.get_visible():
        box = _legend_box(legend, ax, width, height)
        if box is not None:
            boxes.append(box)
    for text in ax.texts:
        if text.get_visible() and text.get_in_layout():
            x, y = (text.get_transform() - ax.transAxes).transform(text.get_position())
            if not (math.isfinite(x) and math.isfinite(y)):
                continue  # matplotlib does not draw a text placed at a missing value
            box = _text_box(text, x * width, y * height)
            if box is not None:
                boxes.append(box)
    # titles sit above everything else; their width is kept in bounds by breaking them onto
    # more lines (fit_margins), so they count only upwards
    title_gap = max(box.y1 for box in boxes) - height
    title_top = (
        height
        + title_gap
        + mpl.rcParams["axes.titlepad"]
        + max(text_size_pt(title)[1] for title in _titles(ax))
    )
    reach = Bbox.union(boxes)
    titled = any(title.get_text() for title in _titles(ax))
    top = max(reach.y1, title_top if titled else 0.0)
    return _Sides(
        -reach.x0,
        reach.x1 - width,
        -reach.y0,
        top - height,
        xlabel_gap,
        ylabel_gap,
        title_gap if titled else math.nan,
    )


def _pin_labels(ax: Axes, sides: _Sides, width: float, height: float) -> None:
    """Fix the axis labels and titles where the layout measured them, in axes coordinates.

    Left to place themselves, matplotlib measures every tick label again at each draw (for the
    axis labels) and the whole x axis (for the titles), a third of a chart's drawing time.
    """
    if not math.isnan(sides.xlabel_gap):
        below = ax.xaxis.get_label_position() == "bottom"
        gap = sides.xlabel_gap / height
        ax.xaxis.set_label_coords(ax.xaxis.label.get_position()[0], -gap if below else 1 + gap)
    if not math.isnan(sides.ylabel_gap):
        left = ax.yaxis.get_label_position() == "left"
        gap = sides.ylabel_gap / width
        ax.yaxis.set_label_coords(-gap if left else 1 + gap, ax.yaxis.label.get_position()[1])
    # an offset text above the y axis ("1e6") is left to matplotlib to keep clear of the title
    if math.isnan(sides.title_gap) or ax.yaxis.get_major_formatter().get_offset():
        return
    for loc, title in zip(("left", "center", "right"), _titles(ax), strict=True):
        if title.get_text():
            ax.set_title(
                title.get_text(),
                loc=loc,
                y=1 + sides.title_gap / height,
                fontsize=title.get_fontsize(),
                fontweight=title.get_fontweight(),
                color=title.get_color(),
            )


def _wrap(text: Text, width_pt: float) -> bool:
    """Break a text onto more lines, at spaces, when it is wider than ``width_pt``; return
    whether it changed."""
    words = text.get_text().replace("\n", " ").split()
    if text_size_pt(text)[0] <= width_pt or len(words) < 2:
        return False
    whole = " ".join(words)
    # start from the share of characters that fit, then shorten the lines until they do
    start = int(len(whole) * width_pt / text_size_pt(text)[0]) + 1
    for columns in range(start, 0, -1):
        text.set_text(textwrap.fill(whole, columns, break_long_words=False))
        if text_size_pt(text)[0] <= width_pt:
            break
    return True


def _one_row(figure: Figure) -> list[Axes]:
    axes = sorted((a for a in figure.axes if a.get_visible()), key=lambda a: a.get_position().x0)
    spans = {(round(a.get_position().y0, 3), round(a.get_position().y1, 3)) for a in axes}
    if len(spans) > 1:
        raise ValueError("finish_chart lays out charts whose axes sit side by side in one row")
    return axes


def _place(axes: list[Axes], figure_width: float, figure_height: float, bottom: float) -> bool:
    """Set the axes' positions from their texts' reach at their current size; break titles
    that would run past the next axes or the figure's edge. Return whether anything moved."""
    boxes = [a.get_position(original=True) for a in axes]
    sides = [
        _sides(a, box.width * figure_width, box.height * figure_height)
        for a, box in zip(axes, boxes, strict=True)
    ]
    top = EDGE_PAD_PT + max(s.top for s in sides)
    bottom += max(s.bottom for s in sides)
    height = figure_height - top - bottom
    gaps = [a.right + b.left + AXES_GAP_PT for a, b in zip(sides, sides[1:], strict=False)]
    room = figure_width - 2 * EDGE_PAD_PT - sides[0].left - sides[-1].right - sum(gaps)
    # an axes with a fixed shape (a colour bar) keeps it; the others share what is left
    fixed = [height / a.get_box_aspect() if a.get_box_aspect() else 0.0 for a in axes]
    shared = sum(box.width for box, f in zip(boxes, fixed, strict=True) if not f)
    room -= sum(fixed)
    moved = False
    x = EDGE_PAD_PT + sides[0].left
    for index, (a, box, f, side) in enumerate(zip(axes, boxes, fixed, sides, strict=True)):
        width = f or room * box.width / shared
        new = Bbox.from_bounds(
            x / figure_width, bottom / figure_height, width / figure_width, height / figure_height
        )
        tolerance = 0.25 / max(figure_width, figure_height)  # a quarter of a point
        moved |= not all(abs(new.bounds[i] - box.bounds[i]) < tolerance for i in range(4))
        a.set_position(new)
        _pin_labels(a, side, width, height)
        next_x0 = x + width + (gaps[index] if index < len(gaps) else 0.0)
        # a title may run on over the axes beside it (a colour bar) unless that has its own
        titled = [any(t.get_text() for t in _titles(b)) for b in axes[index + 1 :]]
        limit = next_x0 if any(titled[:1]) else figure_width - EDGE_PAD_PT
        for title in _titles(a):
            if title.get_text() and title.get_horizontalalignment() == "left":
                moved |= _wrap(title, limit - x)
        x = next_x0
    return moved


def fit_margins(figure: Figure, source_line: Text) -> None:
    """Place a figure's axes, side by side in one row, so that every text around them and the
    source line fit inside the figure with ``EDGE_PAD_PT`` to spare; long titles and source
    lines are broken onto more lines rather than clipped.

    The layout is computed from the texts' measured sizes, not by drawing, and repeated until
    it settles (usually twice): the number of ticks, so their labels, follows the axes' size.

    Raises
    ------
    ValueError
        When the figure's axes are not side by side in one row.
    """
    axes = _one_row(figure)
    figure_width = figure.get_figwidth() * 72
    figure_height = figure.get_figheight() * 72
    _wrap(source_line, figure_width - 2 * EDGE_PAD_PT)
    source_line.set_position((EDGE_PAD_PT / figure_width, EDGE_PAD_PT / figure_height))
    bottom = EDGE_PAD_PT + text_size_pt(source_line)[1] + SOURCE_GAP_PT
    for _attempt in range(4):
        if not _place(axes, figure_width, figure_height, bottom):
            break
    for ax in axes:
        _keep_ticks_in_view(ax.xaxis)
        _keep_ticks_in_view(ax.yaxis)
