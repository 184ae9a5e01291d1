"""The all-council batch's shortcuts change nothing a council's pack says: kept kernels give
the same result tables as fresh ones and show no council another's variables, a failed
council's kernel is replaced and the others publish, and a notebook that does not depend on
the council runs once and appears, complete, in every council's pack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analysis import batch
from analysis.kernels import KernelPool
from analysis.pack import PackOptions, PackSession, run_pack, verify_pack
from analysis.paths import notebooks_dir

pytestmark = pytest.mark.slow

MONTH = pd.Period("2025-03", freq="M")
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
PARAMETERS = ["la_code", "output_dir", "reporting_month", "scenario_path"]
#: Fixture councils that fail in three ways: a cell raises, a cell outlives the timeout, the
#: kernel process dies.
RAISES, HANGS, DIES = "E06000001", "E06000002", "E06000003"


def _parameters_cell(la_code: bool = True) -> nbformat.NotebookNode:
    source = (
        'reporting_month: str = "2025-03"  # YYYY-MM\n'
        'scenario_path: str = ""  # scenario YAML\n'
        'output_dir: str = ""  # where results go\n'
    )
    if la_code:
        source += 'la_code: str = "E09000002"  # ONS code'
    return new_code_cell(source, metadata={"tags": ["parameters"]})


def _write(folder: Path, name: str, *cells: nbformat.NotebookNode) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=list(cells), metadata=KERNEL), folder / name)


def _council_notebook(folder: Path) -> Path:
    """A notebook that records the names it finds defined and its kernel's process, then
    defines one of its own; it fails for three councils, each in its own way."""
    _write(
        folder,
        "01_council.ipynb",
        _parameters_cell(),
        new_code_cell(
            "seen = sorted(name for name in globals() if not name.startswith('_') "
            "and name not in {'In', 'Out', 'get_ipython', 'exit', 'quit', 'open'})"
        ),
        new_code_cell(
            "import os, time\n"
            "import pandas as pd\n"
            "from analysis.results import Headline, resolve_output_dir, write_headline, "
            "write_results\n"
            f"if la_code == {RAISES!r}:\n"
            "    raise ValueError('no figures for this council (fixture failure)')\n"
            f"if la_code == {HANGS!r}:\n"
            "    time.sleep(120)\n"
            f"if la_code == {DIES!r}:\n"
            "    os._exit(1)\n"
            "leftover_from_council = la_code\n"
            "folder = resolve_output_dir(output_dir, reporting_month)\n"
            "write_results(folder, {'names_seen': pd.DataFrame({'name': seen}),\n"
            "                       'kernel': pd.DataFrame({'pid': [os.getpid()]})})\n"
            "write_headline(folder, Headline(notebook='01_council', title=f'Council {la_code}',"
            " summary='A fixture.'))"
        ),
    )
    return folder


def _shared_notebook(folder: Path, runs_log: Path, fail: bool = False) -> None:
    """A notebook without ``la_code`` that notes each run in ``runs_log``."""
    failure = "raise RuntimeError('the shared fixture failed')\n" if fail else ""
    _write(
        folder,
        "02_shared.ipynb",
        _parameters_cell(la_code=False),
        new_code_cell(
            "import pandas as pd\n"
            "from analysis.results import Headline, resolve_output_dir, write_headline, "
            "write_results\n"
            f"{failure}"
            f"with open({str(runs_log)!r}, 'a', encoding='utf-8') as log:\n"
            "    log.write(reporting_month + '\\n')\n"
            "folder = resolve_output_dir(output_dir, reporting_month)\n"
            "write_results(folder, {'same_for_all': pd.DataFrame({'month': [reporting_month],"
            " 'share': [0.125]})})\n"
            "write_headline(folder, Headline(notebook='02_shared', title='The same for all',"
            " summary='Computed once.'))"
        ),
    )


def _councils(*codes: str) -> pd.DataFrame:
    return pd.DataFrame({"la_code": list(codes), "la_name": [f"Council {c}" for c in codes]})


def _table(reports: Path, code: str, name: str) -> pd.DataFrame:
    return pd.read_csv(reports / "councils" / code / str(MONTH) / "results" / f"{name}.csv")


def test_a_kept_kernel_gives_the_same_result_tables_as_a_fresh_one(tmp_path) -> None:
    # The real notebooks that depend on the council (their models keep caches in the kernel).
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in ("01_demand_and_caseload.ipynb", "04_benchmarking.ipynb"):
        shutil.copy(notebooks_dir() / name, folder / name)

    def options(root: str, la_code: str) -> PackOptions:
        return PackOptions(tmp_path / root, notebooks_folder=folder, la_code=la_code)

    fresh = run_pack(MONTH, options("fresh", "E08000014"), lambda _line: None)
    kernels = KernelPool()
    session = PackSession(kernels=kernels)
    try:
        run_pack(MONTH, options("kept", "E06000033"), lambda _line: None, session)
        assert len(kernels) == 2  # both kernels alive after the first council
        kept = run_pack(MONTH, options("kept", "E08000014"), lambda _line: None, session)
    finally:
        kernels.close()
    tables = sorted(p.name for p in (fresh.folder / "results").glob("*.csv"))
    assert len(tables) == 12
    assert tables == sorted(p.name for p in (kept.folder / "results").glob("*.csv"))
    for name in [*tables, "headline_01_demand_and_caseload.json", "headline_04_benchmarking.json"]:
        fresh_bytes = (fresh.folder / "results" / name).read_bytes()
        assert fresh_bytes == (kept.folder / "results" / name).read_bytes(), name
    assert (fresh.folder / "results.xlsx").stat().st_size > 0


def test_kept_kernels_show_no_council_another_councils_variables(tmp_path) -> None:
    options = PackOptions(tmp_path / "reports", notebooks_folder=_council_notebook(tmp_path / "nb"))
    codes = ("E08000025", "E09000002", "E10000003")
    outcomes = batch.run_all_councils(
        MONTH, options, councils=_councils(*codes), jobs=1, progress=lambda _line: None
    )
    assert all(o.published for o in outcomes)
    reports = tmp_path / "reports"
    # One kernel ran every council (so the check below is not vacuous) ...
    assert len({int(_table(reports, code, "kernel")["pid"].iloc[0]) for code in codes}) == 1
    # ... and each saw its parameters only, never the leftover of the council before.
    for code in codes:
        assert list(_table(reports, code, "names_seen")["name"]) == PARAMETERS
    assert batch.end_batch() == 0  # the batch shut its kernels down


def test_a_failed_council_gets_a_new_kernel_and_the_others_publish(tmp_path) -> None:
    options = PackOptions(
        tmp_path / "reports", notebooks_folder=_council_notebook(tmp_path / "nb"), cell_timeout_s=10
    )
    codes = ("E08000025", RAISES, "E08000026", HANGS, "E08000027", DIES, "E08000028")
    outcomes = {
        o.la_code: o
        for o in batch.run_all_councils(
            MONTH, options, councils=_councils(*codes), jobs=1, progress=lambda _line: None
        )
    }
    assert {code for code, o in outcomes.items() if not o.published} == {RAISES, HANGS, DIES}
    assert "no figures for this council (fixture failure)" in outcomes[RAISES].message
    assert "timed out" in outcomes[HANGS].message
    assert "DeadKernelError" in outcomes[DIES].message or "died" in outcomes[DIES].message
    reports = tmp_path / "reports"
    pids = [int(_table(reports, c, "kernel")["pid"].iloc[0]) for c in codes[::2]]
    assert len(set(pids)) == 4  # a fresh kernel after each failure
    for code in codes[::2]:
        assert list(_table(reports, code, "names_seen")["name"]) == PARAMETERS
        assert (reports / "councils" / code / str(MONTH) / "index.html").is_file()


def test_a_notebook_without_la_code_runs_once_and_is_in_every_councils_pack(tmp_path) -> None:
    folder = _council_notebook(tmp_path / "nb")
    runs_log = tmp_path / "shared_runs.log"
    _shared_notebook(folder, runs_log)
    options = PackOptions(tmp_path / "reports", notebooks_folder=folder)
    codes = ("E08000025", "E09000002", "E10000003")
    outcomes = batch.run_all_councils(
        MONTH, options, councils=_councils(*codes), jobs=2, progress=lambda _line: None
    )
    assert all(o.published for o in outcomes)
    assert runs_log.read_text(encoding="utf-8") == "2025-03\n"  # run once, for every council
    councils = tmp_path / "reports" / "councils"
    assert not list(councils.glob(".*shared*"))  # its build folder is gone
    for code in codes:
        pack = councils / code / str(MONTH)
        assert verify_pack(pack).changes == []
        record = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
        shared = next(run for run in record["notebooks"] if run["notebook"] == "02_shared.ipynb")
        assert shared["tables"] == ["same_for_all.csv"]
        assert shared["title"] == "The same for all"
        for name in ("02_shared.html", "notebooks/02_shared.ipynb", "results/same_for_all.csv"):
            assert name in record["files"], name
        assert "Computed once." in (pack / "02_shared.html").read_text(encoding="utf-8")
        assert "The same for all" in (pack / "index.html").read_text(encoding="utf-8")
        manifest = json.loads((pack / "results" / "manifest.json").read_text(encoding="utf-8"))
        assert {"same_for_all.csv", "names_seen.csv", "kernel.csv"} <= set(manifest)
        assert _table(tmp_path / "reports", code, "same_for_all")["share"].tolist() == [0.125]
        with pd.ExcelFile(pack / "results.xlsx") as workbook:
            assert "same_for_all" in workbook.sheet_names


def test_a_failed_shared_notebook_fails_every_council_and_says_why(tmp_path) -> None:
    folder = _council_notebook(tmp_path / "nb")
    _shared_notebook(folder, tmp_path / "runs.log", fail=True)
    options = PackOptions(tmp_path / "reports", notebooks_folder=folder)
    outcomes = batch.run_all_councils(
        MONTH, options, councils=_councils("E08000025", "E09000002"), jobs=1, progress=print
    )
    assert [o.published for o in outcomes] == [False, False]
    for outcome in outcomes:
        assert "02_shared.ipynb, which every council's pack shares, failed" in outcome.message
        assert "RuntimeError: the shared fixture failed" in outcome.message
    assert not (tmp_path / "reports" / "councils" / "E08000025" / str(MONTH)).exists()
    index = tmp_path / "reports" / "councils" / str(MONTH) / "index.html"
    assert "0 of 2 councils" in index.read_text(encoding="utf-8")


def test_a_table_without_columns_is_an_empty_sheet_not_a_failed_pack(tmp_path) -> None:
    # Notebook 01 writes one for the Isles of Scilly (no social worker figures published).
    folder = tmp_path / "nb"
    _write(
        folder,
        "01_empty.ipynb",
        _parameters_cell(),
        new_code_cell(
            "import pandas as pd\n"
            "from analysis.results import resolve_output_dir, write_results\n"
            "tables = {'fte_vs_in_post': pd.DataFrame(), 'caseloads': pd.DataFrame({'a': [1]})}\n"
            "write_results(resolve_output_dir(output_dir, reporting_month), tables)"
        ),
    )
    options = PackOptions(tmp_path / "reports", notebooks_folder=folder, la_code="E06000053")
    result = run_pack(MONTH, options, lambda _line: None)
    assert (result.folder / "results" / "fte_vs_in_post.csv").read_bytes() == b"\n"
    with pd.ExcelFile(result.folder / "results.xlsx") as workbook:
        assert workbook.sheet_names == ["caseloads", "fte_vs_in_post"]
        assert pd.read_excel(workbook, "fte_vs_in_post").empty
