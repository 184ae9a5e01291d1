"""The monthly pack: all or nothing, offline HTML with provenance, lock, batch, verify.

Most tests share one pack built from the small fixture notebooks in ``tests/fixtures/notebooks``
(module scope), so the file runs a handful of notebooks in all. One slow test runs the real
notebooks for one month.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from filelock import FileLock
from fixtures.small_pack import FIXTURE_NOTEBOOKS, copy_fixture_notebooks
from openpyxl import load_workbook

from analysis import pack as pack_module
from analysis import paths
from analysis.cli import main
from analysis.errors import InputError
from analysis.pack import (
    ERROR_NOTE,
    FAILED_FOLDER,
    NotebookFailed,
    PackBusy,
    PackOptions,
    check_la_code,
    find_notebooks,
    format_verification,
    month_range,
    plan_notebooks,
    publish,
    recover,
    resolve_month,
    run_batch,
    run_pack,
    summarise_batch,
    verify_pack,
)
from analysis.provenance import sha256_file

MONTH = pd.Period("2025-03", freq="M")


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): sha256_file(p) for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pack")


@pytest.fixture(scope="module")
def options(workspace: Path) -> PackOptions:
    return PackOptions(
        reports_root=workspace / "reports",
        notebooks_folder=copy_fixture_notebooks(workspace / "notebooks"),
        la_code="E09000002",
    )


@pytest.fixture(scope="module")
def pack(options: PackOptions):
    lines: list[str] = []
    result = run_pack(MONTH, options, progress=lines.append)
    return result, lines


@pytest.fixture(scope="module")
def summary_html(pack) -> str:
    result, _lines = pack
    return (result.folder / "01_summary.html").read_text(encoding="utf-8")


# ---- a published pack ------------------------------------------------------------------------


def test_pack_publishes_every_report_the_index_the_workbook_and_the_record(pack) -> None:
    result, lines = pack
    folder = result.folder
    assert folder.name == "2025-03"
    for name in (
        "index.html",
        "01_summary.html",
        "02_chart.html",
        "results.xlsx",
        "pack.json",
        "notebooks/01_summary.ipynb",
        "notebooks/02_chart.ipynb",
        "results/fixture_budget_variance.csv",
    ):
        assert (folder / name).is_file(), name
    assert not list(folder.parent.glob(".2025-03.building-*"))
    # Progress names each notebook in order, with elapsed time, then the published folder.
    assert re.match(r"2025-03: \[1/2\] 01_summary\.ipynb: running \(elapsed \d+\.\d s\)", lines[0])
    assert any(re.search(r"\[2/2\] 02_chart\.ipynb: done in \d+\.\d s", line) for line in lines)
    assert lines[-1].startswith("2025-03: published")


def test_results_are_computed_from_the_inputs_and_reach_the_workbook(pack) -> None:
    result, _lines = pack
    table = pd.read_csv(result.folder / "results" / "fixture_budget_variance.csv")
    first = table.set_index("financial_year").loc["2019/20"]
    # Appendix B of the seed document: 2019/20 budget £34.4m, projected out-turn £39.6m.
    assert first["budget"] == pytest.approx(34.4)
    assert first["outturn"] == pytest.approx(39.6)
    assert first["variance_gbp_m"] == pytest.approx(5.2)
    sheet = load_workbook(result.folder / "results.xlsx")["fixture_budget_variance"]
    assert [c.value for c in sheet[1]][:2] == ["financial_year", "budget"]
    assert sheet["A2"].value == "2019/20"


def test_parameters_reach_only_the_notebooks_that_declare_them(pack) -> None:
    result, _lines = pack
    executed = nbformat.read(result.folder / "notebooks" / "01_summary.ipynb", as_version=4)
    tagged = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    injected = tagged[0]
    assert 'reporting_month = "2025-03"' in injected.source
    assert 'la_code = "E09000002"' in injected.source
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "Reporting month 2025-03, local authority E09000002" in printed


def test_record_lists_every_input_and_pack_file_with_its_hash(pack, options) -> None:
    result, _lines = pack
    record = json.loads((result.folder / "pack.json").read_text(encoding="utf-8"))
    seed = paths.seed_dir() / "budget_trajectory.csv"
    assert record["inputs"]["data/raw/seed/budget_trajectory.csv"] == sha256_file(seed)
    notebook = options.notebooks_folder / "01_summary.ipynb"
    assert record["inputs"][str(notebook)] == sha256_file(notebook)
    assert record["scenario"]["files"]["scenarios/base.yaml"] == sha256_file(
        paths.default_scenario_path()
    )
    assert record["files"]["01_summary.html"] == sha256_file(result.folder / "01_summary.html")
    summary = next(n for n in record["notebooks"] if n["notebook"] == "01_summary.ipynb")
    assert summary["tables"] == ["fixture_budget_variance.csv"]
    assert list(summary["inputs"]) == ["data/raw/seed/budget_trajectory.csv"]


# ---- the HTML ----------------------------------------------------------------------------------


def _reports(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.html"))


class _MetaTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.metas: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.metas.append(dict(attrs))


def _content_security_policy(html: str) -> str:
    parser = _MetaTags()
    parser.feed(html)
    policies = [
        m.get("content") or ""
        for m in parser.metas
        if (m.get("http-equiv") or "").lower() == "content-security-policy"
    ]
    assert len(policies) == 1
    return policies[0]


def test_html_is_offline_self_contained_and_small(pack) -> None:
    result, _lines = pack
    for page in _reports(result.folder):
        html = page.read_text(encoding="utf-8")
        assert "<script" not in html.lower(), page.name
        external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
        assert external == [], page.name
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, re.I), page.name
        assert not re.search(r"@import", html), page.name
        policy = _content_security_policy(html)
        assert policy.startswith("default-src 'none';") and "img-src data:" in policy, page.name
        assert page.stat().st_size < 2_000_000, page.name


def test_code_is_hidden_and_warnings_left_out(pack, summary_html: str) -> None:
    result, _lines = pack
    chart_html = (result.folder / "02_chart.html").read_text(encoding="utf-8")
    for html in (summary_html, chart_html):
        assert "resolve_output_dir" not in html
        assert "import pandas" not in html
        assert "reporting_month: str" not in html
        assert not re.search(r'class="[^"]*jp-InputArea-editor', html)
    assert "a fixture warning the report leaves out" not in summary_html
    executed = (result.folder / "notebooks" / "01_summary.ipynb").read_text(encoding="utf-8")
    assert "a fixture warning the report leaves out" in executed
    assert 'src="data:image/svg+xml;base64,' in chart_html  # the chart itself is inline


def test_headline_sits_at_the_top_with_title_and_month(summary_html: str) -> None:
    header = summary_html.index('class="csc-header"')
    assert header < summary_html.index("Fixture: budget summary")  # before the notebook's content
    assert "March 2025 (2024/25 period 12)" in summary_html
    assert "£39.6m vs £34.4m" in summary_html
    assert 'class="csc-rag csc-rag-red">Red</span>' in summary_html
    assert "<title>Fixture &lt;b&gt;budget&lt;/b&gt; &amp;" in summary_html


def test_text_from_inputs_is_escaped_never_markup(pack, summary_html: str) -> None:
    result, _lines = pack
    index_html = (result.folder / "index.html").read_text(encoding="utf-8")
    for html in (summary_html, index_html):
        assert "<script>alert(" not in html
        assert "<b>budget</b>" not in html
        assert "&lt;script&gt;alert(" in html
        assert "&lt;i&gt;overspend&lt;/i&gt;" in html
    # Narrative the notebook displayed as Markdown is escaped too.
    assert (
        "for &lt;script&gt;alert(&#x27;summary&#x27;)&lt;/script&gt; budget area" in (summary_html)
        or "for &lt;script&gt;alert('summary')&lt;/script&gt; budget area" in summary_html
    )


def test_footer_records_scenario_inputs_code_and_packages(summary_html: str) -> None:
    footer = summary_html[summary_html.index('class="csc-provenance"') :]
    base = paths.default_scenario_path()
    assert "scenarios/base.yaml" in footer and sha256_file(base) in footer
    seed = paths.seed_dir() / "budget_trajectory.csv"
    assert "data/raw/seed/budget_trajectory.csv" in footer and sha256_file(seed) in footer
    assert re.search(r"code version <code>(git [0-9a-f]{12}|csc-finance )", footer)
    assert re.search(r"papermill \d+\.\d+", footer) and re.search(r"pandas \d+\.\d+", footer)
    assert re.search(r"Ran \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", footer)


def test_index_links_reports_notebooks_and_workbook_with_headlines(pack) -> None:
    result, _lines = pack
    html = (result.folder / "index.html").read_text(encoding="utf-8")
    for href in ("01_summary.html", "02_chart.html", "notebooks/01_summary.ipynb", "results.xlsx"):
        assert f'href="{href}"' in html
        assert (result.folder / href).is_file()
    assert "Variance" in html and "£5.2m" in html and "csc-rag-red" in html
    assert "The seed table has 15 rows for 2025-03." in html


# ---- verify -------------------------------------------------------------------------------------


def test_verify_says_unchanged_then_names_what_changed(pack, options) -> None:
    result, _lines = pack
    clean = verify_pack(result.folder)
    assert clean.changes == []
    assert "unchanged since the pack was made" in format_verification(clean)
    notebook = options.notebooks_folder / "02_chart.ipynb"
    original = notebook.read_bytes()
    report = result.folder / "02_chart.html"
    report_bytes = report.read_bytes()
    try:
        notebook.write_bytes(original + b"\n")
        report.write_bytes(report_bytes.replace(b"Fixture chart", b"Edited chart"))
        changed = verify_pack(result.folder)
    finally:
        notebook.write_bytes(original)
        report.write_bytes(report_bytes)
    assert {(c.kind, c.path) for c in changed.changes} == {
        ("input", str(notebook)),
        ("pack file", "02_chart.html"),
    }
    assert "2 of " in format_verification(changed)


def test_the_command_line_verifies_a_pack_and_refuses_a_busy_month(
    pack, options, capsys: pytest.CaptureFixture[str]
) -> None:
    result, _lines = pack
    assert main(["verify", str(result.folder)]) == 0
    assert "unchanged since the pack was made" in capsys.readouterr().out
    arguments = ["pack", "--month", "2024-25 P12", "--out", str(options.reports_root)]
    arguments += ["--notebooks", str(options.notebooks_folder)]
    with FileLock(options.reports_root / ".2025-03.lock"):
        assert main(arguments) == 1
    assert "Another pack run for 2025-03 is in progress" in capsys.readouterr().err
    assert main(["pack", "--month", "2025-03", "--from", "2025-01"]) == 2
    assert "not both" in capsys.readouterr().err


def test_verify_refuses_a_folder_that_is_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="pack.json"):
        verify_pack(tmp_path)


# ---- all or nothing -----------------------------------------------------------------------------


def _break(notebook: Path, position: int, source: str) -> None:
    executed = nbformat.read(notebook, as_version=4)
    executed.cells.insert(position, nbformat.v4.new_code_cell(source))
    nbformat.write(executed, notebook)


def test_a_broken_notebook_leaves_the_previous_pack_untouched(pack, options, workspace) -> None:
    result, _lines = pack
    before = _tree_hashes(result.folder)
    broken = copy_fixture_notebooks(workspace / "broken")
    # Cell 4 as a person counts: markdown, parameters, imports, then this.
    _break(broken / "02_chart.ipynb", 3, 'raise RuntimeError("deliberately broken for the test")')
    broken_options = PackOptions(reports_root=options.reports_root, notebooks_folder=broken)
    with pytest.raises(NotebookFailed) as failure:
        run_pack(MONTH, broken_options, progress=lambda _line: None)
    message = str(failure.value)
    assert "02_chart.ipynb at cell 4" in message
    assert "RuntimeError: deliberately broken for the test" in message
    assert "the previous pack in" in message and "is unchanged" in message
    assert "\n" not in message  # one paragraph
    assert failure.value.cell == 4
    assert _tree_hashes(result.folder) == before
    kept = failure.value.kept_at
    assert kept.parent == options.reports_root / FAILED_FOLDER
    assert kept.name.startswith("2025-03-")
    assert (kept / ERROR_NOTE).read_text(encoding="utf-8").strip() == message
    failed = nbformat.read(kept / "notebooks" / "02_chart.ipynb", as_version=4)
    errors = [o for c in failed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and errors[0].evalue == "deliberately broken for the test"
    assert not list(options.reports_root.glob(".2025-03.*building*"))


def test_a_cell_that_runs_too_long_is_stopped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pack_module, "HEARTBEAT_S", 0.5)
    slow = copy_fixture_notebooks(tmp_path / "slow")
    (slow / "02_chart.ipynb").unlink()
    _break(slow / "01_summary.ipynb", 3, "import time\n\ntime.sleep(120)")
    slow_options = PackOptions(
        reports_root=tmp_path / "reports", notebooks_folder=slow, cell_timeout_s=2
    )
    lines: list[str] = []
    with pytest.raises(NotebookFailed) as failure:
        run_pack(MONTH, slow_options, progress=lines.append)
    assert any("01_summary.ipynb: still running (elapsed" in line for line in lines)
    assert "01_summary.ipynb at cell 4 (which begins `import time`)" in str(failure.value)
    assert "timed out: it ran longer than the 2 seconds allowed" in str(failure.value)
    assert "there was no earlier pack" in str(failure.value)
    assert not (tmp_path / "reports" / "2025-03").exists()


def _kernels_running_in(folder: Path) -> list[int]:
    kernels = []
    for proc in Path("/proc").iterdir():
        try:
            if b"ipykernel" in (proc / "cmdline").read_bytes() and (
                Path(os.readlink(proc / "cwd")) == folder
            ):
                kernels.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return kernels


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc to find kernels")
def test_a_run_stopped_with_sigterm_publishes_nothing_and_leaves_no_kernel(
    pack, options, workspace
) -> None:
    result, _lines = pack
    before = _tree_hashes(result.folder)
    stalled = copy_fixture_notebooks(workspace / "stalled")
    _break(stalled / "02_chart.ipynb", 3, "import time\n\ntime.sleep(120)")
    command = [sys.executable, "-m", "analysis", "pack", "--month", "2025-03"]
    command += ["--out", str(options.reports_root), "--notebooks", str(stalled)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in run.stdout:
        if "02_chart.ipynb: running" in line:
            break
    deadline = time.monotonic() + 60
    while not _kernels_running_in(stalled) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # the kernel is now inside the sleeping cell
    run.send_signal(signal.SIGTERM)
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 130
    assert "nothing half-written was published" in err
    assert _tree_hashes(result.folder) == before
    assert not list(options.reports_root.glob(".2025-03.building-*"))
    time.sleep(1)
    assert _kernels_running_in(stalled) == []


def test_a_second_run_for_the_same_month_is_refused_while_one_holds_the_lock(options) -> None:
    busy = "Another pack run for 2025-03 is in progress"
    with FileLock(options.reports_root / ".2025-03.lock"), pytest.raises(PackBusy, match=busy):
        run_pack(MONTH, options, progress=lambda _line: None)


def test_publish_replaces_the_previous_pack_and_recover_finishes_an_interrupted_one(
    tmp_path: Path,
) -> None:
    destination = tmp_path / "2025-03"
    destination.mkdir()
    (destination / "index.html").write_text("old")
    build = tmp_path / ".2025-03.building-x"
    build.mkdir()
    (build / "index.html").write_text("new")
    publish(build, destination)
    assert (destination / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-03"]

    # Killed between the two renames: the old pack is aside and nothing is in place.
    aside = tmp_path / ".2025-03.previous"
    destination.rename(aside)
    (tmp_path / ".2025-03.building-y").mkdir()
    lines: list[str] = []
    recover(destination, progress=lines.append)
    assert (destination / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-03"]
    assert len(lines) == 2


# ---- batch -------------------------------------------------------------------------------------


def test_batch_runs_months_in_parallel_and_reports_a_failed_month_without_stopping(
    tmp_path: Path,
) -> None:
    batch_options = PackOptions(
        reports_root=tmp_path / "reports",
        notebooks_folder=copy_fixture_notebooks(tmp_path / "notebooks"),
    )
    months = month_range(pd.Period("2024-01", freq="M"), pd.Period("2024-02", freq="M"))
    lines: list[str] = []
    outcomes = run_batch(months, batch_options, jobs=2, progress=lines.append)
    assert [(o.month, o.published) for o in outcomes] == [("2024-01", True), ("2024-02", False)]
    assert (tmp_path / "reports" / "2024-01" / "index.html").is_file()
    assert not (tmp_path / "reports" / "2024-02").exists()
    assert "01_summary.ipynb at cell 4" in outcomes[1].message
    assert "no budget figures for 2024-02" in outcomes[1].message
    summary = summarise_batch(outcomes)
    assert summary.startswith("1 of 2 months published.")
    assert "Failed (1): 2024-02." in summary
    assert sorted(line.split(":")[0] for line in lines) == ["2024-01", "2024-02"]


# ---- checks before anything runs ---------------------------------------------------------------


def _declare(notebook: Path, old: str, new: str) -> None:
    text = notebook.read_text(encoding="utf-8")
    assert old in text
    notebook.write_text(text.replace(old, new), encoding="utf-8")


def test_a_parameter_declared_with_the_wrong_type_is_refused_before_running(
    tmp_path: Path,
) -> None:
    folder = copy_fixture_notebooks(tmp_path / "notebooks")
    _declare(
        folder / "02_chart.ipynb",
        'reporting_month: str = \\"2025-03\\"',
        "reporting_month: int = 202503",
    )
    options = PackOptions(reports_root=tmp_path / "reports", notebooks_folder=folder)
    with pytest.raises(InputError) as error:
        plan_notebooks(options, MONTH)
    text = error.value.report()
    assert "02_chart.ipynb" in text and "column 'reporting_month'" in text
    assert "declared as int" in text and "type str" in text
    assert "01_summary" not in text


def test_a_notebook_without_output_dir_is_refused(tmp_path: Path) -> None:
    folder = copy_fixture_notebooks(tmp_path / "notebooks")
    _declare(folder / "01_summary.ipynb", "output_dir: str", "results_folder: str")
    options = PackOptions(reports_root=tmp_path / "reports", notebooks_folder=folder)
    with pytest.raises(InputError, match="column 'output_dir'"):
        plan_notebooks(options, MONTH)


def test_an_empty_notebooks_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="01_name.ipynb"):
        find_notebooks(tmp_path)


def test_a_bad_scenario_is_refused_before_running(tmp_path: Path) -> None:
    options = PackOptions(
        reports_root=tmp_path / "reports",
        notebooks_folder=FIXTURE_NOTEBOOKS,
        scenario_path=str(tmp_path / "missing.yaml"),
    )
    with pytest.raises(InputError, match="missing.yaml"):
        plan_notebooks(options, MONTH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2025-03", "2025-03"), ("2024-25 P3", "2024-06"), ("2024-25 P12", "2025-03")],
)
def test_months_are_read_as_calendar_months_or_financial_periods(text: str, expected: str) -> None:
    assert resolve_month(text) == pd.Period(expected, freq="M")


def test_latest_is_march_of_the_latest_year_in_the_bundled_dfe_files() -> None:
    # The bundled CLA and CIN files run to the year ending 31 March 2025.
    assert resolve_month("latest") == pd.Period("2025-03", freq="M")
    assert resolve_month(" LATEST ") == pd.Period("2025-03", freq="M")


@pytest.mark.parametrize("text", ["2025-13", "March 2025", "2024-26 P3", ""])
def test_a_bad_month_is_an_input_error_naming_the_option(text: str) -> None:
    with pytest.raises(InputError, match="--month"):
        resolve_month(text)


def test_month_range_is_inclusive_and_refuses_a_backwards_range() -> None:
    months = month_range(pd.Period("2024-04", freq="M"), pd.Period("2025-03", freq="M"))
    assert len(months) == 12 and str(months[0]) == "2024-04" and str(months[-1]) == "2025-03"
    with pytest.raises(InputError, match="on or after --from"):
        month_range(pd.Period("2025-03", freq="M"), pd.Period("2024-04", freq="M"))


def test_la_codes_are_checked() -> None:
    assert check_la_code(" e09000002 ") == "E09000002"
    with pytest.raises(InputError, match="E09000002"):
        check_la_code("Barking")


# ---- the real notebooks ------------------------------------------------------------------------


@pytest.mark.slow
def test_the_real_pack_runs_for_the_latest_month(real_pack) -> None:
    result = real_pack
    notebooks = find_notebooks(paths.notebooks_dir())
    assert [run.notebook for run in result.notebooks] == [n.name for n in notebooks]
    for run in result.notebooks:
        html = (result.folder / run.html).read_text(encoding="utf-8")
        assert "<script" not in html.lower()
        assert 'class="csc-headline"' in html, f"{run.notebook} wrote no headline"
        assert (result.folder / run.html).stat().st_size < 2_000_000
    index = (result.folder / "index.html").read_text(encoding="utf-8")
    assert index.count('class="csc-entry"') == len(notebooks)
    assert (result.folder / "results.xlsx").is_file()
    assert verify_pack(result.folder).changes == []
