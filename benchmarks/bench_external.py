"""Time loading the published statistics: a cold parse, the disk cache and the memory cache.

Also times the all-LA stock-and-flow reconciliation and the boundary-change report, which
run on the whole table. Writes ``benchmarks/results/external_load.json`` and prints the
Markdown section for ``docs/performance.md``.

Run: ``python benchmarks/bench_external.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

from timing import write_figures

from analysis import external, stockflow
from analysis.paths import external_dir


def _median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median_cpu_seconds(action: Callable[[], object], repeat: int) -> float:
    """CPU time of this process: less disturbed than wall time when the machine is shared."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def _from_disk() -> None:
    external._load_cached.cache_clear()
    external.load_external()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    folder = external_dir()
    tidy = external.load_external()  # make sure the disk cache exists
    figures = {
        "cold_parse_s": _median_seconds(external.parse_all, args.repeat),
        "cold_parse_cpu_s": _median_cpu_seconds(external.parse_all, args.repeat),
        "disk_cache_s": _median_seconds(_from_disk, args.repeat),
        "memory_cache_s": _median_seconds(external.load_external, args.repeat),
        "fingerprint_s": _median_seconds(lambda: external._fingerprint(folder), args.repeat),
        "reconcile_all_las_s": _median_seconds(
            lambda: stockflow.reconcile_stock_flow(tidy), args.repeat
        ),
        "boundary_changes_s": _median_seconds(lambda: external.boundary_changes(tidy), args.repeat),
        "rows": len(tidy),
        "files": len(external.SOURCES),
        "repeat": args.repeat,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    write_figures("external_load.json", figures)
    print(
        "## Loading the published statistics (`benchmarks/bench_external.py`)\n\n"
        f"{figures['files']} files, {figures['rows']:,} tidy rows; median of "
        f"{figures['repeat']} runs; load average {figures['load_average_1min']:.1f} on "
        f"{figures['cpus']} cores while measuring.\n\n"
        "| step | seconds |\n|---|---|\n"
        f"| parse every file (no cache) | {figures['cold_parse_s']:.2f} |\n"
        f"| the same, CPU time of the process | {figures['cold_parse_cpu_s']:.2f} |\n"
        f"| load from the disk cache (new process) | {figures['disk_cache_s']:.3f} |\n"
        f"| load again in the same process | {figures['memory_cache_s']:.3f} |\n"
        f"| of which hashing the inputs (cache key) | {figures['fingerprint_s']:.3f} |\n"
        f"| reconcile CLA stock and flow, every LA | {figures['reconcile_all_las_s']:.2f} |\n"
        f"| boundary changes, every LA | {figures['boundary_changes_s']:.2f} |\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
