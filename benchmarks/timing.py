"""What the benchmark scripts share: the wall and CPU time of one action, and where their
figures are written (``benchmarks/results/<name>.json``).

CPU time counts this process and the children it waited for (worker processes, kernels), so
it stays meaningful on a machine that other jobs keep busy.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from analysis.paths import project_root
from analysis.store import atomic_write_text


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(action: Callable[[], object]) -> tuple[object, float, float]:
    """Run ``action``; return its result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = action()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def write_figures(name: str, figures: object) -> Path:
    """Write a benchmark's figures as ``benchmarks/results/<name>`` (JSON); return the path."""
    path = project_root() / "benchmarks" / "results" / name
    atomic_write_text(path, json.dumps(figures, indent=2) + "\n")
    return path


def load_average() -> float:
    """The machine's load average over the last minute (others' work slows a wall clock)."""
    return round(os.getloadavg()[0], 1)


def python_speed_s(steps: int = 5_000_000, repeats: int = 3) -> float:
    """CPU seconds of a fixed pure-Python loop (``steps`` additions), the best of ``repeats``.

    Machines of the same size differ by a factor of two to four in this loop from one session
    to the next, and the pack's seconds follow it: figures measured on different machines
    compare only beside this probe, while ratios and runs of old and new code back to back
    compare directly.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        total = 0
        for step in range(steps):
            total += step
        best = min(best, time.process_time() - start)
    return round(best, 3)


def machine() -> dict[str, object]:
    """What a benchmark's figures were measured on: cores, Python, the load at the start and
    the machine's speed (:func:`python_speed_s`)."""
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": load_average(),
        "python_loop_5m_s": python_speed_s(),
    }
