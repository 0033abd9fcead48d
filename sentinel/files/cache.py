"""The inspections of files already read, by (device, inode, size, mtime): read once."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentinel.files.inspect import Inspection

CacheKey = tuple[int, int, int, int]  # device, inode, size, mtime in ns


class InspectionCache:
    """Bounded LRU of inspections; an unchanged file is not read again. At most `limit` keys."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._entries: OrderedDict[CacheKey, Inspection] = OrderedDict()

    def get(self, key: CacheKey) -> Inspection | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: CacheKey, value: Inspection) -> None:
        if self.limit <= 0:  # a one-shot scan: no file is looked at twice
            return
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def cache_key(st: os.stat_result) -> CacheKey:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
