"""The house style for every chart in the pack: colour-blind-safe colours, titles, labelled
axes with units, and a source line.

Colours are the Okabe-Ito palette (distinguishable with the common forms of colour-blindness);
diverging maps are centred on zero. Charts render as SVG in notebooks, which keeps line and
bar charts small in the exported HTML and sharp on a tablet.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

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
    set_matplotlib_formats("svg")


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
    """Give a chart its title, labelled axes (with units) and a source line; return its figure.

    Raises
    ------
    ValueError
        When the title, an axis label or the source is empty: every chart in a committee report
        must say what it shows and where the figures come from.
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
    figure = ax.figure
    figure.text(
        0.01, 0.005, f"Source: {source}", fontsize=8, color="#444444", ha="left", va="bottom"
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def new_chart(size: Sequence[float] = FIGURE_SIZE) -> tuple[Figure, Axes]:
    """Return a new figure and axes in the house style."""
    figure, ax = plt.subplots(figsize=tuple(size))
    return figure, ax
