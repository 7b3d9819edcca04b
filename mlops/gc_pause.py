"""Pause Python's cyclic garbage collector while building many small tuples.

Bulk metric paths create a hundred thousand tuples at once. Each 700 new containers trigger a
collection, and as the batch grows the older generations are scanned again and again: a quarter of
the time of writing a large batch went to collections that could never find a cycle (the tuples
hold only strings and numbers). The collector is paused for such a block only; reference counting
still frees everything as usual.

If the collector is already disabled (by the user, or by another thread's pause) the block leaves it
alone, so it is never turned on by a pause that did not turn it off.

Example:
    >>> import gc
    >>> with gc_paused():
    ...     rows = [(i, "loss", float(i)) for i in range(10_000)]
    >>> gc.isenabled()
    True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block when it is enabled; enable it again after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
