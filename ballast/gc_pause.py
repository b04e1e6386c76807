"""Pausing Python's cyclic garbage collector around a short, allocation-heavy command.

`ballast audit` and `ballast preview` allocate hundreds of thousands of long-lived
objects (botocore's service models; the Pulumi SDK's resources, outputs and asyncio
tasks), so the collector runs often and each of its older-generation passes walks them
all again. Measured with the collector paused (`bench/audit.py`, `bench/preview.py`): an
audit of the bench estate went from 1.85 s to 1.43 s (0.14 s of that from a lighter import
in the same change, docs/audit.md), `ballast preview prod` from 4.5 s to 3.2 s, with its
peak memory 4-6 MiB higher. What they allocate is mostly freed by reference
counting; what is left in cycles waits for the collector's next run after the block.

When the process is one CLI command (`ballast.cli.main` says so through
`one_command_process()`), the block leaves the heap frozen instead (`gc.freeze`): the
collector's first pass after the block, and the interpreter's final collection at exit,
would otherwise walk everything the block allocated, for a process about to end. Called
in-process (a test, a library caller), the collector simply comes back on.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_one_command_process = False


def one_command_process() -> None:
    """Mark this process as one CLI command that exits when the command returns: blocks
    under `gc_paused()` then end with the heap frozen (`ballast.cli.main` calls it)."""
    global _one_command_process
    _one_command_process = True


@contextlib.contextmanager
def gc_paused(*, freeze: bool | None = None) -> Iterator[None]:
    """The cyclic collector off inside the block (or the decorated function), and back
    to its previous state after it, whether the block raised or not.

    `freeze` True moves every object alive at the end of the block into the collector's
    permanent generation before switching it back on, so it is never walked again, and
    what the block left unreachable in cycles is never collected. None (the default)
    freezes only in a process marked by `one_command_process()`."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _one_command_process if freeze is None else freeze:
            gc.freeze()
        if enabled:
            gc.enable()
