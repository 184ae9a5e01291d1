"""Time the monthly pack: one month against its floor, and a 12-month batch on 1 and 2 jobs.

* **pack**: ``run_pack`` for one month with the real notebooks (papermill, HTML export, Excel
  workbook, index, hashes), as ``csc-finance pack --month`` runs it;
* **floor**: the same pack with every notebook's body emptied: the parameters cell, the
  Markdown and the import statements stay, so what is left is kernel start, imports, export
  and publishing; the difference is the notebooks' own work. Pack and floor are run in turn
  ``--repeats`` times (3 by default) and the medians compared, so one disturbed run on a
  shared machine does not decide the ratio;
* **batch**: ``run_batch`` over 12 consecutive months with ``jobs=1`` and ``jobs=2``.

Targets (issue 5): the pack costs at most 1.5x its floor, each HTML report is under 2 MB,
and the batch on two jobs takes at most 0.6x the time of one job. Packs are built in a
temporary folder, never in ``reports/``. Besides wall time the script records CPU time of
this process and its children (the kernels), which a busy shared machine disturbs less.
Writes ``benchmarks/results/pack.json`` and prints the Markdown section for
``docs/performance.md``.

Run: ``python benchmarks/bench_pack.py [--month 2025-03] [--repeats 3] [--batch-months 12]
[--skip-batch]``
"""

from __future__ import annotations

import argparse
import ast
import statistics
import tempfile
from pathlib import Path

import nbformat
from timing import load_average, machine, timed, write_figures

from analysis.pack import (
    PackOptions,
    find_notebooks,
    month_range,
    resolve_month,
    run_batch,
    run_pack,
)
from analysis.paths import notebooks_dir, project_root

HTML_LIMIT_BYTES = 2_000_000
FLOOR_RATIO_TARGET = 1.5
JOBS_RATIO_TARGET = 0.6


def _imports_only(source: str) -> str:
    """Keep a cell's top-level import statements (the floor still pays for imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""
    kept = [
        ast.get_source_segment(source, node)
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    return "\n".join(segment for segment in kept if segment)


def write_floor_notebooks(source_folder: Path, target: Path) -> list[Path]:
    """Copy the pack's notebooks with every code cell but the parameters reduced to imports."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in find_notebooks(source_folder):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
                cell.source = _imports_only(cell.source)
        nbformat.write(notebook, target / path.name)
        written.append(target / path.name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", default="latest", help="the month of the single pack")
    parser.add_argument("--repeats", type=int, default=3, help="runs of pack and floor each")
    parser.add_argument("--batch-months", type=int, default=12, help="months in the batch")
    parser.add_argument("--skip-batch", action="store_true", help="time only pack and floor")
    args = parser.parse_args(argv)

    month = resolve_month(args.month)
    quiet = lambda _line: None  # noqa: E731 - the benchmark prints its own summary
    figures: dict[str, object] = {
        "machine": machine(),
        "month": str(month),
        "notebooks": [p.name for p in find_notebooks(notebooks_dir())],
    }
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as scratch:
        root = Path(scratch)
        options = PackOptions(reports_root=root / "reports", notebooks_folder=notebooks_dir())
        floor_options = PackOptions(
            reports_root=root / "floor_reports", notebooks_folder=root / "floor_notebooks"
        )
        write_floor_notebooks(notebooks_dir(), root / "floor_notebooks")

        # One untimed run of each first, so the timed runs find warm disk caches.
        run_pack(month, floor_options, progress=quiet)
        run_pack(month, options, progress=quiet)
        runs: dict[str, list[tuple[float, float]]] = {"pack": [], "floor": []}
        results = []
        for _ in range(args.repeats):
            result, pack_s, pack_cpu = timed(lambda: run_pack(month, options, progress=quiet))
            results.append(result)
            runs["pack"].append((pack_s, pack_cpu))
            _floor, floor_s, floor_cpu = timed(
                lambda: run_pack(month, floor_options, progress=quiet)
            )
            runs["floor"].append((floor_s, floor_cpu))
        pack_s, pack_cpu = (statistics.median(t) for t in zip(*runs["pack"], strict=True))
        floor_s, floor_cpu = (statistics.median(t) for t in zip(*runs["floor"], strict=True))
        html = {run.html: (result.folder / run.html).stat().st_size for run in result.notebooks}
        html["index.html"] = (result.folder / "index.html").stat().st_size
        figures["pack"] = {
            "repeats": args.repeats,
            "pack_runs_s": [round(wall, 1) for wall, _cpu in runs["pack"]],
            "floor_runs_s": [round(wall, 1) for wall, _cpu in runs["floor"]],
            "pack_s": round(pack_s, 1),
            "pack_cpu_s": round(pack_cpu, 1),
            "floor_s": round(floor_s, 1),
            "floor_cpu_s": round(floor_cpu, 1),
            "pack_over_floor": round(pack_s / floor_s, 2),
            "pack_over_floor_cpu": round(pack_cpu / floor_cpu, 2),
            "notebook_s": {
                name: statistics.median(
                    next(run.seconds for run in r.notebooks if run.notebook == name)
                    for r in results
                )
                for name in figures["notebooks"]
            },
            "html_bytes": html,
            "largest_html_bytes": max(html.values()),
            "load_average_after": load_average(),
        }

        if not args.skip_batch:
            last = month
            first = last - (args.batch_months - 1)
            months = month_range(first, last)
            batch: dict[str, object] = {"months": [str(m) for m in months]}
            for jobs in (1, 2):
                batch_options = PackOptions(
                    reports_root=root / f"batch_{jobs}", notebooks_folder=notebooks_dir()
                )
                outcomes, seconds, cpu = timed(
                    lambda o=batch_options, j=jobs: run_batch(months, o, jobs=j, progress=quiet)
                )
                batch[f"jobs_{jobs}_s"] = round(seconds, 1)
                batch[f"jobs_{jobs}_cpu_s"] = round(cpu, 1)
                batch[f"jobs_{jobs}_failed"] = {
                    o.month: o.message for o in outcomes if not o.published
                }
                batch[f"load_average_after_jobs_{jobs}"] = load_average()
            batch["jobs_2_over_jobs_1"] = round(batch["jobs_2_s"] / batch["jobs_1_s"], 2)
            figures["batch"] = batch

    pack = figures["pack"]
    figures["targets"] = {
        "pack_over_floor_at_most": FLOOR_RATIO_TARGET,
        "pack_over_floor_met": pack["pack_over_floor"] <= FLOOR_RATIO_TARGET,
        "html_under_bytes": HTML_LIMIT_BYTES,
        "html_met": pack["largest_html_bytes"] < HTML_LIMIT_BYTES,
    }
    if "batch" in figures:
        figures["targets"]["jobs_2_over_jobs_1_at_most"] = JOBS_RATIO_TARGET
        figures["targets"]["jobs_met"] = figures["batch"]["jobs_2_over_jobs_1"] <= (
            JOBS_RATIO_TARGET
        )
    out = write_figures("pack.json", figures)
    print(markdown_section(figures))
    print(f"\nFigures written to {out.relative_to(project_root())}.")
    return 0


def markdown_section(figures: dict) -> str:
    """Return the "Monthly pack" section of ``docs/performance.md``."""
    pack = figures["pack"]
    machine = figures["machine"]
    lines = [
        "## Monthly pack (`benchmarks/bench_pack.py`)",
        "",
        f"{len(figures['notebooks'])} notebooks ({', '.join(figures['notebooks'])}) for "
        f"{figures['month']}, built in a temporary folder with `analysis.pack.run_pack` (what "
        f"`csc-finance pack --month` runs); {machine['cores']} cores, Python "
        f"{machine['python']}; load average {machine['load_average_at_start']} when the run "
        f"started; a 5-million-step Python loop took {machine['python_loop_5m_s']} s "
        "(`timing.python_speed_s`: machine speed). CPU time counts this process and its kernels.",
        "",
        f"Pack and floor were each run {pack['repeats']} times, in turn; the table gives the "
        f"medians (pack runs {', '.join(map(str, pack['pack_runs_s']))} s, floor runs "
        f"{', '.join(map(str, pack['floor_runs_s']))} s).",
        "",
        "| measure | wall s | CPU s | target |",
        "|---|---:|---:|---|",
        f"| pack, one month | {pack['pack_s']} | {pack['pack_cpu_s']} | |",
        f"| floor (bodies emptied: kernel start, imports, export) | {pack['floor_s']} | "
        f"{pack['floor_cpu_s']} | |",
        f"| pack / floor | {pack['pack_over_floor']}x | {pack['pack_over_floor_cpu']}x | "
        f"at most {FLOOR_RATIO_TARGET}x: "
        f"{'met' if figures['targets']['pack_over_floor_met'] else 'not met'} |",
    ]
    if "batch" in figures:
        batch = figures["batch"]
        months = batch["months"]
        lines += [
            f"| batch of {len(months)} months ({months[0]} to {months[-1]}), 1 job | "
            f"{batch['jobs_1_s']} | {batch['jobs_1_cpu_s']} | |",
            f"| the same batch, 2 jobs | {batch['jobs_2_s']} | {batch['jobs_2_cpu_s']} | |",
            f"| 2 jobs / 1 job | {batch['jobs_2_over_jobs_1']}x | | at most "
            f"{JOBS_RATIO_TARGET}x: {'met' if figures['targets']['jobs_met'] else 'not met'} |",
        ]
        failed = {**batch["jobs_1_failed"], **batch["jobs_2_failed"]}
        if failed:
            lines += ["", f"Months that failed during the batch: {', '.join(sorted(failed))}."]
    lines += ["", "Each notebook's run in the single pack (median seconds, papermill only):", ""]
    lines += [f"- {name}: {seconds}" for name, seconds in pack["notebook_s"].items()]
    lines += ["", f"HTML sizes (target under {HTML_LIMIT_BYTES / 1e6:.0f} MB each):", ""]
    lines += [f"- {name}: {size / 1e6:.2f} MB" for name, size in pack["html_bytes"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
