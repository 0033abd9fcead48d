"""One full audit of a tree folded listing by listing: ages, stale files, files to look at.

Nothing is kept per file but what a finding needs: the oldest stale files' paths for the
alert's examples, a FileFact for a file to act on (or for every file, when asked).
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Callable
from typing import Any

from sentinel.config.model import DirectoryConfig
from sentinel.files.scan import FileFact, Listing, fact_from_stat
from sentinel.files.stale import EXAMPLES, StaleSummary, age_of

Inspect = Callable[[Listing, str, os.stat_result], bool]  # True: the file holds personal data


class Sweep:
    """Folds the listings of one tree. Memory: EXAMPLES paths, plus the facts it must keep."""

    def __init__(
        self,
        directory: DirectoryConfig,
        now: float,
        settle: float,
        inspect: Inspect | None,
        *,
        keep_facts: bool = False,
    ) -> None:
        self.age: Callable[[Any], float] = age_of(directory.age_by, "st_{}")  # on the lstat
        max_age = directory.max_age
        self.limit = None if max_age is None else now - max_age.total_seconds()
        self.now, self.settle, self.inspect = now, settle, inspect
        self.acting = directory.action in ("quarantine", "delete")
        self.keep_facts = keep_facts
        self.files = self.deferred = 0
        self.oldest: float | None = None
        self.stale_count = self.stale_bytes = 0
        self.stale_range = (math.inf, -math.inf)
        self.examples: list[tuple[float, int, str]] = []  # (age, walk order, path): oldest
        self.flagged: list[FileFact] = []  # to act on, in walk order
        self.facts: list[FileFact] = []  # every file, with keep_facts

    def add(self, listing: Listing) -> None:
        ages = list(map(self.age, [st for _, st in listing.files]))
        lowest = min(ages)
        if self.oldest is None or lowest < self.oldest:
            self.oldest = lowest
        limit = self.limit
        old = [] if limit is None else [i for i, age in enumerate(ages) if age <= limit]
        if old:
            self._stale(listing, ages, old)
        if self.keep_facts:
            prefix, reachable = listing.prefix, listing.reachable
            self.facts += [fact_from_stat(prefix + n, st, reachable) for n, st in listing.files]
        if self.inspect is not None or self.acting:
            self._each(listing, set(old))
        self.files += len(ages)

    def _stale(self, listing: Listing, ages: list[float], old: list[int]) -> None:
        files = listing.files
        self.stale_count += len(old)
        self.stale_bytes += sum(files[i][1].st_size for i in old)
        times = [ages[i] for i in old]
        low, high = self.stale_range
        self.stale_range = (min(low, *times), max(high, *times))
        # the oldest first, ties in walk order: what sorting every stale file would give
        oldest = heapq.nsmallest(EXAMPLES, old, key=ages.__getitem__)
        found = [(ages[i], self.files + i, listing.prefix + files[i][0]) for i in oldest]
        self.examples = sorted(self.examples + found)[:EXAMPLES]

    def _each(self, listing: Listing, stale: set[int]) -> None:
        """Per file, as the audit always did: inspect when settled, then flag for an action."""
        inspect = self.inspect
        for i, (name, st) in enumerate(listing.files):
            flagged = i in stale
            if inspect is not None and st.st_size:
                if self.now - st.st_mtime < self.settle:  # still being written: next scan
                    self.deferred += 1
                    continue
                flagged = inspect(listing, name, st) or flagged
            if flagged and self.acting:
                self.flagged.append(fact_from_stat(listing.prefix + name, st, listing.reachable))

    def summary(self) -> StaleSummary:
        first, last = self.stale_range
        return StaleSummary(
            count=self.stale_count,
            nbytes=self.stale_bytes,
            oldest=first,
            newest=last,
            examples=tuple(rel for _, _, rel in self.examples),
        )
