"""Committee reports: each executed notebook as a self-contained, offline HTML page, and the
pack's index page.

A report opens offline on a laptop or tablet and never shows code. It is JupyterLab's HTML
layout (``templates/csc_report``) with the require.js, MathJax and mermaid scripts that the lab
template loads from a CDN taken out, a Content-Security-Policy that forbids every network
request and every script, a header with the title, the reporting month and the notebook's
headline, and a provenance footer (scenario and input files with their SHA-256, code version,
package versions, when it ran). Charts are already inline (SVG or base64 PNG).

Text that comes from inputs is shown as text, never as markup: the header, footer and index
are rendered by Jinja with autoescaping on, and generated narrative that a notebook displays
as Markdown is rendered with any HTML in it escaped. (A notebook that means to emit markup
displays HTML, not Markdown.) Warnings and other stderr output stay in the executed notebook
and are left out of the report; cells tagged ``remove_cell`` are left out, and cells tagged
``remove_output`` lose their outputs.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from analysis.periods import financial_year_of, period_of
from analysis.results import Headline

TEMPLATES_DIR = Path(__file__).with_name("templates")
REPORT_TEMPLATE = "csc_report"

#: No request of any kind (scripts, fonts, images, frames, forms) leaves the page; styles are
#: inline and images are ``data:`` URIs. Links to the pack's other files are navigation, which
#: this does not restrict.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)

#: Cells with these tags are left out of the report (the parameters cells hold only defaults).
REMOVED_CELL_TAGS = frozenset({"remove_cell", "parameters", "injected-parameters"})
#: Cells with these tags keep their place but lose their outputs. A notebook shows its headline
#: in a cell tagged ``headline`` for whoever opens the notebook itself; the report's header box
#: already shows that headline, so the page would otherwise say it twice.
REMOVED_OUTPUT_TAGS = frozenset({"remove_output", "headline"})

PACK_TITLE = "Children's social care finance pack"

_RAG_LABELS = {"red": "Red", "amber": "Amber", "green": "Green"}


@dataclass(frozen=True)
class ReportPage:
    """What a report's header and footer say around the notebook's own content.

    Parameters
    ----------
    title
        The report's title (the headline's title, else the notebook's first heading).
    reporting_month
        The month reported on.
    scenario_name
        The scenario's name as its file gives it (shown as text, escaped).
    headline
        The headline the notebook wrote, or ``None`` when it wrote none.
    provenance
        As :func:`analysis.provenance.run_provenance` returns it: ``inputs`` and ``scenario``
        (``{file: sha256}``), ``code_version``, ``packages`` and ``ran_at``.
    index_href
        The link back to the pack's index page.
    """

    title: str
    reporting_month: pd.Period
    scenario_name: str
    headline: Headline | None
    provenance: Mapping[str, object]
    index_href: str = "index.html"


@dataclass(frozen=True)
class IndexEntry:
    """One report on the index page: its title, headline and the files to link."""

    title: str
    headline: Headline | None
    html_href: str
    notebook_href: str


@dataclass(frozen=True)
class PackFile:
    """A file beside the reports (the Excel workbook, the result tables), with what it holds."""

    href: str
    description: str


def month_label(month: pd.Period) -> str:
    """Write a reporting month for a reader: ``March 2025 (2024/25 period 12)``."""
    return f"{month.strftime('%B %Y')} ({financial_year_of(month)} period {period_of(month)})"


def _rag_class(rag: object) -> str:
    return str(rag) if rag in _RAG_LABELS else "unknown"


def _rag_label(rag: object) -> str:
    return _RAG_LABELS.get(str(rag), str(rag))


@functools.cache
def _fragments() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR / "fragments"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    environment.globals.update(rag_class=_rag_class, rag_label=_rag_label)
    return environment


@functools.cache
def report_css() -> str:
    """Return the house style sheet shared by the reports and the index page."""
    return (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")


def render_header(page: ReportPage) -> str:
    """Return the report's header (title, month, scenario, headline) as escaped HTML."""
    return (
        _fragments()
        .get_template("report_header.html.j2")
        .render(
            title=page.title,
            month_label=month_label(page.reporting_month),
            scenario_name=page.scenario_name,
            headline=page.headline,
            index_href=page.index_href,
        )
    )


def render_footer(page: ReportPage) -> str:
    """Return the report's provenance footer as escaped HTML."""
    return (
        _fragments()
        .get_template("provenance.html.j2")
        .render(
            provenance=page.provenance,
            scenario_name=page.scenario_name,
            no_inputs_text="This report recorded no input files of its own; the pack's index "
            "page lists every input of the run.",
        )
    )


class EscapedMarkdownOutputs(Preprocessor):
    """Render Markdown *outputs* (generated narrative) with any HTML in them shown as text.

    Markdown cells written by the notebook's author are left to the template; outputs are
    generated at run time from inputs, so markup in them is escaped.
    """

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 - nbconvert's interface
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/markdown" in data:
                renderer = MarkdownWithMath(renderer=IPythonRenderer(escape=True))
                data["text/html"] = renderer.render(data.pop("text/markdown"))
        return cell, resources


class DropStderr(Preprocessor):
    """Leave warnings and other stderr output out of the report (the executed notebook has them)."""

    def preprocess_cell(self, cell, resources, index):  # noqa: D102 - nbconvert's interface
        if "outputs" in cell:
            cell.outputs = [
                output
                for output in cell.outputs
                if not (output.get("output_type") == "stream" and output.get("name") == "stderr")
            ]
        return cell, resources


class ChartDescriptions(Preprocessor):
    """Describe each chart for screen readers by the section it sits in (its alt text)."""

    def preprocess(self, nb, resources):  # noqa: D102 - nbconvert's interface
        section = notebook_title(nb, "this report")
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                headings = [line for line in cell.source.splitlines() if line.startswith("#")]
                if headings:
                    section = headings[-1].lstrip("#").strip() or section
                continue
            for output in cell.get("outputs", []):
                if "image/svg+xml" in output.get("data", {}):
                    output.setdefault("metadata", {})["csc_alt"] = f"Chart in '{section}'"
        return nb, resources


@functools.cache
def _exporter() -> HTMLExporter:
    # Built once per process: the first export costs ~0.25 s, later ones a few milliseconds.
    exporter = HTMLExporter(
        template_name=REPORT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_raw=True,
        exclude_unknown=True,
        exclude_anchor_links=True,
        # the notebook is checked once, after every preprocessor, instead of after each one
        # (sixteen checks of every output: a quarter of an export)
        optimistic_validation=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags=set(REMOVED_CELL_TAGS),
            remove_all_outputs_tags=set(REMOVED_OUTPUT_TAGS),
            enabled=True,
        ),
        enabled=True,
    )
    exporter.register_preprocessor(DropStderr(enabled=True), enabled=True)
    exporter.register_preprocessor(EscapedMarkdownOutputs(enabled=True), enabled=True)
    exporter.register_preprocessor(ChartDescriptions(enabled=True), enabled=True)
    return exporter


def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """Return the text of the notebook's first Markdown heading, else ``fallback``."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                return line.lstrip("#").strip() or fallback
    return fallback


def notebook_to_html(notebook: nbformat.NotebookNode, page: ReportPage) -> str:
    """Return an executed notebook as a self-contained committee report.

    Parameters
    ----------
    notebook
        The executed notebook (it is not modified).
    page
        The header and footer content.
    """
    notebook = copy.deepcopy(notebook)
    # The template prefers the notebook's own title metadata; the report's title wins.
    notebook.metadata.pop("title", None)
    resources = {
        "metadata": {"name": f"{page.title} – {month_label(page.reporting_month)}"},
        "csc": {
            "content_security_policy": CONTENT_SECURITY_POLICY,
            "css": report_css(),
            "header_html": render_header(page),
            "footer_html": render_footer(page),
        },
    }
    body, _resources = _exporter().from_notebook_node(notebook, resources=resources)
    return body


def render_index(
    reporting_month: pd.Period,
    scenario_name: str,
    entries: Sequence[IndexEntry],
    downloads: Sequence[PackFile],
    provenance: Mapping[str, object],
) -> str:
    """Return the pack's index page: each report with its headline, and the files beside them.

    Parameters
    ----------
    reporting_month
        The month of the pack.
    scenario_name
        The scenario's name (escaped).
    entries
        The reports, in notebook order.
    downloads
        The other files of the pack (the Excel workbook, the result tables).
    provenance
        The pack's provenance (every input of the run), as for :class:`ReportPage`.
    """
    return (
        _fragments()
        .get_template("pack_index.html.j2")
        .render(
            content_security_policy=CONTENT_SECURITY_POLICY,
            css=report_css(),
            pack_title=PACK_TITLE,
            month_label=month_label(reporting_month),
            scenario_name=scenario_name,
            entries=entries,
            downloads=downloads,
            provenance=provenance,
            no_inputs_text="No input files were recorded.",
        )
    )
