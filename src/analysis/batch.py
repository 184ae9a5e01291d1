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

What does not depend on the council is done once per batch, in this process, before the
councils are dispatched: the external data are parsed (their cache warmed), the all-LA
backtest that notebooks 01 and 04 read is computed and kept if it is missing, and each
notebook that does not declare ``la_code`` is run once
(:func:`analysis.pack.prepare_shared_notebooks`) and copied, complete, into every council's
pack. Each worker then keeps one kernel per notebook
alive from council to council (:class:`analysis.kernels.KernelPool`, namespace cleared before
each run) and computes the code version, package versions and input hashes once, so the kernel
start and imports are paid once per worker rather than once per council.

A council that fails (a notebook raised, its lock was held, a worker died) is reported with
its message and never stops the others; its previous pack is untouched, as for one council.
A failed notebook's kernel is replaced, so the next council starts clean.
"""

from __future__ import annotations

import atexit
import html
import json
import multiprocessing
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis import demand_caseload, external
from analysis.errors import InputError, Problem
from analysis.kernels import KernelPool
from analysis.pack import (
    RESULTS_FOLDER,
    NotebookFailed,
    PackError,
    PackOptions,
    PackSession,
    PreparedNotebook,
    Progress,
    default_jobs,
    plan_notebooks,
    prepare_shared_notebooks,
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


@dataclass(frozen=True)
class BatchPlan:
    """What every council's task of one batch shares; plain data, so it travels to a pool
    worker or a Dask worker.

    Attributes
    ----------
    batch_id
        Unique to the batch: a worker keeps its kernels and cached provenance for one batch.
    prepared
        The notebooks run once for the batch, by file name, copied into each council's pack.
    keep_kernels
        Keep each notebook's kernel alive from council to council (``False``: a fresh kernel
        for every notebook of every council, as the monthly pack runs).
    """

    batch_id: str
    prepared: Mapping[str, PreparedNotebook] = field(default_factory=dict)
    keep_kernels: bool = True


#: This process's pack session for each thread that runs councils: (batch id, session).
_SESSIONS: dict[int, tuple[str, PackSession]] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(plan: BatchPlan) -> PackSession:
    """This thread's session for the plan's batch, replacing one left from an earlier batch
    (a Dask worker outlives batches; its kept kernels would hold the code they imported)."""
    thread = threading.get_ident()
    with _SESSIONS_LOCK:
        held = _SESSIONS.get(thread)
        if held is not None and held[0] == plan.batch_id:
            return held[1]
        if held is not None and held[1].kernels is not None:
            held[1].kernels.close()
        kernels = KernelPool() if plan.keep_kernels else None
        session = PackSession(kernels=kernels, prepared=dict(plan.prepared))
        _SESSIONS[thread] = (plan.batch_id, session)
        return session


def end_batch(batch_id: str | None = None) -> int:
    """Shut down the kernels this process kept for a batch (every batch when ``None``).

    Returns
    -------
    int
        How many kept kernels were shut down.
    """
    with _SESSIONS_LOCK:
        ended = [
            thread
            for thread, (batch, _session) in _SESSIONS.items()
            if batch_id is None or batch == batch_id
        ]
        sessions = [_SESSIONS.pop(thread)[1] for thread in ended]
    closed = 0
    for session in sessions:
        if session.kernels is not None:
            closed += len(session.kernels)
            session.kernels.close()
    return closed


# A pool worker exits normally when its pool shuts down; kernels left by a worker that is
# killed exit by themselves (ipykernel watches its parent process).
atexit.register(end_batch)


def run_council(
    la_code: str,
    la_name: str,
    month: str,
    options: PackOptions,
    plan: BatchPlan | None = None,
) -> CouncilOutcome:
    """Run one council's pack; never raises, so one council cannot stop the batch.

    A top-level function of plain arguments, so a process pool or a Dask worker can run it.
    With a ``plan``, kernels and provenance are kept from one council to the next in this
    worker, and the plan's prepared notebooks are copied rather than run; without one, the
    pack runs as the monthly pack does.
    """
    started = time.perf_counter()
    worker = socket.gethostname()

    def ended(published: bool, message: str) -> CouncilOutcome:
        seconds = round(time.perf_counter() - started, 2)
        return CouncilOutcome(la_code, la_name, published, message, seconds, worker)

    try:
        session = _session(plan) if plan is not None else None
        result = run_pack(
            pd.Period(month, freq="M"), council_options(options, la_code), _quiet, session
        )
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
    councils: pd.DataFrame,
    month: str,
    options: PackOptions,
    plan: BatchPlan,
    workers: int,
    progress: Progress,
) -> list[CouncilOutcome]:
    tasks = list(zip(councils["la_code"], councils["la_name"], strict=True))
    outcomes: list[CouncilOutcome] = []
    if workers == 1:
        try:
            for code, name in tasks:
                outcomes.append(run_council(code, name, month, options, plan))
                _report(outcomes[-1], len(outcomes), len(tasks), progress)
        finally:
            end_batch(plan.batch_id)
        return outcomes
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(run_council, code, name, month, options, plan): (code, name)
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
    councils: pd.DataFrame,
    month: str,
    options: PackOptions,
    plan: BatchPlan,
    scheduler: str,
    progress: Progress,
) -> list[CouncilOutcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    tasks = list(zip(councils["la_code"], councils["la_name"], strict=True))
    outcomes: list[CouncilOutcome] = []
    with Client(scheduler) as client:
        progress(f"Connected to the Dask scheduler at {scheduler}: {len(tasks)} councils to run.")
        futures = {
            client.submit(
                run_council, code, name, month, options, plan, key=f"pack-{month}-{code}"
            ): (code, name)
            for code, name in tasks
        }
        try:
            for future in dask_completed(list(futures)):
                code, name = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died or the task was lost
                    outcome = CouncilOutcome(code, name, False, f"worker failed: {exc}", 0.0)
                outcomes.append(outcome)
                _report(outcome, len(outcomes), len(tasks), progress)
        finally:
            # Dask workers outlive the batch: their kept kernels are shut down now.
            client.run(end_batch, plan.batch_id)
    return outcomes


def prepare_shared_inputs(month: pd.Period, progress: Progress) -> None:
    """Prepare once, before the councils are dispatched, the all-LA inputs their notebooks read.

    The external data are parsed (their cache in ``data/processed/cache`` written, so no
    worker parses them), and the all-LA backtest of the figures published by the month
    (:func:`analysis.demand_caseload.all_la_accuracy`, which notebooks 01 and 04 read) is
    computed and kept if it has not been already, so that no two workers compute it at once.

    Raises
    ------
    InputError
        When the external data cannot be read.
    """
    tidy = external.load_external()
    started = time.perf_counter()
    demand_caseload.all_la_accuracy(tidy, str(month))
    progress(f"The all-LA backtest for {month} is ready ({time.perf_counter() - started:.1f} s).")


def _all_failed(councils: pd.DataFrame, message: str) -> list[CouncilOutcome]:
    return [
        CouncilOutcome(code, name, False, message, 0.0)
        for code, name in zip(councils["la_code"], councils["la_name"], strict=True)
    ]


def _shared_failed(exc: NotebookFailed) -> str:
    where = f" at cell {exc.cell}" if exc.cell is not None else ""
    return (
        f"Not run: {exc.notebook}, which every council's pack shares, failed{where}: "
        f"{exc.error} No council's pack was published and every previous pack is unchanged. "
        f"The failed run is kept in {display_path(exc.kept_at)}."
    )


def run_all_councils(
    month: pd.Period,
    options: PackOptions,
    *,
    councils: pd.DataFrame | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: Progress = _print,
    keep_kernels: bool = True,
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
    keep_kernels
        Keep each worker's kernels alive from council to council (the default); ``False``
        starts a fresh kernel for every notebook of every council.

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
    notebooks, _declared, _scenario = plan_notebooks(replace(options, la_code=first), month)
    started = time.perf_counter()
    text = str(month)
    workers = max(1, min(jobs or default_jobs(), len(councils)))
    councils_root = Path(options.reports_root) / COUNCILS_FOLDER
    councils_root.mkdir(parents=True, exist_ok=True)
    shared = Path(tempfile.mkdtemp(prefix=f".{text}.shared-", dir=councils_root))
    try:
        prepare_shared_inputs(month, progress)
        try:
            prepared = prepare_shared_notebooks(
                month, replace(options, reports_root=councils_root), shared, _quiet
            )
        except NotebookFailed as exc:
            outcomes = _all_failed(councils, _shared_failed(exc))
        else:
            plan = BatchPlan(uuid.uuid4().hex, prepared, keep_kernels)
            if scheduler:
                outcomes = _run_dask(councils, text, options, plan, scheduler, progress)
            else:
                outcomes = _run_local(councils, text, options, plan, workers, progress)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
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
