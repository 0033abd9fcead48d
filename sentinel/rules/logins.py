"""Rules on login patterns: brute force, password spraying, accounts shared between people."""

from __future__ import annotations

from bisect import bisect
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple, cast

from sentinel.alerts import Alert
from sentinel.events import Event, Kind
from sentinel.extent import Extent, listing, magnitude
from sentinel.rules.base import NO_ALERTS, Counts, KeyTable, Sessions, rule_alert
from sentinel.rules.fleet import FleetOptions, FleetView, account_name
from sentinel.rules.incident import IncidentGate, duration_text, moment
from sentinel.rules.settings import (
    BruteForceSettings,
    PasswordSpraySettings,
    SharedAccountSettings,
)

MAX_NAMES = 8  # user names or addresses kept per key for the alert's details
_NONE: tuple[str, ...] = ()
FLEET = FleetOptions()  # one server: IPv6 clients by their /64


Recent = tuple[Any, ...]
"""Members of one key (user names, or addresses) with the time each was last seen, least
recently seen first, flat: `(member, time, member, time, ...)`. One flat tuple is the
most compact container there is (56 bytes for one member): a flood of addresses is a
flood of keys with one member each. A member is a str, a time a float: never equal."""


def recent_add(recent: Recent, member: str, t: float, cap: int) -> Recent:
    """`member` seen at `t`, moved last; the least recent dropped beyond `cap` members."""
    if member in recent:
        at = recent.index(member)
        recent = recent[:at] + recent[at + 2 :]
    recent += (member, t)
    return recent[2:] if len(recent) > 2 * cap else recent


def recent_trim(recent: Recent, oldest: float) -> Recent:
    """Without the leading members last seen before `oldest`."""
    start = 0
    while start < len(recent) and recent[start + 1] < oldest:
        start += 2
    return recent[start:] if start else recent


class _MemberRule:
    """Shared plumbing of rules that count distinct members (users, addresses) per key."""

    name: str
    window: float
    cap: int
    table: KeyTable[Recent]
    gate: IncidentGate
    fleet: FleetView

    def _setup(self, window: float, max_tracked: int, cap: int, fleet: FleetOptions) -> None:
        self.window = window
        self.cap = cap
        self.table = KeyTable(max_tracked)
        self.gate = IncidentGate(window, max_tracked)
        self.fleet = FleetView(fleet, window, max_tracked)

    @property
    def evictions(self) -> int:
        return self.table.evictions + self.gate.evictions

    def _record(self, key: str, member: str, t: float) -> Recent:
        recent: Recent = (member, t)
        found = self.table.swap(key, recent)  # a key's first member: most likely
        if found is not None:
            recent = recent_trim(recent_add(found, member, t, self.cap), t - self.window)
            self.table.amend(key, recent)
        return recent

    def expire(self, now: float) -> None:
        oldest = now - self.window
        self.table.expire(lambda recent: recent[-1] < oldest)
        self.gate.expire(now)
        self.fleet.expire(now)

    def dump(self) -> Any:
        table = [[key, _pairs(recent)] for key, recent in self.table.items()]
        return {"table": table, "gate": self.gate.dump()}

    def load(self, data: Any) -> None:
        for key, members in data["table"]:
            recent: Recent = ()
            for member, t in members:
                recent = recent_add(recent, str(member), float(t), self.cap)
            if recent:
                self.table.touch(key, recent)
        self.gate.load(data["gate"])


def _pairs(recent: Recent) -> list[list[Any]]:
    return [[recent[i], recent[i + 1]] for i in range(0, len(recent), 2)]


Names = str | tuple[str, ...]
"""User names tried from one address, least recently first: the name itself when there is
one (the common case, and a flood's), a tuple of them when there are several."""


class _Failures(NamedTuple):
    """The failures of one address: the times of the last few, oldest first, and the names."""

    times: tuple[float, ...]
    users: Names | None


_failures = cast(
    "Callable[[tuple[tuple[float, ...], Names | None]], _Failures]",
    partial(tuple.__new__, _Failures),
)
"""`_Failures(times, users)` from the tuple `(times, users)`, without the generated
`__new__` (a Python call: on every failure, as costly as the rest of the rule's work)."""


def _tried(users: Names | None, user: str, cap: int = MAX_NAMES) -> Names:
    """`user` moved last among the names tried; the least recent dropped beyond `cap`."""
    if users is None or users == user:
        return user
    if isinstance(users, str):
        return (users, user)
    if users[-1] == user:
        return users
    if user in users:
        users = tuple(u for u in users if u != user)
    users += (user,)
    return users[1:] if len(users) > cap else users


def _names(users: Names | None) -> list[str]:
    if users is None:
        return []
    return [users] if isinstance(users, str) else list(users)


class BruteForceRule:
    """`max_failures` failed logins from one address within `window`.

    State per address: the times of its last `max_failures` failures and as many user
    names (at least 8), in tuples (about 175 bytes for an address seen once); at most
    `max_tracked` addresses, stalest evicted first. The names of an incident's opening
    are then all those its failures tried.
    """

    name = "brute_force"
    kinds = frozenset({Kind.LOGIN_FAILURE})
    counts: Counts = "events"
    keyed_by: tuple[str, ...] = ("ip",)

    def __init__(
        self, settings: BruteForceSettings, *, server: str, fleet: FleetOptions = FLEET
    ) -> None:
        self.settings = settings
        self.server = server
        self.window = settings.window.total_seconds()
        self.table: KeyTable[_Failures] = KeyTable(settings.max_tracked)
        self.gate = IncidentGate(self.window, settings.max_tracked)
        self._names = max(MAX_NAMES, settings.max_failures)
        self.fleet = FleetView(fleet, self.window, settings.max_tracked)

    @property
    def evictions(self) -> int:
        return self.table.evictions + self.gate.evictions

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip = event.ip
        if ip is None:
            return NO_ALERTS
        if ":" in ip:  # an IPv6 client counts by its block (an IPv4 one as it is: no call)
            ip = self.fleet.address(ip)
        if event.server is not None or ip is not event.ip:
            self.fleet.note(ip, event, t, ip)
        user = event.user
        limit = self.settings.max_failures
        times: tuple[float, ...] = (t,)
        users: Names | None = user or None
        # an address's first failure (a flood's every line) in one call; a later one amended
        entry = self.table.swap(ip, _failures((times, users)))
        if entry is not None:
            times = _within(entry.times, t, self.window, limit)
            users = _tried(entry.users, user, self._names) if user else entry.users
            self.table.amend(ip, _failures((times, users)))
        if len(times) < limit or not self.gate.opens(ip, t):
            return NO_ALERTS
        return (self.fleet.finish(self._alert(event, ip, times, users), ip, event, t, ip),)

    def adds(self, event: Event, t: float) -> Sequence[str]:
        ip = event.ip
        if ip is None:
            return _NONE
        return (ip,) if ":" not in ip else (self.fleet.address(ip),)  # IPv4: itself, no call

    def level(self, extent: Extent) -> tuple[int, int]:
        """In size: 10, 100, ... times `max_failures`."""
        return (0, magnitude(extent.count / self.settings.max_failures))

    def describe(self, subject: str, extent: Extent) -> str:
        users = extent.users
        target = _first(users.kept) if users.total == 1 else f"{users.total} accounts"
        span = duration_text(extent.span)
        return f"{extent.count} failed logins from {subject} within {span} ({target})"

    def _alert(self, event: Event, ip: str, times: tuple[float, ...], users: Names | None) -> Alert:
        names = _names(users)
        target = names[0] if len(names) == 1 else f"{len(names)} accounts"
        span = duration_text(times[-1] - times[0])
        return rule_alert(
            self,
            subject=ip,
            summary=f"{len(times)} failed logins from {ip} within {span} ({target})",
            first_seen=moment(times[0], event.ts.tzinfo),
            last_seen=moment(times[-1], event.ts.tzinfo),
            source=event.source,
            user=names[0] if len(names) == 1 else None,
            ip=event.ip,
            count=len(times),
            details={"users": names},
        )

    def expire(self, now: float) -> None:
        oldest = now - self.window
        self.table.expire(lambda entry: entry.times[-1] < oldest)
        self.gate.expire(now)
        self.fleet.expire(now)

    def dump(self) -> Any:
        table = [
            [ip, list(times), [[user, times[-1]] for user in _names(users)]]
            for ip, (times, users) in self.table.items()
        ]
        return {"table": table, "gate": self.gate.dump()}

    def load(self, data: Any) -> None:
        for ip, times, members in data["table"]:
            users: Names | None = None
            for member, _ in members:
                users = _tried(users, str(member), self._names)
            if times:
                self.table.touch(ip, _Failures(tuple(float(t) for t in times), users))
        self.gate.load(data["gate"])


def _first(members: dict[str, None]) -> str:
    return next(iter(members), "unknown")


def _within(times: tuple[float, ...], t: float, window: float, limit: int) -> tuple[float, ...]:
    """`times` with `t` in its place, less those out of the window or beyond `limit`."""
    if t >= times[-1]:
        times += (t,)
    else:  # two logs read in turn are not quite in time order
        at = bisect(times, t)
        times = (*times[:at], t, *times[at:])
    oldest = times[-1] - window
    start = max(len(times) - limit, 0)
    while times[start] < oldest:
        start += 1
    return times[start:] if start else times


class PasswordSprayRule(_MemberRule):
    """Failed logins for `max_users` distinct user names from one address within `window`.

    State per address: up to `max_users` user names with their last failure time, in one
    flat tuple (about 120 bytes for an address seen once); at most `max_tracked` addresses.
    """

    name = "password_spray"
    kinds = frozenset({Kind.LOGIN_FAILURE})
    counts: Counts = "users"
    keyed_by: tuple[str, ...] = ("ip",)

    def __init__(
        self, settings: PasswordSpraySettings, *, server: str, fleet: FleetOptions = FLEET
    ) -> None:
        self.settings = settings
        self.server = server
        window, cap = settings.window.total_seconds(), settings.max_users
        self._setup(window, settings.max_tracked, cap, fleet)

    def adds(self, event: Event, t: float) -> Sequence[str]:
        ip = event.ip
        if ip is None or event.user is None:
            return _NONE
        return (ip,) if ":" not in ip else (self.fleet.address(ip),)  # IPv4: itself, no call

    def level(self, extent: Extent) -> tuple[int, int]:
        """In size: 10, 100, ... times `max_users` user names."""
        return (0, magnitude(extent.users.total / self.settings.max_users))

    def describe(self, subject: str, extent: Extent) -> str:
        span = duration_text(extent.span)
        return f"failed logins for {extent.count} different users from {subject} within {span}"

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip, user = event.ip, event.user
        if ip is None or user is None:
            return NO_ALERTS
        if ":" in ip:  # an IPv6 client counts by its block (an IPv4 one as it is: no call)
            ip = self.fleet.address(ip)
        if event.server is not None or ip is not event.ip:
            self.fleet.note(ip, event, t, ip)
        recent = self._record(ip, user, t)
        if len(recent) < 2 * self.settings.max_users or not self.gate.opens(ip, t):
            return NO_ALERTS
        members, seen = recent[::2], recent[1::2]
        first, last = min(seen), max(seen)
        span = duration_text(last - first)
        alert = rule_alert(
            self,
            subject=ip,
            summary=f"failed logins for {len(members)} different users from {ip} within {span}",
            first_seen=moment(first, event.ts.tzinfo),
            last_seen=moment(last, event.ts.tzinfo),
            source=event.source,
            ip=ip,
            count=len(members),
            details={"users": list(members)},
        )
        return (self.fleet.finish(alert, ip, event, t, ip),)


class SharedAccountRule(_MemberRule):
    """One account logging in successfully from more than `max_ips` addresses within `window`.

    Anonymous sessions are not accounts and are left to `anonymous_access`. State per
    user: up to `max_ips + 1` addresses with their last login time; at most `max_tracked`
    users.
    """

    name = "shared_account"
    kinds = frozenset({Kind.LOGIN_SUCCESS})
    sessions: Sessions = "named"
    counts: Counts = "ips"
    keyed_by: tuple[str, ...] = ("user",)

    def __init__(
        self, settings: SharedAccountSettings, *, server: str, fleet: FleetOptions = FLEET
    ) -> None:
        self.settings = settings
        self.server = server
        window, cap = settings.window.total_seconds(), settings.max_ips + 1
        self._setup(window, settings.max_tracked, cap, fleet)

    def adds(self, event: Event, t: float) -> Sequence[str]:
        ip, user = event.ip, event.user
        if ip is None or user is None or event.anonymous:
            return _NONE
        return (self.fleet.account(event, user),)

    def level(self, extent: Extent) -> tuple[int, int]:
        """In size: every address the account gains."""
        return (0, extent.ips.total)

    def describe(self, subject: str, extent: Extent) -> str:
        ips = extent.ips
        span = duration_text(extent.span)
        where = listing(ips.listed(), ips.total, limit=10)
        user = account_name(subject)
        return f"{user} logged in from {ips.total} addresses within {span}: {where}"

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip, user = event.ip, event.user
        if ip is None or user is None or event.anonymous:
            return NO_ALERTS
        key = self.fleet.account(event, user)  # per server, unless one account base
        if event.server is not None:
            self.fleet.note(key, event, t)
        recent = self._record(key, ip, t)
        if len(recent) <= 2 * self.settings.max_ips or not self.gate.opens(key, t):
            return NO_ALERTS
        ips, seen = recent[::2], recent[1::2]
        first, last = min(seen), max(seen)
        span = duration_text(last - first)
        alert = rule_alert(
            self,
            subject=key,
            summary=f"{user} logged in from {len(ips)} addresses within {span}: " + ", ".join(ips),
            first_seen=moment(first, event.ts.tzinfo),
            last_seen=moment(last, event.ts.tzinfo),
            source=event.source,
            user=user,
            ips=ips,
            count=len(ips),
        )
        return (self.fleet.finish(alert, key, event, t),)
