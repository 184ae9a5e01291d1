"""The monthly pack: run every notebook for a reporting month and publish it all or nothing.

For one month the pack runs each ``NN_*.ipynb`` of the notebooks folder in numbered order
through papermill, passing only the parameters a notebook declares (checked against their
declared types before anything runs), exports each executed notebook as an offline HTML
report, writes the result tables into one Excel workbook, writes the index page and a record
of every input's SHA-256 (``pack.json``), and only then publishes.

Publishing is all or nothing. The pack is built in a hidden folder beside its destination
(``reports/.<month>.building-*``) and moved into ``reports/<month>/`` by renames on the same
disk only when every notebook succeeded. The previous pack is first renamed aside to
``reports/.<month>.previous`` and deleted once the new one is in place; if a run is killed
between those two renames, the next run for that month puts the previous pack back before it
starts. A notebook that fails leaves the previous pack untouched: its build folder, with the
failed executed notebook and an ``ERROR.txt``, is moved to ``reports/_failed/<month>-<time>/``.
A lock file (``reports/.<month>.lock``) stops two runs for the same month from interleaving;
the operating system releases it when a run ends, however it ends.

Each notebook runs in a fresh kernel (:mod:`analysis.kernels`: over Unix sockets, shut down
immediately, which avoids an occasional multi-second stall). While the kernel runs one
notebook, a thread of this process exports the notebook before it to HTML and renders its
result tables' sheets of the workbook (:class:`_Background`): the kernel is another process,
so on two cores the pack's own work overlaps the notebooks' instead of following each one. A
failed notebook waits for that thread before its build is moved aside. A batch of months runs in a
process pool. A batch of councils (:mod:`analysis.batch`) passes a :class:`PackSession`
instead: kernels kept alive from one council's pack to the next, provenance computed once,
and the notebooks that do not depend on the council run once
(:func:`prepare_shared_notebooks`) and copied into every pack.

``latest`` means the latest reporting month the bundled data support: March of the latest
reporting year (the year ending 31 March) published in both the DfE children looked after
and children in need files in ``data/raw/external/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pandas as pd
import papermill
from filelock import FileLock, Timeout
from nbclient.exceptions import CellTimeoutError
from papermill.exceptions import PapermillExecutionError

from analysis.collector import freeze_long_lived
from analysis.errors import InputError, Problem
from analysis.excel import sheet_xml, workbook_from_sheets
from analysis.kernels import KernelPool, execute_notebook
from analysis.paths import display_path, external_dir, project_root
from analysis.periods import parse_reporting_month
from analysis.provenance import (
    code_version,
    file_hashes,
    package_versions,
    raw_files,
    sha256_file,
)
from analysis.report import (
    IndexEntry,
    PackFile,
    ReportPage,
    month_label,
    notebook_title,
    notebook_to_html,
    render_index,
)
from analysis.results import SCORECARD_LABEL_PREFIX, Headline, read_headlines
from analysis.scenario import Scenario, load_scenario
from analysis.store import MANIFEST_NAME, atomic_write_bytes, atomic_write_text, read_manifest

#: The notebooks of the pack, run in the order of their two-digit prefix.
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
#: Inside a pack: result tables and headlines, executed notebooks, the record of inputs.
RESULTS_FOLDER = "results"
EXECUTED_FOLDER = "notebooks"
PACK_RECORD = "pack.json"
WORKBOOK_NAME = "results.xlsx"
FAILED_FOLDER = "_failed"
ERROR_NOTE = "ERROR.txt"

#: Seconds one cell may run before the run is stopped (unattended runs must not hang).
DEFAULT_CELL_TIMEOUT_S = 600
#: Seconds between "still running" lines while a long notebook runs.
HEARTBEAT_S = 30

#: What the pack passes to a notebook that declares it; every value is text.
PACK_PARAMETERS = ("reporting_month", "scenario_path", "output_dir", "la_code")
#: What every notebook of the pack must declare.
REQUIRED_PARAMETERS = ("reporting_month", "output_dir")

#: The files that date the bundled data for ``--month latest`` (time_period = year to March).
LATEST_MONTH_SOURCES = (
    Path("dfe_children_looked_after") / "cla_number_and_rate_per_10k_children.csv",
    Path("dfe_children_in_need") / "b1_children_in_need_2013_to_2025.csv",
)

#: Cells papermill adds to an executed notebook: injected parameters and error banners.
_PAPERMILL_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag"})

_LA_CODE = re.compile(r"^E(0[6-9]|10)\d{6}$")

Progress = Callable[[str], None]


def _print(line: str) -> None:
    print(line, flush=True)


class PackError(Exception):
    """A pack run that did not publish; the message is one paragraph for the user."""


class PackBusy(PackError):
    """Another run for the same month holds the lock."""


class NotebookFailed(PackError):
    """A notebook raised or timed out; nothing was published.

    Attributes
    ----------
    notebook
        The notebook's file name.
    cell
        The failing cell as a person counts it in the notebook (first cell = 1), if known.
    error
        The underlying error, ``Name: message``.
    kept_at
        The folder keeping the build, with the failed executed notebook.
    """

    def __init__(
        self, message: str, notebook: str, cell: int | None, error: str, kept_at: Path
    ) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.cell = cell
        self.error = error
        self.kept_at = kept_at


@dataclass(frozen=True)
class PackOptions:
    """What a pack run needs besides the month.

    Parameters
    ----------
    reports_root
        The folder holding every month's pack (``reports/``).
    notebooks_folder
        The folder of ``NN_*.ipynb`` notebooks.
    scenario_path
        The scenario file; blank means ``scenarios/base.yaml``.
    la_code
        The ONS code of the local authority, passed to notebooks declaring ``la_code``;
        ``None`` leaves each notebook's default.
    cell_timeout_s
        Seconds one cell may run.
    """

    reports_root: Path
    notebooks_folder: Path
    scenario_path: str = ""
    la_code: str | None = None
    cell_timeout_s: int = DEFAULT_CELL_TIMEOUT_S


@dataclass(frozen=True)
class NotebookRun:
    """One notebook's part of a published pack."""

    notebook: str
    title: str
    html: str
    executed: str
    seconds: float
    tables: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PackResult:
    """A published pack."""

    month: pd.Period
    folder: Path
    notebooks: list[NotebookRun]
    seconds: float


@dataclass(frozen=True)
class PreparedNotebook:
    """A notebook run once for a batch of packs, which each pack copies instead of running.

    ``folder`` holds its report, its executed notebook (``notebooks/``) and what it wrote to
    ``results/`` (tables, headline, their manifest); ``parameters`` are what it ran with
    besides ``output_dir``, which must equal a pack's own for the pack to use it.
    """

    run: NotebookRun
    folder: Path
    parameters: dict[str, object]


class ProvenanceCache:
    """Provenance that every pack of a batch would compute identically, computed once: the code
    version (two git commands) and the package versions. File hashes are kept per process by
    :func:`analysis.provenance.file_hashes`.

    The code version is the one when the batch started, which is the code its kept kernels
    imported then.
    """

    def __init__(self) -> None:
        self._code: str | None = None
        self._packages: dict[str, str] | None = None

    def code_version(self) -> str:
        """As :func:`analysis.provenance.code_version`, once."""
        if self._code is None:
            self._code = code_version()
        return self._code

    def package_versions(self) -> dict[str, str]:
        """As :func:`analysis.provenance.package_versions`, once."""
        if self._packages is None:
            self._packages = package_versions()
        return dict(self._packages)


@dataclass
class PackSession:
    """What several packs run by one process share.

    Attributes
    ----------
    kernels
        Kernels kept alive from pack to pack (:class:`analysis.kernels.KernelPool`); ``None``
        runs each notebook in a fresh kernel.
    provenance
        Code version, package versions and file hashes, computed once.
    prepared
        Notebooks run once for every pack (:func:`prepare_shared_notebooks`), by file name.
    sheets
        Each result table's sheet of the workbook, by the SHA-256 of its CSV file: a table
        every pack of a batch shares (notebook 03's, copied into each council's pack) is
        rendered once. Only the last pack's sheets are kept.
    """

    kernels: KernelPool | None = None
    provenance: ProvenanceCache = field(default_factory=ProvenanceCache)
    prepared: Mapping[str, PreparedNotebook] = field(default_factory=dict)
    sheets: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class MonthOutcome:
    """How one month of a batch ended."""

    month: str
    published: bool
    message: str
    seconds: float


# ---- months ---------------------------------------------------------------------------------


def latest_bundled_month(folder: Path | None = None) -> pd.Period:
    """Return March of the latest reporting year in both the DfE CLA and CIN files.

    Raises
    ------
    InputError
        When a dating file is missing or has no usable ``time_period`` column.
    """
    folder = folder or external_dir()
    years = []
    for relative in LATEST_MONTH_SOURCES:
        path = folder / relative
        try:
            periods = pd.read_csv(path, usecols=["time_period"], encoding="utf-8-sig")
        except (OSError, ValueError) as exc:
            raise InputError(
                [
                    Problem(
                        file=display_path(path),
                        column="time_period",
                        value=str(exc),
                        expected="a DfE statistics file with a time_period column of years, "
                        "which dates the bundled data for --month latest",
                    )
                ]
            ) from exc
        year = pd.to_numeric(periods["time_period"], errors="coerce").max()
        if pd.isna(year):
            raise InputError(
                [
                    Problem(
                        file=display_path(path),
                        column="time_period",
                        expected="at least one reporting year such as 2025",
                        has_value=False,
                    )
                ]
            )
        years.append(int(year))
    return pd.Period(year=min(years), month=3, freq="M")


def resolve_month(text: str, source: str = "--month") -> pd.Period:
    """Return the month named by ``YYYY-MM``, ``YYYY-YY Pn`` or ``latest``.

    Raises
    ------
    InputError
        When the text names no month (see :func:`analysis.periods.parse_reporting_month`).
    """
    if str(text).strip().lower() == "latest":
        return latest_bundled_month()
    return parse_reporting_month(text, source=source)


def month_range(first: pd.Period, last: pd.Period) -> list[pd.Period]:
    """Return every month from ``first`` to ``last`` inclusive.

    Raises
    ------
    InputError
        When ``last`` is before ``first``.
    """
    if last < first:
        raise InputError(
            [
                Problem(
                    file="--to",
                    value=str(last),
                    expected=f"a month on or after --from ({first})",
                )
            ]
        )
    return list(pd.period_range(first, last, freq="M"))


# ---- notebooks and their parameters ---------------------------------------------------------


def find_notebooks(folder: Path) -> list[Path]:
    """Return the pack's notebooks (``NN_*.ipynb``) in numbered order.

    Raises
    ------
    InputError
        When the folder holds none.
    """
    notebooks = sorted(Path(folder).glob(NOTEBOOK_PATTERN))
    if not notebooks:
        raise InputError(
            [
                Problem(
                    file=display_path(Path(folder)),
                    expected="at least one notebook named like 01_name.ipynb",
                    has_value=False,
                )
            ]
        )
    return notebooks


def _accepts(declared_type: str, value: object) -> bool:
    # papermill reports the annotation as written ("str", "str | None") or "None" if there is none.
    if declared_type in ("None", ""):
        return True
    return type(value).__name__ in re.findall(r"[A-Za-z_]+", declared_type)


def check_parameters(
    notebook: Path, declared: Mapping[str, Mapping[str, str]], values: Mapping[str, object]
) -> list[Problem]:
    """Check that a notebook declares the pack's required parameters with types that fit.

    Parameters
    ----------
    notebook
        The notebook (for messages).
    declared
        What :func:`papermill.inspect_notebook` found in its ``parameters`` cell.
    values
        What the pack would pass, by name.

    Returns
    -------
    list of Problem
        Empty when every value can be passed as declared.
    """
    file = display_path(notebook)
    if not declared:
        return [
            Problem(
                file=file,
                expected="a code cell tagged 'parameters' declaring "
                + ", ".join(REQUIRED_PARAMETERS),
                has_value=False,
            )
        ]
    problems = [
        Problem(
            file=file,
            location="the cell tagged 'parameters'",
            column=name,
            expected="a declaration of this parameter, which every notebook of the pack takes",
            has_value=False,
        )
        for name in REQUIRED_PARAMETERS
        if name not in declared
    ]
    for name, value in values.items():
        if name in declared and not _accepts(declared[name]["inferred_type_name"], value):
            problems.append(
                Problem(
                    file=file,
                    location="the cell tagged 'parameters'",
                    column=name,
                    value=f"declared as {declared[name]['inferred_type_name']}",
                    expected=f"a parameter of type {type(value).__name__}, "
                    f"as the pack passes it ({value!r})",
                )
            )
    return problems


def check_la_code(la_code: str) -> str:
    """Return an ONS local-authority code, stripped and upper-cased.

    Raises
    ------
    InputError
        When the code is not an English council's ONS code (E06, E07, E08, E09 or E10 and six
        digits, for example E09000002).
    """
    code = str(la_code).strip().upper()
    if not _LA_CODE.match(code):
        raise InputError(
            [
                Problem(
                    file="--la",
                    value=la_code,
                    expected="the ONS code of an English council: E06, E07, E08, E09 or E10 "
                    "followed by six digits (for example E09000002, Barking and Dagenham)",
                )
            ]
        )
    return code


def _pack_values(
    month: pd.Period, scenario_file: Path, output_dir: Path, la_code: str | None
) -> dict[str, object]:
    values: dict[str, object] = {
        "reporting_month": str(month),
        "scenario_path": str(scenario_file),
        "output_dir": str(output_dir),
    }
    if la_code is not None:
        values["la_code"] = la_code
    return values


def plan_notebooks(
    options: PackOptions, month: pd.Period
) -> tuple[list[Path], dict[Path, dict], Scenario]:
    """Find the notebooks, read their parameters and the scenario; check all before running.

    Returns
    -------
    tuple
        The notebooks in order, each notebook's declared parameters, and the scenario.

    Raises
    ------
    InputError
        Naming every problem: no notebooks, a notebook without the required parameters or
        with a declared type the pack's value does not fit, a bad LA code, a bad scenario.
    """
    notebooks = find_notebooks(options.notebooks_folder)
    scenario = load_scenario(options.scenario_path)
    la_code = check_la_code(options.la_code) if options.la_code is not None else None
    values = _pack_values(month, scenario.path, options.reports_root, la_code)
    declared = {nb: papermill.inspect_notebook(str(nb)) for nb in notebooks}
    problems = [p for nb in notebooks for p in check_parameters(nb, declared[nb], values)]
    if problems:
        raise InputError(problems)
    return notebooks, declared, scenario


# ---- running one notebook -------------------------------------------------------------------


def _cell_number(executed: nbformat.NotebookNode, index: int) -> int:
    """Turn a cell index of the executed notebook into the cell a person sees in the original."""
    added = sum(
        1
        for cell in executed.cells[:index]
        if _PAPERMILL_TAGS.intersection(cell.get("metadata", {}).get("tags", []))
    )
    return index + 1 - added


def _failed_cell(executed_path: Path) -> tuple[int | None, str]:
    """Return the failing cell (as a person counts) and its first line, from papermill's marks.

    A cell that raised is marked as an exception; a cell stopped by the timeout is not marked,
    but it is the last one that started.
    """
    try:
        executed = nbformat.read(executed_path, as_version=4)
    except (OSError, ValueError):
        return None, ""
    marks = [cell.get("metadata", {}).get("papermill", {}) for cell in executed.cells]
    raised = [i for i, mark in enumerate(marks) if mark.get("exception")]
    started = [i for i, mark in enumerate(marks) if mark.get("start_time")]
    chosen = raised or started[-1:]
    if not chosen:
        return None, ""
    cell = executed.cells[chosen[0]]
    first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
    return _cell_number(executed, chosen[0]), first_line.strip()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---- publishing -----------------------------------------------------------------------------


def _lock(reports_root: Path, month: pd.Period) -> FileLock:
    return FileLock(reports_root / f".{month}.lock")


def _previous_aside(destination: Path) -> Path:
    return destination.with_name(f".{destination.name}.previous")


def recover(destination: Path, progress: Progress = _print) -> None:
    """Finish what a killed run left beside ``destination`` (call with the month's lock held).

    A previous pack renamed aside but not replaced is put back; one already replaced is
    deleted; abandoned build folders are deleted.
    """
    aside = _previous_aside(destination)
    if aside.exists():
        if destination.exists():
            shutil.rmtree(aside)
        else:
            os.rename(aside, destination)
            progress(
                f"{destination.name}: restored the previous pack, which an interrupted run had "
                "moved aside."
            )
    for build in destination.parent.glob(f".{destination.name}.building-*"):
        shutil.rmtree(build, ignore_errors=True)
        progress(f"{destination.name}: removed {build.name}, left by an interrupted run.")


def _open_permissions(folder: Path) -> None:
    """Give a build the permissions of an ordinary folder (temporary files are owner-only)."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def publish(build: Path, destination: Path) -> None:
    """Move a finished build into ``destination``, replacing any previous pack.

    Both renames stay on one disk; :func:`recover` completes them if a run is killed between.
    """
    _open_permissions(build)
    aside = _previous_aside(destination)
    if destination.exists():
        os.rename(destination, aside)
    os.rename(build, destination)
    if aside.exists():
        shutil.rmtree(aside)


def _failed_folder(reports_root: Path, month: pd.Period) -> Path:
    """Return a new, unused ``reports/_failed/<month>-<UTC time>`` folder name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = reports_root / FAILED_FOLDER / f"{month}-{stamp}"
    kept.parent.mkdir(parents=True, exist_ok=True)
    suffix = 1
    while kept.exists():
        suffix += 1
        kept = kept.with_name(f"{month}-{stamp}-{suffix}")
    return kept


def _write_failed(month: pd.Period, destination: Path, exc: OSError) -> PackError:
    """The one-paragraph failure for a write that failed while building (a full disk)."""
    reason = exc.strerror or str(exc)
    where = f" ({display_path(Path(exc.filename))})" if exc.filename else ""
    previous = (
        f"the previous pack in {display_path(destination)} is unchanged"
        if destination.exists()
        else f"there was no earlier pack in {display_path(destination)}"
    )
    return PackError(
        f"The pack for {month_label(month)} could not be written: {_one_line(reason)}{where}. "
        f"Nothing was published: {previous}, and the partly built pack was removed. Free space "
        "on the disk (or fix the folder's permissions) and run the month again."
    )


def _result_table(data: bytes) -> pd.DataFrame:
    """A result table from its CSV file's bytes; a table without columns (a council with
    nothing to show, written as an empty line) is an empty sheet, not a failed pack."""
    try:
        return pd.read_csv(io.BytesIO(data), keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _sheet(csv: Path, sheets: dict[str, bytes]) -> str:
    """Render a result table's sheet into ``sheets`` (by its file's SHA-256) unless it is
    there already; return the hash."""
    data = csv.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest not in sheets:
        sheets[digest] = sheet_xml(_result_table(data))
    return digest


def _render_sheets(results: Path, tables: Iterable[str], sheets: dict[str, bytes]) -> None:
    for name in tables:
        if name.endswith(".csv"):
            _sheet(results / name, sheets)


def _workbook_sheets(results: Path, sheets: dict[str, bytes]) -> dict[str, bytes]:
    """Every result table's sheet, by table name in file-name order, rendering those not yet
    in ``sheets``; ``sheets`` is left holding these alone."""
    digests = {csv.stem: _sheet(csv, sheets) for csv in sorted(results.glob("*.csv"))}
    used = {digest: sheets[digest] for digest in digests.values()}
    sheets.clear()
    sheets.update(used)
    return {name: used[digest] for name, digest in digests.items()}


class _Background:
    """The pack's own work that need not hold up the next notebook (HTML export, workbook
    sheets), done in order on one thread while the kernel, another process, runs.

    Use it as a context manager: leaving it, however, waits for the task in hand and cancels
    the rest, so nothing writes into a build after it has been moved or removed.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-background")
        self._pending: list[Future[None]] = []

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, task: Callable[..., None], *args: object) -> None:
        """Queue ``task(*args)``."""
        self._pending.append(self._pool.submit(task, *args))

    def wait(self) -> None:
        """Wait for every queued task; raise the first one's error, if any failed."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def settle(self) -> None:
        """Wait for every queued task, ignoring their errors (a failing notebook's message is
        the one to report)."""
        pending, self._pending = self._pending, []
        for future in pending:
            with contextlib.suppress(Exception):
                future.result()


# ---- one month -----------------------------------------------------------------------------


def _new_tables(before: Mapping[str, Mapping], after: Mapping[str, Mapping]) -> list[str]:
    return sorted(
        name
        for name, entry in after.items()
        if name not in before or before[name].get("sha256") != entry.get("sha256")
    )


def _inputs_of(tables: Iterable[str], manifest: Mapping[str, Mapping]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for name in tables:
        inputs.update(manifest[name].get("inputs", {}))
    return dict(sorted(inputs.items()))


def _headline_for(results: Path, stem: str) -> Headline | None:
    return next((h for h in read_headlines(results) if h.notebook == stem), None)


def _file_record(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != PACK_RECORD
    }


def run_pack(
    month: pd.Period,
    options: PackOptions,
    progress: Progress = _print,
    session: PackSession | None = None,
) -> PackResult:
    """Run every notebook for ``month`` and publish the pack, or publish nothing.

    Parameters
    ----------
    month
        The reporting month.
    options
        Folders, scenario, LA code and cell timeout.
    progress
        Receives one line per step (which notebook, how long it took, elapsed time).
    session
        What a batch of packs shares (kept kernels, cached provenance, notebooks run once);
        ``None`` runs each notebook in a fresh kernel and computes everything afresh.

    Returns
    -------
    PackResult
        Where the pack was published and what each notebook produced.

    Raises
    ------
    InputError
        Before anything runs, for a bad scenario, LA code or notebook parameters.
    PackBusy
        When another run for the same month holds the lock.
    NotebookFailed
        When a notebook raised or timed out; nothing was published, the previous pack is
        untouched and the build is kept in ``reports/_failed/``.
    PackError
        When writing the pack failed (for example a full disk); nothing was published, the
        previous pack is untouched and the partly built pack is removed.
    """
    started = time.perf_counter()
    freeze_long_lived()  # the modules imported by now stay for the process's life
    session = session or PackSession()
    notebooks, declared, scenario = plan_notebooks(options, month)
    reports_root = Path(options.reports_root)
    reports_root.mkdir(parents=True, exist_ok=True)
    destination = reports_root / str(month)
    lock = _lock(reports_root, month)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise PackBusy(
            f"Another pack run for {month} is in progress (it holds {display_path(lock.lock_file)})"
            f"; this run stopped without changing anything. Wait for the other run to finish and "
            f"look at {display_path(destination)}, or run again once it has ended. The lock is "
            "released automatically when that run ends, even if it crashes."
        ) from None
    try:
        recover(destination, progress)
        build = Path(tempfile.mkdtemp(prefix=f".{month}.building-", dir=reports_root))
        try:
            runs = _build_pack(
                month,
                options,
                notebooks,
                declared,
                scenario,
                build,
                destination,
                started,
                progress,
                session,
            )
        except BaseException as exc:
            # A failed notebook's build was already moved to _failed/; anything else (an
            # interrupt, a full disk) leaves nothing behind.
            shutil.rmtree(build, ignore_errors=True)
            if isinstance(exc, OSError):
                raise _write_failed(month, destination, exc) from exc
            raise
        publish(build, destination)
    finally:
        lock.release()
    seconds = time.perf_counter() - started
    progress(f"{month}: published {display_path(destination)} in {seconds:.1f} s.")
    return PackResult(month=month, folder=destination, notebooks=runs, seconds=seconds)


def _build_pack(
    month: pd.Period,
    options: PackOptions,
    notebooks: Sequence[Path],
    declared: Mapping[Path, Mapping[str, object]],
    scenario: Scenario,
    build: Path,
    destination: Path,
    started: float,
    progress: Progress,
    session: PackSession,
) -> list[NotebookRun]:
    la_code = check_la_code(options.la_code) if options.la_code is not None else None
    values = _pack_values(month, scenario.path, build / RESULTS_FOLDER, la_code)
    runs: list[NotebookRun] = []
    with _Background() as background:
        step = _Step(
            month, options, scenario, build, destination, started, progress, session, background
        )
        for number, notebook in enumerate(notebooks, start=1):
            parameters = {k: v for k, v in values.items() if k in declared[notebook]}
            label = f"{month}: [{number}/{len(notebooks)}] {notebook.name}"
            prepared = session.prepared.get(notebook.name)
            if prepared is not None and prepared.parameters == _shared_parameters(parameters):
                runs.append(_place_prepared(prepared, build))
                progress(f"{label}: placed (run once for every pack of the batch)")
            else:
                runs.append(_run_notebook(step, notebook, parameters, label))
        background.wait()
        _finish_pack(step, notebooks, runs, values)
    return runs


@dataclass(frozen=True)
class _Step:
    """What each notebook's step of one pack's build shares."""

    month: pd.Period
    options: PackOptions
    scenario: Scenario
    build: Path
    destination: Path
    started: float
    progress: Progress
    session: PackSession
    background: _Background

    @property
    def results(self) -> Path:
        return self.build / RESULTS_FOLDER


def _shared_parameters(parameters: Mapping[str, object]) -> dict[str, object]:
    """A notebook's parameters besides its output folder: what makes two runs the same."""
    return {k: v for k, v in parameters.items() if k != "output_dir"}


def _run_notebook(
    step: _Step, notebook: Path, parameters: Mapping[str, object], label: str
) -> NotebookRun:
    """Run one notebook into the build and write its report; fail the pack if it fails."""
    progress, started = step.progress, step.started
    results = step.results
    results.mkdir(exist_ok=True)
    (step.build / EXECUTED_FOLDER).mkdir(exist_ok=True)
    executed_path = step.build / EXECUTED_FOLDER / notebook.name
    progress(f"{label}: running (elapsed {time.perf_counter() - started:.1f} s)")
    tables_before = read_manifest(results)
    notebook_started = time.perf_counter()
    try:
        with _heartbeat(label, started, progress):
            executed = execute_notebook(
                notebook,
                executed_path,
                parameters,
                step.options.cell_timeout_s,
                step.session.kernels,
            )
    except Exception as exc:
        step.background.settle()
        _fail(step.month, notebook, executed_path, exc, step.build, step.destination, step.options)
    seconds = time.perf_counter() - notebook_started
    manifest = read_manifest(results)
    tables = _new_tables(tables_before, manifest)
    inputs = _inputs_of(tables, manifest)
    headline = _headline_for(results, notebook.stem)
    title = headline.title if headline else notebook_title(executed, notebook.stem)
    provenance = step.session.provenance
    page = ReportPage(
        title=title,
        reporting_month=step.month,
        scenario_name=step.scenario.name,
        headline=headline,
        provenance={
            "inputs": inputs,
            "scenario": file_hashes(step.scenario.files),
            "code_version": provenance.code_version(),
            "packages": provenance.package_versions(),
            "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
    html_name = f"{notebook.stem}.html"
    step.background.submit(_write_report, executed, page, step.build / html_name)
    step.background.submit(_render_sheets, results, tables, step.session.sheets)
    progress(f"{label}: done in {seconds:.1f} s (elapsed {time.perf_counter() - started:.1f} s)")
    return NotebookRun(
        notebook=notebook.name,
        title=title,
        html=html_name,
        executed=f"{EXECUTED_FOLDER}/{notebook.name}",
        seconds=round(seconds, 2),
        tables=tables,
        inputs=inputs,
    )


def _write_report(executed: nbformat.NotebookNode, page: ReportPage, path: Path) -> None:
    atomic_write_text(path, notebook_to_html(executed, page))


def _place_prepared(prepared: PreparedNotebook, build: Path) -> NotebookRun:
    """Copy a notebook run once for the batch into a pack: its report, executed notebook and
    everything it wrote to ``results/``, with its tables' entries in the results manifest."""
    run, source = prepared.run, prepared.folder
    results = build / RESULTS_FOLDER
    results.mkdir(exist_ok=True)
    (build / EXECUTED_FOLDER).mkdir(exist_ok=True)
    shutil.copyfile(source / run.html, build / run.html)
    shutil.copyfile(source / run.executed, build / run.executed)
    for path in sorted((source / RESULTS_FOLDER).iterdir()):
        if path.is_file() and path.name != MANIFEST_NAME:
            shutil.copyfile(path, results / path.name)
    manifest = read_manifest(results)
    manifest.update(read_manifest(source / RESULTS_FOLDER))
    atomic_write_text(
        results / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    )
    return run


def prepare_shared_notebooks(
    month: pd.Period,
    options: PackOptions,
    folder: Path,
    progress: Progress = _print,
    provenance: ProvenanceCache | None = None,
) -> dict[str, PreparedNotebook]:
    """Run once, for a batch of councils' packs, each notebook that does not declare
    ``la_code``: its output is the same for every council.

    Each runs in a fresh kernel into its own subfolder of ``folder`` (report, executed
    notebook, ``results/``); pass the returned notebooks in :class:`PackSession` and each pack
    copies them instead of running them.

    Parameters
    ----------
    month
        The reporting month.
    options
        As for :func:`run_pack`; ``la_code`` is ignored. A failed notebook's build is kept in
        ``<reports_root>/_failed/``.
    folder
        A new folder on the same disk as the packs, removed by the caller after the batch.

    Returns
    -------
    dict
        By notebook file name; empty when every notebook declares ``la_code``.

    Raises
    ------
    InputError
        For a bad scenario or notebook parameters.
    NotebookFailed
        When a shared notebook raised or timed out.
    """
    started = time.perf_counter()
    options = replace(options, la_code=None)
    notebooks, declared, scenario = plan_notebooks(options, month)
    session = PackSession(provenance=provenance or ProvenanceCache())
    prepared: dict[str, PreparedNotebook] = {}
    for notebook in notebooks:
        if "la_code" in declared[notebook]:
            continue
        build = Path(folder) / notebook.stem
        build.mkdir(parents=True)
        values = _pack_values(month, scenario.path, build / RESULTS_FOLDER, None)
        parameters = {k: v for k, v in values.items() if k in declared[notebook]}
        label = f"{month}: shared {notebook.name}"
        with _Background() as background:
            step = _Step(
                month,
                options,
                scenario,
                build,
                Path(options.reports_root),
                started,
                progress,
                session,
                background,
            )
            run = _run_notebook(step, notebook, parameters, label)
            background.wait()
        prepared[notebook.name] = PreparedNotebook(run, build, _shared_parameters(parameters))
    return prepared


@contextlib.contextmanager
def _heartbeat(label: str, started: float, progress: Progress) -> Iterator[None]:
    """Report every :data:`HEARTBEAT_S` seconds that a long notebook is still running."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            progress(f"{label}: still running (elapsed {time.perf_counter() - started:.1f} s)")

    thread = threading.Thread(target=beat, name="pack-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _fail(
    month: pd.Period,
    notebook: Path,
    executed_path: Path,
    exc: Exception,
    build: Path,
    destination: Path,
    options: PackOptions,
) -> None:
    if isinstance(exc, PapermillExecutionError):
        error = f"{exc.ename}: {_one_line(exc.evalue)}"
    elif isinstance(exc, CellTimeoutError):
        error = (
            f"the cell timed out: it ran longer than the {options.cell_timeout_s} seconds "
            "allowed for one cell (--timeout)"
        )
    else:
        error = f"{type(exc).__name__}: {_one_line(str(exc))}"
    if not error.endswith((".", "!", "?")):
        error += "."
    cell, first_line = _failed_cell(executed_path)
    where = f"cell {cell}" if cell is not None else "a cell papermill did not mark"
    if first_line:
        where += f" (which begins `{first_line[:80]}`)"
    previous = (
        f"the previous pack in {display_path(destination)} is unchanged"
        if destination.exists()
        else f"there was no earlier pack in {display_path(destination)}"
    )
    kept = _failed_folder(Path(options.reports_root), month)
    kept_notebook = kept / EXECUTED_FOLDER / notebook.name
    shown = (
        f"The executed notebook, with the error under the failing cell, is kept in "
        f"{display_path(kept_notebook)}."
        if executed_path.exists()
        else f"The run's files are kept in {display_path(kept)}."
    )
    os.rename(build, kept)
    message = (
        f"The pack for {month_label(month)} failed in {display_path(notebook)} at {where}: "
        f"{error} Nothing was published: {previous}. {shown}"
    )
    atomic_write_text(kept / ERROR_NOTE, message + "\n")
    raise NotebookFailed(message, notebook.name, cell, error, kept) from exc


def scorecard_first(entries: Sequence[IndexEntry]) -> list[IndexEntry]:
    """The index's reports with the one whose headline opens with the scorecard first (what a
    committee reads first); the others keep their notebook order."""

    def leads_with_scorecard(entry: IndexEntry) -> bool:
        figures = entry.headline.figures if entry.headline else ()
        return bool(figures) and figures[0].label.startswith(SCORECARD_LABEL_PREFIX)

    return sorted(entries, key=lambda entry: not leads_with_scorecard(entry))


def _finish_pack(
    step: _Step,
    notebooks: Sequence[Path],
    runs: Sequence[NotebookRun],
    values: Mapping[str, object],
) -> None:
    month, scenario, build = step.month, step.scenario, step.build
    provenance = step.session.provenance
    scenario_hashes = file_hashes(scenario.files)
    code = provenance.code_version()
    packages = provenance.package_versions()
    results = build / RESULTS_FOLDER
    tables = _workbook_sheets(results, step.session.sheets)
    if tables:
        atomic_write_bytes(build / WORKBOOK_NAME, workbook_from_sheets(tables))
    inputs = file_hashes([*raw_files(), *notebooks])
    for run in runs:
        inputs.update(run.inputs)
    inputs = dict(sorted(inputs.items()))
    ran_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    provenance = {
        "inputs": inputs,
        "scenario": dict(scenario_hashes),
        "code_version": code,
        "packages": dict(packages),
        "ran_at": ran_at,
    }
    headlines = {h.notebook: h for h in read_headlines(results)}
    entries = [
        IndexEntry(
            title=run.title,
            headline=headlines.get(Path(run.notebook).stem),
            html_href=run.html,
            notebook_href=run.executed,
        )
        for run in runs
    ]
    entries = scorecard_first(entries)
    downloads = (
        [PackFile(WORKBOOK_NAME, "every result table in one Excel workbook, one sheet per table")]
        if tables
        else []
    )
    downloads += [
        PackFile(f"{RESULTS_FOLDER}/{book.name}", "Excel workbook written by a notebook")
        for book in sorted(results.glob("*.xlsx"))
    ]
    downloads += [PackFile(f"{RESULTS_FOLDER}/{name}.csv", "result table (CSV)") for name in tables]
    atomic_write_text(
        build / "index.html",
        render_index(month, scenario.name, entries, downloads, provenance),
    )
    record = {
        "reporting_month": str(month),
        "scenario": {
            "name": scenario.name,
            "path": display_path(scenario.path),
            "files": dict(scenario_hashes),
        },
        "parameters": {k: v for k, v in values.items() if k != "output_dir"},
        "inputs": inputs,
        "code_version": code,
        "packages": dict(packages),
        "ran_at": ran_at,
        "notebooks": [asdict(run) for run in runs],
        "files": _file_record(build),
    }
    atomic_write_text(build / PACK_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")


# ---- many months ---------------------------------------------------------------------------


def _run_month(month_text: str, options: PackOptions, progress: Progress = _print) -> MonthOutcome:
    """Run one month of a batch (in a worker process); never raises for a failed month."""
    started = time.perf_counter()
    month = pd.Period(month_text, freq="M")
    try:
        result = run_pack(month, options, progress)
    except InputError as exc:
        return MonthOutcome(month_text, False, _one_line(exc.report()), _elapsed(started))
    except PackError as exc:
        return MonthOutcome(month_text, False, str(exc), _elapsed(started))
    except Exception as exc:  # a batch reports every month, whatever stopped one of them
        message = f"{type(exc).__name__}: {_one_line(str(exc))}"
        return MonthOutcome(month_text, False, message, _elapsed(started))
    return MonthOutcome(
        month_text, True, f"published {display_path(result.folder)}", _elapsed(started)
    )


def _elapsed(started: float) -> float:
    return round(time.perf_counter() - started, 2)


def default_jobs() -> int:
    """Return the number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_batch(
    months: Sequence[pd.Period],
    options: PackOptions,
    jobs: int | None = None,
    progress: Progress = _print,
) -> list[MonthOutcome]:
    """Run the pack for many months, in parallel processes, reporting each month's outcome.

    A month that fails does not stop the others. Everything that can be checked before running
    (notebooks, parameters, scenario, LA code) is checked once, first. Worker processes print
    their progress lines to standard output; ``progress`` receives each month's outcome (and,
    with one job, every progress line).

    Parameters
    ----------
    months
        The months to run.
    options
        As for :func:`run_pack`.
    jobs
        Worker processes; ``None`` means one per core. Never more than the number of months.

    Returns
    -------
    list of MonthOutcome
        One per month, in month order.

    Raises
    ------
    InputError
        When the notebooks, scenario, LA code or ``jobs`` are wrong (before anything runs).
    """
    if jobs is not None and jobs < 1:
        raise InputError([Problem(file="--jobs", value=jobs, expected="a whole number >= 1")])
    if not months:
        raise InputError(
            [Problem(file="the batch", expected="at least one month to run", has_value=False)]
        )
    plan_notebooks(options, months[0])
    workers = min(jobs or default_jobs(), len(months))
    texts = [str(month) for month in months]
    outcomes: dict[str, MonthOutcome] = {}
    if workers == 1:
        for text in texts:
            outcomes[text] = _run_month(text, options, progress)
            _report_outcome(outcomes[text], progress)
    else:
        # Spawned, not forked: a fork of a process holding zmq sockets and threads is unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_run_month, text, options): text for text in texts}
            for future in as_completed(futures):
                outcome = future.result()
                outcomes[outcome.month] = outcome
                _report_outcome(outcome, progress)
    return [outcomes[text] for text in texts]


def _report_outcome(outcome: MonthOutcome, progress: Progress) -> None:
    status = "published" if outcome.published else "FAILED"
    progress(f"{outcome.month}: {status} after {outcome.seconds:.1f} s")


def summarise_batch(outcomes: Sequence[MonthOutcome]) -> str:
    """Return a batch's summary: how many months published, and each failure in full."""
    published = [o.month for o in outcomes if o.published]
    failed = [o for o in outcomes if not o.published]
    lines = [f"{len(published)} of {len(outcomes)} months published."]
    if published:
        lines.append("Published: " + ", ".join(published) + ".")
    if failed:
        lines.append(f"Failed ({len(failed)}): " + ", ".join(o.month for o in failed) + ".")
        lines.extend(f"\n{o.month}: {o.message}" for o in failed)
    return "\n".join(lines)


# ---- verify ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A file whose SHA-256 no longer matches the pack's record."""

    path: str
    kind: str  # "input", "scenario" or "pack file"
    recorded: str
    current: str | None  # None when the file is gone


@dataclass(frozen=True)
class Verification:
    """What :func:`verify_pack` found."""

    folder: Path
    reporting_month: str
    ran_at: str
    checked: int
    changes: list[Change]


def _resolve_recorded(path: str, base: Path) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else base / candidate


def verify_pack(folder: Path) -> Verification:
    """Re-check a published pack against the SHA-256 of its inputs and of its own files.

    Raises
    ------
    InputError
        When ``folder`` is not a published pack (no readable ``pack.json``).
    """
    folder = Path(folder)
    record_path = folder / PACK_RECORD
    if not record_path.is_file():
        raise InputError(
            [
                Problem(
                    file=display_path(folder),
                    expected="a published pack folder such as reports/2025-03, holding the "
                    "pack.json that `csc-finance pack` writes; this folder has none",
                    has_value=False,
                )
            ]
        )
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        sections = [
            ("input", record["inputs"], project_root()),
            ("scenario", record["scenario"]["files"], project_root()),
            ("pack file", record["files"], folder),
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            [
                Problem(
                    file=display_path(record_path),
                    value=_one_line(str(exc)),
                    expected="a published pack folder (reports/<YYYY-MM>) holding the pack.json "
                    "that `csc-finance pack` writes",
                )
            ]
        ) from exc
    changes = []
    checked = 0
    for kind, hashes, base in sections:
        for path, recorded in hashes.items():
            checked += 1
            file = _resolve_recorded(path, base)
            current = sha256_file(file) if file.is_file() else None
            if current != recorded:
                changes.append(Change(path, kind, recorded, current))
    return Verification(
        folder=folder,
        reporting_month=str(record.get("reporting_month", "")),
        ran_at=str(record.get("ran_at", "")),
        checked=checked,
        changes=changes,
    )


def format_verification(result: Verification) -> str:
    """Write a verification for the user: all unchanged, or each change."""
    where = display_path(result.folder)
    if not result.changes:
        return (
            f"{where} (reporting month {result.reporting_month}, run {result.ran_at}): all "
            f"{result.checked} recorded files are unchanged since the pack was made."
        )
    lines = [
        f"{where} (reporting month {result.reporting_month}, run {result.ran_at}): "
        f"{len(result.changes)} of {result.checked} recorded files changed since the pack was made."
    ]
    for change in result.changes:
        if change.current is None:
            lines.append(f"  {change.kind} {change.path}: missing (was {change.recorded[:12]}…)")
        else:
            lines.append(
                f"  {change.kind} {change.path}: changed "
                f"(was {change.recorded[:12]}…, now {change.current[:12]}…)"
            )
    lines.append(
        "Re-run the pack for this month to publish figures from the current inputs; a changed "
        "pack file means the published report was edited after it was made."
    )
    return "\n".join(lines)
