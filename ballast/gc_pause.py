"""Pausing Python's cyclic garbage collector around a short, allocation-heavy job.

An audit allocates hundreds of thousands of objects (botocore's service models, large
and long-lived, and every parsed answer), so the collector runs often, and each of its
older-generation passes walks the models again: about a tenth of an audit's CPU
(`bench/audit.py`). Nothing such a job keeps needs the collector: parsed answers are
plain dicts and lists, freed by reference counting. Its cycles (botocore clients and
their event hooks, for one) wait for the collector's next run after the block.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """The cyclic collector off inside the block (or the decorated function), and back
    to its previous state after it, whether the block raised or not.

    `freeze` (default False) moves every object alive at the end of the block into the
    collector's permanent generation (`gc.freeze`) before switching it back on: for a
    command whose process ends right after it. Otherwise the collector's first pass
    after the block walks everything the block allocated (~0.1 s after an audit), and
    so does the interpreter's final collection at exit. What the block left unreachable
    in cycles is then never collected, which only matters in a process that goes on
    (a test calling the command in-process)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()
