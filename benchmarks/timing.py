"""Wall and CPU time of one action, shared by the benchmark scripts.

CPU time counts this process and the children it waited for (worker processes, kernels), so
it stays meaningful on a machine that other jobs keep busy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(action: Callable[[], object]) -> tuple[object, float, float]:
    """Run ``action``; return its result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = action()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu
