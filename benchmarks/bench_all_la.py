"""Time the all-council batch: the time per council, scaling from 1 to 2 workers, and the CPU
seconds per council pack beyond the fixed start-up.

* **batch**: :func:`analysis.batch.run_all_councils` (what ``csc-finance pack --la all`` runs)
  on a set of councils with ``jobs=1`` and ``jobs=2``, with the real notebooks;
* **floor**: the same councils with every notebook's body emptied (the parameters, Markdown and
  import statements stay; see ``bench_pack.py``), ``jobs=1``: what every council pack pays
  whatever its notebooks do (a kernel start, imports, HTML export and publishing per notebook);
* **per council beyond start-up** = (CPU of the batch - CPU of the floor) / councils: the
  notebooks' own work for one council. Target (issue 8): under 2 s.

The whole batch is every current English council (153 for 2025-03); ``--councils N`` times an
evenly spread subset of N instead and extrapolates the whole batch from it, labelled as such.
CPU time counts this process and its children (pool workers and their kernels), which a busy
shared machine disturbs less than wall time. Packs are built in a temporary folder. Writes
``benchmarks/results/all_la.json`` and prints the section for ``docs/performance.md``.

Run: ``python benchmarks/bench_all_la.py [--month 2025-03] [--councils 4]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from pathlib import Path

import papermill
from bench_pack import write_floor_notebooks
from timing import timed

from analysis.batch import COUNCILS_FOLDER, english_councils, run_all_councils
from analysis.external import load_external
from analysis.pack import PackOptions, default_jobs, find_notebooks, resolve_month
from analysis.paths import notebooks_dir, project_root

CPU_PER_COUNCIL_TARGET_S = 2.0


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _quiet(_line: str) -> None:
    """The benchmark prints its own summary."""


def _notebook_seconds(reports: Path, month: str) -> dict[str, float]:
    """Median wall seconds of each notebook across the councils' published packs."""
    seconds: dict[str, list[float]] = {}
    for record in (reports / COUNCILS_FOLDER).glob(f"*/{month}/pack.json"):
        for run in json.loads(record.read_text(encoding="utf-8"))["notebooks"]:
            seconds.setdefault(run["notebook"], []).append(run["seconds"])
    return {name: round(statistics.median(values), 1) for name, values in sorted(seconds.items())}


def notebook_cpu(month: str, la_code: str, scratch: Path) -> dict[str, dict[str, float]]:
    """CPU and wall seconds of each notebook for one council, run alone under papermill (as the
    pack runs it), and of its floor: what each notebook's own work costs beyond its start-up."""
    write_floor_notebooks(notebooks_dir(), scratch / "floor_alone")
    figures = {}
    for notebook in find_notebooks(notebooks_dir()):
        declared = papermill.inspect_notebook(str(notebook))
        values = {
            "reporting_month": month,
            "output_dir": str(scratch / "alone"),
            "la_code": la_code,
        }
        parameters = {k: v for k, v in values.items() if k in declared}
        measured = {}
        for kind, path in (("full", notebook), ("floor", scratch / "floor_alone" / notebook.name)):
            _result, seconds, cpu = timed(
                lambda p=path, out=scratch / f"{kind}_{notebook.name}", v=parameters: (
                    papermill.execute_notebook(
                        str(p),
                        str(out),
                        parameters=v,
                        progress_bar=False,
                        shutdown_kernel="immediate",
                        kernel_manager_class="analysis.kernels.IPCKernelManager",
                    )
                )
            )
            measured[f"{kind}_s"], measured[f"{kind}_cpu_s"] = round(seconds, 1), round(cpu, 1)
        measured["cpu_s_beyond_floor"] = round(measured["full_cpu_s"] - measured["floor_cpu_s"], 1)
        figures[notebook.name] = measured
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="2025-03", help="the reporting month")
    parser.add_argument(
        "--councils", type=int, default=0, help="time an evenly spread subset (0: every council)"
    )
    args = parser.parse_args(argv)
    month = resolve_month(args.month)
    every = english_councils(load_external(), str(month))
    chosen = every
    if 0 < args.councils < len(every):
        step = len(every) / args.councils
        chosen = every.iloc[[int(i * step) for i in range(args.councils)]].reset_index(drop=True)
    count = len(chosen)
    figures: dict[str, object] = {
        "machine": {
            "cores": default_jobs(),
            "python": platform.python_version(),
            "load_average_at_start": _load(),
        },
        "month": str(month),
        "notebooks": [p.name for p in find_notebooks(notebooks_dir())],
        "councils_in_batch": len(every),
        "councils_timed": count,
        "councils": [f"{c} {n}" for c, n in zip(chosen["la_code"], chosen["la_name"], strict=True)],
    }
    with tempfile.TemporaryDirectory(prefix="bench-all-la-") as scratch:
        root = Path(scratch)
        write_floor_notebooks(notebooks_dir(), root / "floor_notebooks")
        floor = PackOptions(reports_root=root / "floor", notebooks_folder=root / "floor_notebooks")
        _outcomes, floor_s, floor_cpu = timed(
            lambda: run_all_councils(month, floor, councils=chosen, jobs=1, progress=_quiet)
        )
        runs: dict[str, object] = {
            "floor_jobs_1_s": round(floor_s, 1),
            "floor_jobs_1_cpu_s": round(floor_cpu, 1),
        }
        for jobs in (1, 2):
            options = PackOptions(
                reports_root=root / f"jobs_{jobs}", notebooks_folder=notebooks_dir()
            )
            outcomes, seconds, cpu = timed(
                lambda o=options, j=jobs: run_all_councils(
                    month, o, councils=chosen, jobs=j, progress=_quiet
                )
            )
            runs[f"jobs_{jobs}_s"] = round(seconds, 1)
            runs[f"jobs_{jobs}_cpu_s"] = round(cpu, 1)
            runs[f"jobs_{jobs}_failed"] = [
                f"{o.la_code}: {o.message}" for o in outcomes if not o.published
            ]
            runs[f"load_average_after_jobs_{jobs}"] = _load()
            if jobs == 1:
                runs["notebook_median_s"] = _notebook_seconds(root / "jobs_1", str(month))
        figures["runs"] = runs
        figures["notebooks_alone"] = {
            "la_code": str(chosen["la_code"].iloc[0]),
            "figures": notebook_cpu(str(month), str(chosen["la_code"].iloc[0]), root),
        }

    per_council_cpu = runs["jobs_1_cpu_s"] / count
    floor_per_council_cpu = runs["floor_jobs_1_cpu_s"] / count
    beyond = per_council_cpu - floor_per_council_cpu
    figures["per_council"] = {
        "wall_s_jobs_1": round(runs["jobs_1_s"] / count, 1),
        "wall_s_jobs_2": round(runs["jobs_2_s"] / count, 1),
        "cpu_s": round(per_council_cpu, 1),
        "floor_cpu_s": round(floor_per_council_cpu, 1),
        "cpu_s_beyond_start_up": round(beyond, 1),
    }
    figures["scaling"] = {
        "speed_up_1_to_2_workers": round(runs["jobs_1_s"] / runs["jobs_2_s"], 2),
    }
    figures["whole_batch"] = {
        "councils": len(every),
        "measured": count == len(every),
        "wall_s_jobs_2": round(runs["jobs_2_s"] / count * len(every), 0),
        "cpu_s": round(per_council_cpu * len(every), 0),
    }
    figures["targets"] = {
        "cpu_s_beyond_start_up_under": CPU_PER_COUNCIL_TARGET_S,
        "met": beyond < CPU_PER_COUNCIL_TARGET_S,
    }
    out = project_root() / "benchmarks" / "results" / "all_la.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(markdown_section(figures))
    print(f"\nFigures written to {out.relative_to(project_root())}.")
    return 0


def markdown_section(figures: dict) -> str:
    """Return the "All councils" section of ``docs/performance.md``."""
    runs, per, whole = figures["runs"], figures["per_council"], figures["whole_batch"]
    machine = figures["machine"]
    scope = (
        f"every one of the {whole['councils']} current English councils"
        if whole["measured"]
        else f"an evenly spread subset of {figures['councils_timed']} of the "
        f"{whole['councils']} current English councils ({'; '.join(figures['councils'])})"
    )
    whole_label = "measured" if whole["measured"] else "EXTRAPOLATED from the subset"
    lines = [
        "## All councils (`benchmarks/bench_all_la.py`)",
        "",
        f"`csc-finance pack --la all --month {figures['month']}` "
        f"(`analysis.batch.run_all_councils`) with the {len(figures['notebooks'])} notebooks, "
        f"timed on {scope}; {machine['cores']} cores, Python {machine['python']}, load average "
        f"{machine['load_average_at_start']} at the start (a shared machine, so wall times are "
        "pessimistic; CPU counts this process, the pool workers and their kernels).",
        "",
        "| measure | wall s | CPU s |",
        "|---|---:|---:|",
        f"| batch, 1 worker | {runs['jobs_1_s']} | {runs['jobs_1_cpu_s']} |",
        f"| batch, 2 workers | {runs['jobs_2_s']} | {runs['jobs_2_cpu_s']} |",
        f"| floor (bodies emptied), 1 worker | {runs['floor_jobs_1_s']} | "
        f"{runs['floor_jobs_1_cpu_s']} |",
        f"| per council, 1 worker | {per['wall_s_jobs_1']} | {per['cpu_s']} |",
        f"| per council, 2 workers | {per['wall_s_jobs_2']} | |",
        f"| per council, floor (fixed start-up: kernels, imports, export) | | "
        f"{per['floor_cpu_s']} |",
        f"| **per council beyond the start-up** (target under "
        f"{figures['targets']['cpu_s_beyond_start_up_under']} s) | | "
        f"**{per['cpu_s_beyond_start_up']}** "
        f"({'met' if figures['targets']['met'] else 'not met'}) |",
        f"| whole batch of {whole['councils']} on 2 workers ({whole_label}) | "
        f"{whole['wall_s_jobs_2']:.0f} | {whole['cpu_s']:.0f} |",
        "",
        f"- Scaling from 1 to 2 workers: {figures['scaling']['speed_up_1_to_2_workers']}x.",
        "- Median wall seconds of each notebook per council (1 worker): "
        + ", ".join(f"{k} {v}" for k, v in runs["notebook_median_s"].items())
        + ".",
    ]
    alone = figures["notebooks_alone"]
    lines += [
        "",
        f"Each notebook alone for {alone['la_code']} under papermill (IPC kernel, as the pack "
        "runs it), against its floor:",
        "",
        "| notebook | wall s | CPU s | floor CPU s | CPU s beyond its floor |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {name} | {f['full_s']} | {f['full_cpu_s']} | {f['floor_cpu_s']} | "
        f"{f['cpu_s_beyond_floor']} |"
        for name, f in alone["figures"].items()
    ]
    lines.append("")
    failed = runs["jobs_1_failed"] + runs["jobs_2_failed"]
    lines.append("- Councils that failed: " + ("; ".join(failed) if failed else "none") + ".")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
