"""Where a backfill window starts in a log: bisection on line boundaries, not a full read.

A 2 GB log is answered in about 31 probes of a few KiB each. Log lines are taken to be in
time order; lines whose time cannot be read (continuations, noise) are stepped over.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sentinel.sources.follow import last_line_end

LineTime = Callable[[bytes], datetime | None]
PROBE_BLOCK = 1 << 14
PROBE_LIMIT = 1 << 20  # bytes scanned for a timed line before a probe gives up


def first_offset_at(path: Path, cutoff: datetime, line_time: LineTime) -> int:
    """The start of the first line whose time is >= `cutoff`, or the end of the last
    complete line when every line is older. For `Follower(path, None, offset=...)`."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        end = last_line_end(fd, os.fstat(fd).st_size)
        return _bisect(fd, end, cutoff, line_time)
    finally:
        os.close(fd)


def _bisect(fd: int, end: int, cutoff: datetime, line_time: LineTime) -> int:
    # the smallest offset whose probe finds a new line (or none): probes are monotone in
    # the offset when lines are in time order
    lo, hi = 0, end
    while lo < hi:
        mid = (lo + hi) // 2
        start, when = _probe(fd, mid, end, line_time)
        if when is None or when >= cutoff:
            hi = mid
        else:
            lo = start + 1  # every offset up to this old line's start finds an old line
    return _probe(fd, lo, end, line_time)[0]


def _line_start(fd: int, pos: int, end: int) -> int:
    """The first line start at or after `pos`."""
    if pos == 0:
        return 0
    at = pos - 1
    while at < end:
        data = os.pread(fd, min(PROBE_BLOCK, end - at), at)
        cut = data.find(b"\n")
        if cut >= 0:
            return at + cut + 1
        at += len(data)
    return end


def _probe(fd: int, pos: int, end: int, line_time: LineTime) -> tuple[int, datetime | None]:
    """The first line starting at or after `pos` whose time can be read: (start, time);
    (end, None) when there is none within PROBE_LIMIT bytes."""
    start = _line_start(fd, pos, end)
    limit = min(end, start + PROBE_LIMIT)
    pending = b""
    at = start
    while at < limit:
        data = os.pread(fd, min(PROBE_BLOCK, limit - at), at)
        if not data:
            break
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        line_start = at + len(data) - len(pending) - sum(len(x) + 1 for x in lines)
        for line in lines:
            when = line_time(line)
            if when is not None:
                return line_start, when
            line_start += len(line) + 1
        at += len(data)
    return end, None
