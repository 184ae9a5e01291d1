"""Every council in one batch: which councils, a failed council never stops the others, the
index across councils, and the same tasks handed to a Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analysis import batch, cli
from analysis.external import load_external
from analysis.pack import PackOptions

pytestmark = pytest.mark.slow

FAILING = "E06000001"


def _notebook(folder: Path) -> Path:
    """A one-notebook pack that writes a headline with a status and fails for Hartlepool."""
    folder.mkdir(parents=True, exist_ok=True)
    parameters = new_code_cell(
        'reporting_month: str = "2025-03"  # YYYY-MM\n'
        'scenario_path: str = ""  # scenario YAML\n'
        'output_dir: str = ""  # where results go\n'
        'la_code: str = "E09000002"  # ONS code',
        metadata={"tags": ["parameters"]},
    )
    body = new_code_cell(
        "from analysis.results import Headline, HeadlineFigure, resolve_output_dir, "
        "write_headline\n"
        f"if la_code == {FAILING!r}:\n"
        "    raise ValueError('no figures for this council (fixture failure)')\n"
        "write_headline(resolve_output_dir(output_dir, reporting_month), Headline(\n"
        "    notebook='01_council', title=f'Council {la_code}', summary='A fixture.',\n"
        "    figures=(HeadlineFigure('Caseload', '15.0', 'green'),\n"
        "             HeadlineFigure('Scorecard: Variance against budget', '+1.0%', 'amber')),\n"
        "))"
    )
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    notebook = new_notebook(cells=[parameters, body], metadata=kernel)
    nbformat.write(notebook, folder / "01_council.ipynb")
    return folder


COUNCILS = pd.DataFrame(
    {
        "la_code": ["E09000002", FAILING, "E08000032"],
        "la_name": ["Barking and Dagenham", "Hartlepool", "Bradford"],
        "region_name": ["London", "North East", "Yorkshire and The Humber"],
    }
)


def test_the_councils_of_the_bundled_data() -> None:
    councils = batch.english_councils(load_external(), "2025-03").set_index("la_code")
    # 153 councils published children looked after at 31 March 2024 (DfE, 2025 edition);
    # joint returns are not councils and Northamptonshire (abolished 2021) is not current.
    assert len(councils) == 153
    assert councils.loc["E09000002", "la_name"] == "Barking and Dagenham"
    assert councils.loc["E06000053", "la_name"] == "Isles of Scilly"
    assert not any("/" in code for code in councils.index)
    assert "E10000021" not in councils.index


def test_a_failed_council_never_stops_the_others_and_the_index_lists_all(tmp_path) -> None:
    options = PackOptions(reports_root=tmp_path / "reports", notebooks_folder=_notebook(tmp_path))
    lines: list[str] = []
    month = pd.Period("2025-03", freq="M")
    outcomes = batch.run_all_councils(
        month, options, councils=COUNCILS, jobs=2, progress=lines.append
    )
    by_code = {o.la_code: o for o in outcomes}
    assert [o.la_code for o in outcomes] == sorted(COUNCILS["la_code"])
    assert by_code["E09000002"].published and by_code["E08000032"].published
    assert not by_code[FAILING].published
    assert "no figures for this council (fixture failure)" in by_code[FAILING].message
    councils = tmp_path / "reports" / "councils"
    assert (councils / "E09000002" / "2025-03" / "index.html").is_file()
    assert not (councils / FAILING / "2025-03").exists()
    index = (councils / "2025-03" / "index.html").read_text(encoding="utf-8")
    assert "2 of 3 councils&#x27; packs published" in index or "2 of 3 councils' packs" in index
    assert "href='../E09000002/2025-03/index.html'" in index
    assert "Scorecard: Variance against budget: +1.0%" in index
    assert index.index("Scorecard: Variance") < index.index("Caseload: 15.0")  # scorecard first
    assert "Failed" in index and "fixture failure" in index
    record = json.loads((councils / "2025-03" / "batch.json").read_text(encoding="utf-8"))
    assert (record["councils"], record["published"]) == (3, 2)
    assert any("FAILED" in line for line in lines)


def test_the_same_tasks_run_on_a_dask_cluster(tmp_path) -> None:
    from distributed import LocalCluster

    options = PackOptions(reports_root=tmp_path / "reports", notebooks_folder=_notebook(tmp_path))
    with LocalCluster(
        # As the user guide deploys it: worker processes with one thread each, so one
        # council's kernels never share a process's event loop with another's.
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    ) as cluster:
        outcomes = batch.run_all_councils(
            pd.Period("2025-03", freq="M"),
            options,
            councils=COUNCILS,
            scheduler=cluster.scheduler_address,
            progress=lambda _line: None,
        )
    assert {o.la_code: o.published for o in outcomes} == {
        "E06000001": False,
        "E08000032": True,
        "E09000002": True,
    }
    assert (tmp_path / "reports" / "councils" / "E08000032" / "2025-03" / "index.html").is_file()


def test_the_command_line_runs_every_council(monkeypatch, tmp_path) -> None:
    calls = []

    def fake(month, options, *, jobs, scheduler):
        calls.append((str(month), options.reports_root, jobs, scheduler))
        return [batch.CouncilOutcome("E09000002", "Barking and Dagenham", True, "published", 1.0)]

    monkeypatch.setattr(batch, "run_all_councils", fake)
    status = cli.main(
        ["pack", "--la", "all", "--month", "2025-03", "--out", str(tmp_path), "--jobs", "2"]
        + ["--scheduler", "tcp://scheduler:8786"]
    )
    assert status == 0
    assert calls == [("2025-03", tmp_path, 2, "tcp://scheduler:8786")]
