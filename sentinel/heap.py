"""The garbage collector, set for a process that reads many lines into long-lived tables.

Every line makes a few container objects (events, rule state tuples) and the rules keep
tens of thousands of keys; with CPython's default gen-0 threshold (700) the collector runs
every few lines and its full passes traverse everything alive, imports and configuration
included. `settle`, once the process has set itself up, moves what is alive then out of the
collector's sight (`gc.freeze`: nothing of it is garbage before the process ends or
reloads) and collects the young generation every GEN0 allocations instead. Measured with
callgrind (as bench/against.py --instructions counts) on 30k lines of the flood: 3.2%
fewer instructions with GEN0 10,000, 3.8% with 100,000 (about 1% on vsftpd.log); beyond, the
gain stops growing with the threshold while the garbage it lets wait does.

Memory: only cyclic garbage waits, for at most GEN0 more allocations (what a line makes is
freed by reference counting as soon as it is dropped; sentinel's own objects form no cycles,
an exception caught with its traceback does).
"""

from __future__ import annotations

import gc

GEN0 = 100_000  # allocations of container objects between two young collections
GEN1, GEN2 = 10, 10  # CPython's defaults


def settle() -> None:
    """Call once set up, and again after a reload replaced what was set up before: what
    an earlier call froze is given back to the collector first, and collected if dropped."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0, GEN1, GEN2)
