"""Rules on login patterns: brute force, password spraying, accounts shared between people."""

from __future__ import annotations

from bisect import insort
from collections.abc import Sequence
from typing import Any

from sentinel.alerts import Alert
from sentinel.events import Event, Kind
from sentinel.rules.base import NO_ALERTS, KeyTable, rule_alert
from sentinel.rules.incident import IncidentGate, duration_text, moment
from sentinel.rules.settings import (
    BruteForceSettings,
    PasswordSpraySettings,
    SharedAccountSettings,
)

MAX_NAMES = 8  # user names or addresses kept per key for the alert's details


class _Recent:
    """Last-seen time per member (user name or address) of one key, oldest first."""

    __slots__ = ("members",)

    def __init__(self) -> None:
        self.members: dict[str, float] = {}

    def add(self, member: str, t: float, cap: int) -> None:
        members = self.members
        members.pop(member, None)
        members[member] = t
        if len(members) > cap:
            del members[next(iter(members))]

    def trim(self, oldest: float) -> None:
        members = self.members
        while members:
            first = next(iter(members))
            if members[first] >= oldest:
                return
            del members[first]

    def last(self) -> float:
        return next(reversed(self.members.values()))


class _MemberRule:
    """Shared plumbing of rules that count distinct members (users, addresses) per key."""

    name: str
    window: float
    cap: int
    table: KeyTable[_Recent]
    gate: IncidentGate

    def _setup(self, window: float, max_tracked: int, cap: int) -> None:
        self.window = window
        self.cap = cap
        self.table = KeyTable(max_tracked)
        self.gate = IncidentGate(window, max_tracked)

    @property
    def evictions(self) -> int:
        return self.table.evictions + self.gate.evictions

    def _record(self, key: str, member: str, t: float) -> _Recent:
        recent = self.table.get(key) or _Recent()
        recent.add(member, t, self.cap)
        recent.trim(t - self.window)
        self.table.touch(key, recent)
        return recent

    def expire(self, now: float) -> None:
        oldest = now - self.window
        self.table.expire(lambda recent: recent.last() < oldest)
        self.gate.expire(now)

    def dump(self) -> Any:
        table = [[key, list(r.members.items())] for key, r in self.table.items()]
        return {"table": table, "gate": self.gate.dump()}

    def load(self, data: Any) -> None:
        for key, members in data["table"]:
            recent = _Recent()
            for member, t in members:
                recent.add(member, float(t), self.cap)
            self.table.touch(key, recent)
        self.gate.load(data["gate"])


class BruteForceRule:
    """`max_failures` failed logins from one address within `window`.

    State per address: the times of its last `max_failures` failures and up to 8 user
    names; at most `max_tracked` addresses, stalest evicted first.
    """

    name = "brute_force"
    kinds = frozenset({Kind.LOGIN_FAILURE})

    def __init__(self, settings: BruteForceSettings, *, server: str) -> None:
        self.settings = settings
        self.server = server
        self.window = settings.window.total_seconds()
        self.table: KeyTable[tuple[list[float], _Recent]] = KeyTable(settings.max_tracked)
        self.gate = IncidentGate(self.window, settings.max_tracked)

    @property
    def evictions(self) -> int:
        return self.table.evictions + self.gate.evictions

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip = event.ip
        if ip is None:
            return NO_ALERTS
        entry = self.table.get(ip) or ([], _Recent())
        times, users = entry
        insort(times, t)  # two logs read in turn are not quite in time order
        oldest = times[-1] - self.window
        limit = self.settings.max_failures
        while times[0] < oldest or len(times) > limit:
            del times[0]
        if event.user:
            users.add(event.user, t, MAX_NAMES)
        self.table.touch(ip, entry)
        if len(times) < limit or not self.gate.opens(ip, t):
            return NO_ALERTS
        return (self._alert(event, times, users),)

    def _alert(self, event: Event, times: list[float], users: _Recent) -> Alert:
        names = list(users.members)
        target = names[0] if len(names) == 1 else f"{len(names)} accounts"
        span = duration_text(times[-1] - times[0])
        return rule_alert(
            self,
            subject=event.ip or "",
            summary=f"{len(times)} failed logins from {event.ip} within {span} ({target})",
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
        self.table.expire(lambda entry: entry[0][-1] < oldest)
        self.gate.expire(now)

    def dump(self) -> Any:
        table = [
            [ip, times, list(users.members.items())] for ip, (times, users) in self.table.items()
        ]
        return {"table": table, "gate": self.gate.dump()}

    def load(self, data: Any) -> None:
        for ip, times, members in data["table"]:
            users = _Recent()
            for member, t in members:
                users.add(member, float(t), MAX_NAMES)
            self.table.touch(ip, ([float(t) for t in times], users))
        self.gate.load(data["gate"])


class PasswordSprayRule(_MemberRule):
    """Failed logins for `max_users` distinct user names from one address within `window`.

    State per address: up to `max_users` user names with their last failure time; at most
    `max_tracked` addresses.
    """

    name = "password_spray"
    kinds = frozenset({Kind.LOGIN_FAILURE})

    def __init__(self, settings: PasswordSpraySettings, *, server: str) -> None:
        self.settings = settings
        self.server = server
        self._setup(settings.window.total_seconds(), settings.max_tracked, settings.max_users)

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip, user = event.ip, event.user
        if ip is None or user is None:
            return NO_ALERTS
        recent = self._record(ip, user, t)
        members = recent.members
        if len(members) < self.settings.max_users or not self.gate.opens(ip, t):
            return NO_ALERTS
        first, last = min(members.values()), max(members.values())
        span = duration_text(last - first)
        return (
            rule_alert(
                self,
                subject=ip,
                summary=f"failed logins for {len(members)} different users from {ip} within {span}",
                first_seen=moment(first, event.ts.tzinfo),
                last_seen=moment(last, event.ts.tzinfo),
                source=event.source,
                ip=ip,
                count=len(members),
                details={"users": list(members)},
            ),
        )


class SharedAccountRule(_MemberRule):
    """One account logging in successfully from more than `max_ips` addresses within `window`.

    Anonymous sessions are not accounts and are left to `anonymous_access`. State per
    user: up to `max_ips + 1` addresses with their last login time; at most `max_tracked`
    users.
    """

    name = "shared_account"
    kinds = frozenset({Kind.LOGIN_SUCCESS})

    def __init__(self, settings: SharedAccountSettings, *, server: str) -> None:
        self.settings = settings
        self.server = server
        self._setup(settings.window.total_seconds(), settings.max_tracked, settings.max_ips + 1)

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip, user = event.ip, event.user
        if ip is None or user is None or event.anonymous:
            return NO_ALERTS
        recent = self._record(user, ip, t)
        members = recent.members
        if len(members) <= self.settings.max_ips or not self.gate.opens(user, t):
            return NO_ALERTS
        first, last = min(members.values()), max(members.values())
        ips = tuple(members)
        span = duration_text(last - first)
        return (
            rule_alert(
                self,
                subject=user,
                summary=f"{user} logged in from {len(ips)} addresses within {span}: "
                + ", ".join(ips),
                first_seen=moment(first, event.ts.tzinfo),
                last_seen=moment(last, event.ts.tzinfo),
                source=event.source,
                user=user,
                ips=ips,
                count=len(ips),
            ),
        )
