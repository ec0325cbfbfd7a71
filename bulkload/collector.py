"""Python's cyclic garbage collector, set for a long run of short-lived objects.

A load makes millions of objects that live for one chunk or one page (rows, answers, the walk's listed entries) and
hold no reference cycles. At Python's default threshold (700 net allocations between collections of the youngest
generation) they start about 1,800 collections in a 500,000-row e-conomic load: 0.6 s of the command's 10 s CPU
(gc.callbacks, `benchmarks/data/economic-500000.csv` against the sandbox), every one of which also walks what
lives as long as the process. Cycles are still collected, only less often.
"""

from __future__ import annotations

import gc

#: net allocations of container objects between collections of the youngest generation (Python's default: 700)
YOUNG_THRESHOLD = 20_000


def for_a_long_run() -> None:
    """Keep what is alive now (the modules, the settings) out of every later collection (`gc.freeze`), and collect
    the youngest generation every YOUNG_THRESHOLD net allocations (the older ones as Python does: every 10th)."""
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)
