"""Report HTML pieces: escaping of input text, RAG words, month labels, offline export."""

from __future__ import annotations

import re
from html import unescape

import nbformat
import pandas as pd
import pytest

from analysis.report import (
    CONTENT_SECURITY_POLICY,
    IndexEntry,
    PackFile,
    ReportPage,
    month_label,
    notebook_title,
    notebook_to_html,
    render_footer,
    render_header,
    render_index,
)
from analysis.results import Headline, HeadlineFigure

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _headline(text: str = HOSTILE) -> Headline:
    return Headline(
        notebook="02_tom_costs",
        title=f"Costs {text}",
        summary=f"Budget area {text} is over budget.",
        figures=(
            HeadlineFigure(f"Gap {text}", "+£1.0m", "red", note=text),
            HeadlineFigure("Caseload", "14.9", "green"),
            HeadlineFigure("Odd status", "1", "purple"),  # type: ignore[arg-type]
        ),
    )


def _page(headline: Headline | None = None) -> ReportPage:
    return ReportPage(
        title=f"Costs {HOSTILE}",
        reporting_month=pd.Period("2024-06", freq="M"),
        scenario_name=f"Scenario {HOSTILE}",
        headline=headline,
        provenance={
            "inputs": {f"data/raw/{HOSTILE}.csv": "ab" * 32},
            "scenario": {"scenarios/base.yaml": "cd" * 32},
            "code_version": "git 0123456789ab",
            "packages": {"pandas": "3.1.1", "papermill": "2.7.0"},
            "ran_at": "2025-07-01 09:00 UTC",
        },
    )


def _assert_escaped(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert not re.search(r"<[^>]+\sonerror=", html)


@pytest.mark.parametrize(
    ("month", "label"),
    [("2024-06", "June 2024 (2024/25 period 3)"), ("2025-03", "March 2025 (2024/25 period 12)")],
)
def test_month_label_names_the_financial_year_and_period(month: str, label: str) -> None:
    assert month_label(pd.Period(month, freq="M")) == label


def test_header_escapes_every_input_text_and_writes_rag_as_words() -> None:
    html = render_header(_page(_headline()))
    _assert_escaped(html)
    assert "June 2024 (2024/25 period 3)" in html
    assert 'class="csc-rag csc-rag-red">Red</span>' in html
    assert 'class="csc-rag csc-rag-green">Green</span>' in html
    # An unknown status is shown as written, never used as a class name.
    assert 'class="csc-rag csc-rag-unknown">purple</span>' in html


def test_footer_lists_hashes_code_and_packages_escaped() -> None:
    html = render_footer(_page())
    _assert_escaped(html)
    assert "ab" * 32 in html and "cd" * 32 in html
    assert "git 0123456789ab" in html and "pandas 3.1.1" in html
    assert "2025-07-01 09:00 UTC" in html


def test_index_escapes_and_links_files() -> None:
    html = render_index(
        pd.Period("2024-06", freq="M"),
        f"Scenario {HOSTILE}",
        [IndexEntry(f"Costs {HOSTILE}", _headline(), "02_tom_costs.html", "notebooks/02.ipynb")],
        [PackFile("results.xlsx", "workbook")],
        _page().provenance,
    )
    _assert_escaped(html)
    assert 'href="02_tom_costs.html"' in html and 'href="results.xlsx"' in html
    assert f'content="{CONTENT_SECURITY_POLICY}"' in unescape(html)


def _executed_notebook() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_markdown_cell("# Costs\n\nIntro."),
        nbformat.v4.new_code_cell("secret_code = 1"),
        nbformat.v4.new_markdown_cell("## Charts"),
        nbformat.v4.new_code_cell("display(Markdown(text))"),
    ]
    cells[1].outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="a warning for analysts only"),
        nbformat.v4.new_output("stream", name="stdout", text="printed for readers"),
    ]
    cells[3].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/markdown": f"**Area** {HOSTILE}",
                "text/plain": "<IPython.core.display.Markdown object>",
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'></svg>"},
        ),
        nbformat.v4.new_output(
            "display_data", data={"application/javascript": "window.fromJavascript = 1"}
        ),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_notebook_export_hides_code_escapes_markdown_output_and_stays_offline() -> None:
    html = notebook_to_html(_executed_notebook(), _page(_headline()))
    body = html[html.index("<body") :]
    assert "secret_code" not in html
    assert "a warning for analysts only" not in html
    assert "printed for readers" in html
    assert "<strong>Area</strong> &lt;script&gt;" in body
    _assert_escaped(body)
    assert "fromJavascript" not in body  # JavaScript outputs are dropped
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    assert "alt=\"Chart in 'Charts'\"" in html


def test_notebook_title_is_the_first_heading() -> None:
    assert notebook_title(_executed_notebook(), "fallback") == "Costs"
    assert notebook_title(nbformat.v4.new_notebook(), "fallback") == "fallback"


def test_a_headline_cell_keeps_its_place_but_its_output_is_not_repeated() -> None:
    notebook = _executed_notebook()
    headline_cell = nbformat.v4.new_code_cell("display(Markdown(headline.summary))")
    headline_cell.metadata["tags"] = ["headline"]
    headline_cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/markdown": "The notebook's own copy."})
    ]
    notebook.cells.insert(1, headline_cell)
    html = notebook_to_html(notebook, _page(_headline("in the header box")))
    assert "in the header box is over budget." in html
    assert "The notebook's own copy." not in html
    assert "printed for readers" in html
