"""The garbage collector's view of what a process keeps for its whole life.

The pack's processes import pandas, matplotlib, statsmodels, IPython and nbconvert (about
200,000 objects the collector tracks) and keep the published tables for as long as they run.
Python's collector scans every tracked object at each full collection, and a notebook's
charts (matplotlib figures are reference cycles, freed only by the collector) start one every
council or two: each took about 0.2 s in a kernel and 0.1 s in the pack's own process, scanning
modules and tables that can never be garbage. :func:`freeze_long_lived` moves what exists at
that point out of the collector's sight, so its collections scan only what was made since.
"""

from __future__ import annotations

import gc

_frozen = False


def freeze_long_lived() -> None:
    """Move every object the collector tracks now out of its later collections, once a process.

    Call it when what the process keeps for its life is loaded (the modules, the published
    tables). Frozen objects are still freed when their last reference goes; only a reference
    cycle among them would stay, so this runs once per process rather than at every council,
    where it would keep each council's dropped figures.
    """
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
