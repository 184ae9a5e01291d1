"""The collector policy: what a process loads for its life is frozen once, and only once."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_freeze_moves_what_exists_out_of_collections_once_per_process():
    out = _run(
        """
        import gc
        from analysis.collector import freeze_long_lived
        assert gc.get_freeze_count() == 0
        freeze_long_lived()
        first = gc.get_freeze_count()
        later = [[n] for n in range(5000)]  # made after the freeze: left to the collector
        freeze_long_lived()
        print(first, gc.get_freeze_count() - first)
        """
    )
    first, added = map(int, out.split())
    assert first > 10_000  # the interpreter and the imported modules
    assert added == 0  # a second call would keep a council's dropped figures for ever


def test_loading_the_published_tables_freezes_them_with_the_modules():
    out = _run(
        """
        import gc
        from analysis.external import load_external
        before = gc.get_freeze_count()
        tidy = load_external()
        print(before, gc.get_freeze_count(), len(tidy))
        """
    )
    before, after, rows = map(int, out.split())
    assert before == 0
    assert after > 40_000  # pandas, numpy and the rest, no longer scanned at each collection
    assert rows > 100_000
