"""An incident's extent: what it covers so far (count, bytes, time span, addresses, users,
files), capped, with exact totals beside the lists. Rules read it to say what an incident
amounts to (`level`, `describe`); the incident tracker keeps it.

Memory: at most CAP addresses, users and files each, and beyond CAP a hash per distinct
value up to DISTINCT_MAX (totals exact up to there, an upper bound beyond).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from sentinel.alerts import safe_text
from sentinel.events import Event, Kind
from sentinel.textsafe import MAX_FIELD

CAP = 100  # addresses, users and files listed per incident
DISTINCT_MAX = 10_000  # distinct values counted exactly beyond CAP (hashes kept)
MAX_SERVERS = 64  # servers of a fleet named per incident
_TRANSFER = Kind.TRANSFER


class Members:
    """Distinct values (addresses, user names) of one incident: the first CAP kept, in
    order, and their total. Beyond CAP only a hash of each is kept, up to DISTINCT_MAX."""

    __slots__ = ("kept", "seen", "total")

    def __init__(self) -> None:
        self.kept: dict[str, None] = {}
        self.seen: set[int] | None = None  # made when CAP is reached
        self.total = 0

    def add(self, value: str) -> bool:
        """True when `value` is new to the incident."""
        kept = self.kept
        if value in kept:
            return False
        if len(kept) < CAP:
            kept[value] = None
        else:
            seen = self.seen
            if seen is None:
                seen = self.seen = set()
            digest = hash(value)
            if digest in seen:
                return False
            if len(seen) < DISTINCT_MAX:
                seen.add(digest)
        self.total += 1
        return True

    def listed(self) -> tuple[str, ...]:
        return tuple(self.kept)


class Extent:
    """What an incident covers so far: the figures its records carry."""

    __slots__ = (
        "count",
        "files",
        "files_total",
        "first",
        "first_ts",
        "ips",
        "last",
        "last_ts",
        "nbytes",
        "servers",
        "users",
    )

    def __init__(
        self,
        first_ts: datetime,
        last_ts: datetime,
        first: float | None = None,
        last: float | None = None,
    ) -> None:
        self.first_ts, self.last_ts = first_ts, last_ts
        self.last = last_ts.timestamp() if last is None else last
        if first is None:
            first = self.last if first_ts is last_ts else first_ts.timestamp()
        self.first = first
        self.count = 0
        self.nbytes: int | None = None
        self.ips = Members()
        self.users = Members()
        self.files: dict[str, None] = {}  # distinct paths, up to CAP
        self.files_total = 0  # every file transferred
        # the fleet's servers that took part: name -> time of its first event, in the order
        # they came; empty for a sentinel on one server (its events name none)
        self.servers: dict[str, float] = {}

    def add(self, event: Event, t: float) -> None:
        """The event's time, address, user, server, and its file and bytes if a transfer."""
        if t >= self.last:
            self.last, self.last_ts = t, event.ts
        elif t < self.first:
            self.first, self.first_ts = t, event.ts
        # a member already kept is not added again (a kept name is its own safe_text: the
        # name as logged is then that already)
        ip, user = event.ip, event.user
        if ip is not None and ip not in self.ips.kept:
            self.ips.add(ip)
        if user is not None and user not in self.users.kept:
            self.users.add(safe_text(user, MAX_FIELD))
        if event.server is not None:
            self.add_server(event.server, t)
        if event.kind is _TRANSFER and event.ok:
            self.nbytes = (self.nbytes or 0) + (event.nbytes or 0)
            if event.path is not None:
                self.add_file(event.path)

    def add_server(self, server: str, t: float) -> None:
        server = safe_text(server, MAX_FIELD)  # as the opening alert names it
        servers = self.servers
        first = servers.get(server)
        if first is None:
            if len(servers) < MAX_SERVERS:
                servers[server] = t
        elif t < first:
            servers[server] = t

    def first_server(self) -> str | None:
        """The server whose event came first (of equal times, the one seen first)."""
        servers = self.servers
        return min(servers, key=servers.__getitem__) if servers else None

    def add_file(self, path: str, *, neutral: bool = False) -> None:
        """One more file; `neutral`: `path` is already safe_text(path, 400) (an alert's)."""
        self.files_total += 1
        if len(self.files) < CAP:
            self.files[path if neutral else safe_text(path, 400)] = None

    @property
    def span(self) -> float:
        return self.last - self.first


def magnitude(ratio: float) -> int:
    """0 below 10 times a threshold, 1 from 10 times, 2 from 100 times, ..."""
    return int(math.log10(ratio)) if ratio >= 10 else 0


def listing(values: Sequence[str], total: int, limit: int = 3) -> str:
    """`a, b, c and 12 more`: the first few of a list, and how many it leaves out."""
    if total == 1 and len(values) == 1:  # most incidents: one address, one name
        return values[0]
    shown = ", ".join(values[:limit])
    more = total - min(len(values), limit)
    return f"{shown} and {more} more" if more > 0 else shown
