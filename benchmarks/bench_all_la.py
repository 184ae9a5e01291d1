"""Time the all-council batch: the CPU seconds per council pack beyond the fixed start-up, the
start-up itself, scaling from 1 to 2 workers, and where a council's seconds go.

* **batch**: :func:`analysis.batch.run_all_councils` (what ``csc-finance pack --la all`` runs)
  with the real notebooks on two evenly spread subsets of councils (4 and 12 by default), with
  ``jobs=1`` and ``jobs=2``. CPU counts this process, the pool workers and every kernel (each
  is waited for when it shuts down), which a busy shared machine disturbs less than wall time.
* **per council beyond the start-up** = the slope (CPU(12) - CPU(4)) / 8; **fixed start-up** =
  the intercept CPU(4) - 4 x slope: the parent's preparation (external data, the notebooks run
  once per batch), the workers' start and imports, and their kernels' start and imports.
  Target (issue 8): under 2 s per council.
* **where a council's seconds go**: councils run one after another in this process with kept
  kernels, after one council to warm them: this process's CPU (writing the workbook, exporting
  the reports, the rest) and each notebook's kernel (read from the operating system by process
  id).
* ``--all`` also runs the whole batch (every current English council, 153 for 2025-03) once
  with 2 workers.

Packs are built in a temporary folder. Writes ``benchmarks/results/all_la.json`` and prints
the section for ``docs/performance.md``.

Run: ``python benchmarks/bench_all_la.py [--month 2025-03] [--sizes 4 12] [--all]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
import psutil
from timing import load_average, machine, timed, write_figures

from analysis import batch, pack
from analysis.batch import english_councils, run_all_councils
from analysis.external import load_external
from analysis.kernels import KernelPool
from analysis.pack import PackOptions, PackSession, find_notebooks, resolve_month
from analysis.paths import notebooks_dir, project_root

CPU_PER_COUNCIL_TARGET_S = 2.0


def _quiet(_line: str) -> None:
    """The benchmark prints its own summary."""


def spread(councils: pd.DataFrame, count: int) -> pd.DataFrame:
    """An evenly spread subset of ``count`` councils (in ONS code order)."""
    if count >= len(councils):
        return councils
    step = len(councils) / count
    return councils.iloc[[int(i * step) for i in range(count)]].reset_index(drop=True)


def _batch(month: pd.Period, councils: pd.DataFrame, jobs: int, root: Path) -> dict:
    options = PackOptions(reports_root=root, notebooks_folder=notebooks_dir())
    load = load_average()
    outcomes, seconds, cpu = timed(
        lambda: run_all_councils(month, options, councils=councils, jobs=jobs, progress=_quiet)
    )
    return {
        "councils": len(councils),
        "jobs": jobs,
        "wall_s": round(seconds, 1),
        "cpu_s": round(cpu, 1),
        "load_average_before": load,
        "load_average_after": load_average(),
        "failed": [f"{o.la_code}: {o.message}" for o in outcomes if not o.published],
    }


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


class _ParentCpu:
    """This process's CPU seconds spent in a few of the pack's steps, by wrapping them."""

    STEPS = {
        "workbook sheets": "sheet_xml",
        "workbook": "workbook_from_sheets",
        "report export": "notebook_to_html",
    }

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.STEPS, 0.0)
        self._originals: dict[str, Callable] = {}

    def __enter__(self) -> _ParentCpu:
        for step, name in self.STEPS.items():
            original = getattr(pack, name)
            self._originals[name] = original

            def wrapped(*args, _original=original, _step=step, **kwargs):  # noqa: ANN002, ANN003, ANN202
                started = time.process_time()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds[_step] += time.process_time() - started

            setattr(pack, name, wrapped)
        return self

    def __exit__(self, *_exc: object) -> None:
        for name, original in self._originals.items():
            setattr(pack, name, original)


def where_the_seconds_go(month: pd.Period, councils: pd.DataFrame, root: Path) -> dict:
    """Per council, after a first council warms the kernels: this process's CPU (in total and
    in its main steps) and each notebook's kept kernel's CPU, as medians."""
    options = PackOptions(reports_root=root, notebooks_folder=notebooks_dir())
    (root / batch.COUNCILS_FOLDER).mkdir(parents=True)
    shared_root = root / batch.COUNCILS_FOLDER
    prepared = pack.prepare_shared_notebooks(
        month, replace(options, reports_root=shared_root), root / "shared"
    )
    kernels = KernelPool()
    session = PackSession(kernels=kernels, prepared=prepared)
    rows = []
    try:
        for number, code in enumerate(councils["la_code"]):
            before = {n: _cpu(psutil.Process(p)) for n, p in kernels.process_ids().items()}
            this = psutil.Process()
            own = _cpu(this)
            with _ParentCpu() as steps:
                pack.run_pack(month, batch.council_options(options, code), _quiet, session)
            row = {"la_code": code, "this process": _cpu(this) - own, **steps.seconds}
            for name, pid in kernels.process_ids().items():
                row[name] = _cpu(psutil.Process(pid)) - before.get(name, 0.0)
            if number:  # the first council pays the kernels' start and imports
                rows.append(row)
    finally:
        kernels.close()
    table = pd.DataFrame(rows).set_index("la_code")
    medians = table.median().round(2).to_dict()
    medians["total"] = round(table.drop(columns=list(_ParentCpu.STEPS)).sum(axis=1).median(), 2)
    return {"councils": list(table.index), "median_cpu_s": medians}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2025-03", help="the reporting month")
    parser.add_argument("--sizes", type=int, nargs=2, default=[4, 12], help="subset sizes")
    parser.add_argument("--profile", type=int, default=6, help="councils to profile")
    parser.add_argument("--all", action="store_true", help="also run every council, 2 workers")
    args = parser.parse_args(argv)
    month = resolve_month(args.month)
    every = english_councils(load_external(), str(month))
    small, large = sorted(args.sizes)
    figures: dict[str, object] = {
        "machine": machine(),
        "month": str(month),
        "notebooks": [p.name for p in find_notebooks(notebooks_dir())],
        "councils_in_batch": len(every),
        "subsets": {
            str(size): [f"{row.la_code} {row.la_name}" for row in spread(every, size).itertuples()]
            for size in (small, large)
        },
    }
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-all-la-") as scratch:
        root = Path(scratch)
        for jobs in (1, 2):
            for size in (small, large):
                runs.append(_batch(month, spread(every, size), jobs, root / f"j{jobs}_n{size}"))
                print(f"{size} councils, {jobs} job(s): {runs[-1]}", flush=True)
        figures["profile"] = where_the_seconds_go(
            month, spread(every, args.profile), root / "profile"
        )
        if args.all:
            whole = _batch(month, every, 2, root / "all")
            figures["whole_batch"] = whole
    figures["runs"] = runs
    by = {(r["jobs"], r["councils"]): r for r in runs}
    fits = {}
    for jobs in (1, 2):
        slope = (by[jobs, large]["cpu_s"] - by[jobs, small]["cpu_s"]) / (large - small)
        fits[str(jobs)] = {
            "cpu_s_per_council": round(slope, 2),
            "fixed_start_up_cpu_s": round(by[jobs, small]["cpu_s"] - small * slope, 1),
            "wall_s_per_council": round(
                (by[jobs, large]["wall_s"] - by[jobs, small]["wall_s"]) / (large - small), 2
            ),
        }
    figures["fits"] = fits
    figures["scaling"] = {
        f"speed_up_1_to_2_workers_{size}_councils": round(
            by[1, size]["wall_s"] / by[2, size]["wall_s"], 2
        )
        for size in (small, large)
    }
    figures["targets"] = {
        "cpu_s_per_council_beyond_start_up_under": CPU_PER_COUNCIL_TARGET_S,
        "met": fits["1"]["cpu_s_per_council"] < CPU_PER_COUNCIL_TARGET_S,
    }
    out = write_figures("all_la.json", figures)
    print(markdown_section(figures))
    print(f"\nFigures written to {out.relative_to(project_root())}.")
    return 0


def markdown_section(figures: dict) -> str:
    """Return the measured part of the "All councils" section of ``docs/performance.md``."""
    machine, fits, runs = figures["machine"], figures["fits"], figures["runs"]
    sizes = sorted({r["councils"] for r in runs})
    lines = [
        f"`csc-finance pack --la all --month {figures['month']}` "
        f"(`analysis.batch.run_all_councils`) with the {len(figures['notebooks'])} notebooks on "
        f"evenly spread subsets of {sizes[0]} and {sizes[1]} of the "
        f"{figures['councils_in_batch']} current English councils; {machine['cores']} cores, "
        f"Python {machine['python']}, load average {machine['load_average_at_start']} at the "
        f"start, a 5-million-step Python loop {machine['python_loop_5m_s']} s "
        "(`timing.python_speed_s`). CPU counts this process, the pool workers and every kernel.",
        "",
        "| councils | workers | wall s | CPU s | load before / after | failed |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    lines += [
        f"| {r['councils']} | {r['jobs']} | {r['wall_s']} | {r['cpu_s']} | "
        f"{r['load_average_before']} / {r['load_average_after']} | {len(r['failed'])} |"
        for r in runs
    ]
    lines += [
        "",
        "| workers | **CPU s per council beyond the start-up** (slope) | fixed start-up CPU s "
        "(intercept) | wall s per council |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {jobs} | **{fit['cpu_s_per_council']}** | {fit['fixed_start_up_cpu_s']} | "
        f"{fit['wall_s_per_council']} |"
        for jobs, fit in fits.items()
    ]
    target = figures["targets"]
    lines += [
        "",
        f"Target under {target['cpu_s_per_council_beyond_start_up_under']} s per council: "
        f"**{'met' if target['met'] else 'not met'}**. Scaling from 1 to 2 workers (wall): "
        + ", ".join(
            f"{v}x ({k.rsplit('_', 2)[-2]} councils)" for k, v in figures["scaling"].items()
        )
        + ".",
    ]
    profile = figures["profile"]
    medians = profile["median_cpu_s"]
    lines += [
        "",
        f"Where one council's CPU seconds go (median of {len(profile['councils'])} councils run "
        "one after another with kept kernels, after one council to warm them):",
        "",
        "| part | CPU s |",
        "|---|---:|",
    ]
    lines += [f"| {part} | {seconds} |" for part, seconds in medians.items()]
    failed = sorted({f for r in runs for f in r["failed"]})
    if "whole_batch" in figures:
        whole = figures["whole_batch"]
        lines += [
            "",
            f"The whole batch, measured: {whole['councils']} councils on 2 workers, "
            f"{whole['wall_s']} s wall, {whole['cpu_s']} s CPU "
            f"({whole['cpu_s'] / whole['councils']:.1f} s per council, start-up included), "
            f"load average {whole['load_average_before']} before and "
            f"{whole['load_average_after']} after; {len(whole['failed'])} failed.",
        ]
        failed = sorted({*failed, *whole["failed"]})
    shown = "; ".join(_short(failure) for failure in failed) if failed else "none"
    lines += ["", f"- Councils that failed: {shown}."]
    return "\n".join(lines)


def _short(failure: str) -> str:
    """A failed council's code and error, without the pack's sentences about what was kept."""
    head = failure.split(" Nothing was published")[0]
    code, _, message = head.partition(": ")
    return f"{code} ({message.split(' failed in ', 1)[-1]})"


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    raise SystemExit(main())
