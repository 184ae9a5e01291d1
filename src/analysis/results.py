"""What each notebook hands on to the pack: its result tables and its headline.

A notebook writes its tables (CSV) and a headline (a generated summary sentence plus a few
headline figures, each with an optional RAG status) into its output folder. The pack's index
page reads the headlines of every notebook; analysts pick up the tables in Excel.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from analysis.paths import processed_dir
from analysis.store import atomic_write_text, write_tables

Rag = Literal["red", "amber", "green"]

#: Headline figures of the pack's scorecard start with this; the index shows them first.
SCORECARD_LABEL_PREFIX = "Scorecard: "


@dataclass(frozen=True)
class HeadlineFigure:
    """One headline figure: a label, the figure as written in the report, and its status."""

    label: str
    value: str
    rag: Rag | None = None
    note: str = ""


@dataclass(frozen=True)
class Headline:
    """A notebook's headline: its title, a generated summary paragraph and headline figures."""

    notebook: str
    title: str
    summary: str
    figures: Sequence[HeadlineFigure] = field(default_factory=tuple)

    def to_json(self) -> str:
        data = asdict(self)
        data["figures"] = [asdict(f) for f in self.figures]
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def resolve_output_dir(output_dir: str | Path, reporting_month: str) -> Path:
    """Return the folder a notebook writes to: ``output_dir``, or ``data/processed/<month>``."""
    folder = Path(output_dir) if str(output_dir).strip() else processed_dir() / str(reporting_month)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def headline_path(output_dir: Path, notebook: str) -> Path:
    return Path(output_dir) / f"headline_{notebook}.json"


def write_headline(output_dir: Path, headline: Headline) -> Path:
    """Write a notebook's headline for the pack's index (atomically)."""
    path = headline_path(output_dir, headline.notebook)
    atomic_write_text(path, headline.to_json())
    return path


def read_headlines(output_dir: Path) -> list[Headline]:
    """Read every headline in a folder, in notebook order."""
    headlines = []
    for path in sorted(Path(output_dir).glob("headline_*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        figures = tuple(HeadlineFigure(**f) for f in data.pop("figures", []))
        headlines.append(Headline(figures=figures, **data))
    return headlines


def write_results(
    output_dir: Path, tables: Mapping[str, pd.DataFrame], inputs: Iterable[Path] = ()
) -> list[Path]:
    """Write each result table as ``<name>.csv`` in ``output_dir``, atomically, with provenance."""
    return write_tables(
        {Path(output_dir) / f"{name}.csv": frame for name, frame in tables.items()}, inputs
    )
