"""What every timed loop of the benchmarks shares: a collected, frozen heap.

Each timed call starts after a full garbage collection, so neither side pays for the
other's garbage. With LangChain, LangGraph and FastMCP loaded, the heap holds over 100,000
objects and a full collection walks them all (about 60 ms here), so thousands of calls
spent most of the run collecting. `frozen_heap` collects once and moves everything alive
to the collector's permanent generation (`gc.freeze`): each collection before a call then
walks only what the calls made, for both sides alike.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["frozen_heap"]


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Collect, freeze what is alive, and unfreeze when the timed loop ends."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
