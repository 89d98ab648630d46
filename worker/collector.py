"""The cyclic garbage collector, set for a process that parses a million rows at a time."""

from __future__ import annotations

import gc

# Net new container objects between two young collections: a parsed slice of rows is copied
# and freed before a collection sees it, instead of being promoted into full collections that
# walk the whole heap (docs/performance.md, "Figures behind choices in the code").
YOUNG_COLLECTION_EVERY = 100_000


def settle() -> None:
    """Take what start-up built out of the collector's reach, and collect young objects seldom."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)
