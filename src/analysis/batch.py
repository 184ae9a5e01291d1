"""Every council in one batch: the monthly pack for each English council, and an index across
them, on one machine or on a Dask cluster.

This module owns which councils the bundled data cover for a reporting month, running the
pack (:func:`analysis.pack.run_pack`, all or nothing for each council) for every one of them,
and the index page across councils. Each council's pack is published in its own folder,
``<out>/councils/<ONS code>/<YYYY-MM>/`` (a council's packs accumulate month by month, as
``reports/<YYYY-MM>/`` does for one council), and the index across councils is
``<out>/councils/<YYYY-MM>/index.html``.

How the councils are run:

* **one machine** (the default): a process pool (``jobs`` workers, default one per core,
  spawned rather than forked as the monthly batch does), one council per task;
* **a cluster**: ``scheduler="tcp://host:8786"`` hands the same tasks to an existing Dask
  distributed scheduler (:class:`distributed.Client`); each worker needs this project
  installed and the same data, notebooks and output folder at the same paths (a shared
  disk). Dask does the scheduling, retries and monitoring; nothing here is a scheduler.

A council that fails (a notebook raised, its lock was held, a worker died) is reported with
its message and never stops the others; its previous pack is untouched, as for one council.
"""

from __future__ import annotations

import html
import json
import multiprocessing
import socket
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis import external
from analysis.errors import InputError, Problem
from analysis.pack import (
    RESULTS_FOLDER,
    PackError,
    PackOptions,
    Progress,
    default_jobs,
    plan_notebooks,
    run_pack,
)
from analysis.paths import display_path
from analysis.report import CONTENT_SECURITY_POLICY, PACK_TITLE, month_label, report_css
from analysis.results import SCORECARD_LABEL_PREFIX, read_headlines
from analysis.store import atomic_write_text

#: Inside ``--out``: one folder per council, and one index per month.
COUNCILS_FOLDER = "councils"
#: The record of a batch beside its index (``councils/<YYYY-MM>/batch.json``).
BATCH_RECORD = "batch.json"

#: Demand measures whose latest published year decides which councils are current.
_CURRENT_MEASURES = ("cla_at_31_march", "cin_at_31_march")


def _print(line: str) -> None:
    print(line, flush=True)


def _quiet(_line: str) -> None:
    """A council's own progress lines are left out: the batch reports each council once."""


@dataclass(frozen=True)
class CouncilOutcome:
    """How one council's pack ended: published or not, why, and in how long."""

    la_code: str
    la_name: str
    published: bool
    message: str
    seconds: float
    worker: str = ""


def english_councils(tidy: pd.DataFrame, reporting_month: str) -> pd.DataFrame:
    """The English councils with children's services in the bundled data for a month.

    A council is current when it has a children looked after or children in need row (a
    figure, or a suppressed one, but not one marked "not applicable") for the latest year those
    were published by the month; codes
    shared by several councils (joint returns such as ``E09000021 / E09000027``) are not
    councils, and a council abolished before that year has no row for it.

    Returns
    -------
    DataFrame
        ``la_code``, ``la_name``, ``region_name``, by ONS code.

    Raises
    ------
    InputError
        When the month is not YYYY-MM (or YYYY-YY Pn), or nothing was published by then.
    """
    published = external.published_as_of(tidy, reporting_month)
    rows = published[
        (published["geographic_level"] == external.LOCAL_AUTHORITY)
        & published["measure"].isin(list(_CURRENT_MEASURES))
        & published["la_code"].astype("string").str.fullmatch(r"E(0[6-9]|10)\d{6}").fillna(False)
    ]
    if rows.empty:
        raise InputError(
            [
                Problem(
                    file="the reporting month",
                    value=reporting_month,
                    expected="a month by which the DfE had published children looked after or "
                    "children in need figures for councils",
                )
            ]
        )
    # "z" is the DfE's "not applicable": a council that no longer exists that year.
    latest = rows[(rows["year"] == rows["year"].max()) & (rows["suppression"] != "z").fillna(True)]
    lookup = external.la_lookup(tidy).set_index("la_code")
    codes = sorted(set(latest["la_code"].astype(str)))
    return pd.DataFrame(
        {
            "la_code": codes,
            "la_name": [str(lookup.at[c, "la_name"]) if c in lookup.index else c for c in codes],
            "region_name": [
                str(lookup.at[c, "region_name"]) if c in lookup.index else "" for c in codes
            ],
        }
    )


def council_options(options: PackOptions, la_code: str) -> PackOptions:
    """The pack options of one council of the batch: its own reports folder and code."""
    root = Path(options.reports_root) / COUNCILS_FOLDER / la_code
    return replace(options, reports_root=root, la_code=la_code)


def run_council(la_code: str, la_name: str, month: str, options: PackOptions) -> CouncilOutcome:
    """Run one council's pack; never raises, so one council cannot stop the batch.

    A top-level function of plain arguments, so a process pool or a Dask worker can run it.
    """
    started = time.perf_counter()
    worker = socket.gethostname()

    def ended(published: bool, message: str) -> CouncilOutcome:
        seconds = round(time.perf_counter() - started, 2)
        return CouncilOutcome(la_code, la_name, published, message, seconds, worker)

    try:
        result = run_pack(pd.Period(month, freq="M"), council_options(options, la_code), _quiet)
    except InputError as exc:
        return ended(False, " ".join(exc.report().split()))
    except PackError as exc:
        return ended(False, str(exc))
    except Exception as exc:  # a batch reports every council, whatever stopped one of them
        return ended(False, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
    return ended(True, f"published {display_path(result.folder)}")


def _report(outcome: CouncilOutcome, done: int, total: int, progress: Progress) -> None:
    status = "published" if outcome.published else f"FAILED: {outcome.message}"
    progress(
        f"[{done}/{total}] {outcome.la_code} {outcome.la_name}: {status} ({outcome.seconds:.1f} s)"
    )


def _run_local(
    councils: pd.DataFrame, month: str, options: PackOptions, workers: int, progress: Progress
) -> list[CouncilOutcome]:
    tasks = list(zip(councils["la_code"], councils["la_name"], strict=True))
    outcomes: list[CouncilOutcome] = []
    if workers == 1:
        for code, name in tasks:
            outcomes.append(run_council(code, name, month, options))
            _report(outcomes[-1], len(outcomes), len(tasks), progress)
        return outcomes
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(run_council, code, name, month, options): (code, name)
            for code, name in tasks
        }
        for future in as_completed(futures):
            code, name = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # a worker process died (killed, out of memory)
                outcome = CouncilOutcome(code, name, False, f"worker failed: {exc}", 0.0)
            outcomes.append(outcome)
            _report(outcome, len(outcomes), len(tasks), progress)
    return outcomes


def _run_dask(
    councils: pd.DataFrame, month: str, options: PackOptions, scheduler: str, progress: Progress
) -> list[CouncilOutcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    tasks = list(zip(councils["la_code"], councils["la_name"], strict=True))
    outcomes: list[CouncilOutcome] = []
    with Client(scheduler) as client:
        progress(f"Connected to the Dask scheduler at {scheduler}: {len(tasks)} councils to run.")
        futures = {
            client.submit(run_council, code, name, month, options, key=f"pack-{month}-{code}"): (
                code,
                name,
            )
            for code, name in tasks
        }
        for future in dask_completed(list(futures)):
            code, name = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died or the task was lost
                outcome = CouncilOutcome(code, name, False, f"worker failed: {exc}", 0.0)
            outcomes.append(outcome)
            _report(outcome, len(outcomes), len(tasks), progress)
    return outcomes


def run_all_councils(
    month: pd.Period,
    options: PackOptions,
    *,
    councils: pd.DataFrame | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: Progress = _print,
) -> list[CouncilOutcome]:
    """Publish the pack of every council for ``month`` and the index across councils.

    Parameters
    ----------
    month
        The reporting month.
    options
        As for :func:`analysis.pack.run_pack`; ``reports_root`` holds the ``councils`` folder
        and ``la_code`` is ignored (each council gets its own).
    councils
        ``la_code`` and ``la_name`` of the councils to run; every current English council in
        the bundled data (:func:`english_councils`) when ``None``.
    jobs
        Worker processes on this machine (default one per core); ignored with ``scheduler``.
    scheduler
        The address of a Dask distributed scheduler (``tcp://host:8786``); ``None`` runs here.
    progress
        Receives one line per council as it ends.

    Returns
    -------
    list of CouncilOutcome
        One per council, in ONS code order.

    Raises
    ------
    InputError
        Before anything runs, when the notebooks, scenario or ``jobs`` are wrong.
    """
    if jobs is not None and jobs < 1:
        raise InputError([Problem(file="--jobs", value=jobs, expected="a whole number >= 1")])
    if councils is None:
        councils = english_councils(external.load_external(), str(month))
    first = str(councils["la_code"].iloc[0]) if len(councils) else None
    plan_notebooks(replace(options, la_code=first), month)
    started = time.perf_counter()
    text = str(month)
    if scheduler:
        outcomes = _run_dask(councils, text, options, scheduler, progress)
    else:
        workers = max(1, min(jobs or default_jobs(), len(councils)))
        outcomes = _run_local(councils, text, options, workers, progress)
    outcomes.sort(key=lambda o: o.la_code)
    seconds = time.perf_counter() - started
    index = write_councils_index(month, options, outcomes, councils, seconds)
    progress(f"Index of every council: {display_path(index)}")
    return outcomes


# ---- the index across councils ---------------------------------------------------------------


def index_folder(reports_root: Path, month: pd.Period) -> Path:
    """The folder of a month's index across councils."""
    return Path(reports_root) / COUNCILS_FOLDER / str(month)


def _statuses(pack: Path) -> list[tuple[str, str, str | None]]:
    """The headline figures with a status of a council's pack, the scorecard's first:
    (label, figure, status)."""
    figures = []
    for headline in read_headlines(pack / RESULTS_FOLDER):
        figures += [(f.label, f.value, f.rag) for f in headline.figures if f.rag]
    return sorted(figures, key=lambda figure: not figure[0].startswith(SCORECARD_LABEL_PREFIX))


def _row(outcome: CouncilOutcome, region: str, month: pd.Period, root: Path) -> str:
    pack = root / outcome.la_code / str(month)
    name = html.escape(outcome.la_name)
    code = html.escape(outcome.la_code)
    if not outcome.published:
        return (
            f"<tr><th scope='row'>{name}<span class='csc-note'>{code}</span></th>"
            f"<td>{html.escape(region)}</td><td><span class='csc-rag csc-rag-red'>Failed</span>"
            f"</td><td>{html.escape(outcome.message)}</td></tr>"
        )
    cells = "".join(
        f"<li><span class='csc-rag csc-rag-{html.escape(str(rag))}'>{html.escape(str(rag))}"
        f"</span> {html.escape(label)}: {html.escape(value)}</li>"
        for label, value, rag in _statuses(pack)
    )
    link = f"../{code}/{html.escape(str(month))}/index.html"
    return (
        f"<tr><th scope='row'><a href='{link}'>{name}</a><span class='csc-note'>{code}</span>"
        f"</th><td>{html.escape(region)}</td><td>Published</td><td><ul>{cells}</ul></td></tr>"
    )


def render_councils_index(
    month: pd.Period,
    scenario_name: str,
    outcomes: Sequence[CouncilOutcome],
    regions: dict[str, str],
    root: Path,
) -> str:
    """The index page across councils: each council's pack and the statuses of its headline
    figures (the scorecard first), or why it failed. Offline, like every page of the pack."""
    published = sum(o.published for o in outcomes)
    rows = "\n".join(_row(o, regions.get(o.la_code, ""), month, root) for o in outcomes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(PACK_TITLE)} – every council – {html.escape(month_label(month))}</title>
<style type="text/css">
{report_css()}
</style>
</head>
<body class="csc-index">
<main>
<header class="csc-header">
  <h1 class="csc-title">{html.escape(PACK_TITLE)}: every council</h1>
  <p class="csc-meta">Reporting month: <strong>{html.escape(month_label(month))}</strong>
    <span class="csc-sep">·</span> Scenario: <strong>{html.escape(scenario_name)}</strong></p>
  <p class="csc-summary">{published} of {len(outcomes)} councils' packs published.</p>
</header>
<section aria-label="Councils">
<table class="csc-figures">
<thead><tr><th scope="col">Council</th><th scope="col">Region</th><th scope="col">Pack</th>
<th scope="col">Headline figures with a status</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</section>
</main>
</body>
</html>
"""


def write_councils_index(
    month: pd.Period,
    options: PackOptions,
    outcomes: Sequence[CouncilOutcome],
    councils: pd.DataFrame,
    seconds: float,
) -> Path:
    """Write the index across councils and the batch record beside it; return the index."""
    from analysis.scenario import load_scenario

    folder = index_folder(options.reports_root, month)
    folder.mkdir(parents=True, exist_ok=True)
    regions = (
        dict(zip(councils["la_code"], councils["region_name"], strict=True))
        if "region_name" in councils
        else {}
    )
    scenario = load_scenario(options.scenario_path)
    root = Path(options.reports_root) / COUNCILS_FOLDER
    page = render_councils_index(month, scenario.name, outcomes, regions, root)
    index = folder / "index.html"
    atomic_write_text(index, page)
    record = {
        "reporting_month": str(month),
        "scenario": display_path(scenario.path),
        "councils": len(outcomes),
        "published": sum(o.published for o in outcomes),
        "seconds": round(seconds, 2),
        "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "outcomes": [asdict(o) for o in outcomes],
    }
    atomic_write_text(folder / BATCH_RECORD, json.dumps(record, indent=2) + "\n")
    return index


def summarise_councils(outcomes: Sequence[CouncilOutcome]) -> str:
    """How many councils published, and each failure with its message."""
    failed = [o for o in outcomes if not o.published]
    lines = [f"{len(outcomes) - len(failed)} of {len(outcomes)} councils published."]
    lines += [f"Failed: {o.la_code} {o.la_name}: {o.message}" for o in failed]
    return "\n".join(lines)
