"""`brute_force_success`: a login that succeeded after many failed guesses, a likely break-in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sentinel.alerts import Alert
from sentinel.events import Event, Kind
from sentinel.extent import Extent, listing, magnitude
from sentinel.rules.base import NO_ALERTS, Counts, KeyTable, rule_alert
from sentinel.rules.fleet import FleetOptions, FleetView, account_name
from sentinel.rules.incident import IncidentGate, duration_text, moment
from sentinel.rules.settings import BruteForceSuccessSettings
from sentinel.textsafe import neutral

MAX_NAMES = 8  # user names or addresses named in the alert's details
MIN_ADDRESSES = 2  # the account variant: guesses from one address alone are its brute force
# Failures the server said were for an account it does not have: no success can follow them
# for that account, so the account view need not keep them (a flood of made-up names).
NO_ACCOUNT = frozenset({"invalid_user", "no_such_user"})
_LOGIN_FAILURE, _LOGIN_SUCCESS = Kind.LOGIN_FAILURE, Kind.LOGIN_SUCCESS
FLEET = FleetOptions()  # one server: IPv6 clients by their /64


Streak = tuple[Any, ...]
"""Failures of one key (an address, or an account), flat, the most compact container:
`(failures, first, other, time, other, time, ...)`. `failures` counts them since `first`
with no pause longer than the window; then come the last few, oldest first, `other` being
the user name tried (address key) or the address it came from (account key), "" when the
line named none. One failure of a fresh key is one 4-tuple sharing its float."""


def _add(streak: Streak | None, other: str, t: float, window: float, cap: int) -> Streak:
    if streak is None or t - streak[-1] > window:
        return (1, t, other, t)
    first = streak[1] if streak[1] <= t else t
    if len(streak) < 2 + 2 * cap:
        return (streak[0] + 1, first, *streak[2:], other, t)
    return (streak[0] + 1, first, *streak[4:], other, t)


def _pairs(streak: Streak) -> list[tuple[str, float]]:
    return [(streak[i], streak[i + 1]) for i in range(2, len(streak), 2)]


def _in_window(streak: Streak, start: float, end: float) -> list[tuple[str, float]]:
    return [pair for pair in _pairs(streak) if start <= pair[1] <= end]


def _without(streak: Streak, other: str) -> Streak | None:
    """The streak less the failures that named `other`; None when none is left."""
    kept = [x for pair in _pairs(streak) if pair[0] != other for x in pair]
    return (streak[0], streak[1], *kept) if kept else None


class BruteForceSuccessRule:
    """A login success after `max_failures` failures within `window` before it: from its
    address (any user names), or for its account from other addresses (at least two: the
    failures of one other address alone tell nothing of who got in elsewhere, and are that
    address's `brute_force`).

    A user who mistypes and then gets in is not an incident: a success forgets the failures
    it explains (its account's from its address), after the check. One alert per incident,
    keyed by the address (or, for the account variant, by the account); an incident goes on
    while such successes keep coming within `window` of each other. In a fleet an address
    counts across servers, an IPv6 client by its block (`fleet.address`), and an account
    per server unless the servers share their accounts (`fleet.account`); the account
    variant's "other addresses" are other blocks.

    State: per address, a count and its last `max_failures` (user, time) pairs; per account
    (failures for accounts the server said it has not are not kept),
    a count and its last `2 * max_failures - 1` (address, time) pairs (enough to find
    `max_failures` from other addresses while the success's own address has fewer); at
    most `max_tracked` addresses and as many accounts, stalest evicted first; plus the
    incident gate, one float per key, at most `max_tracked`; and the fleet view's servers
    and block addresses per key (rules/fleet.py), at most `2 * max_tracked` keys.
    """

    name = "brute_force_success"
    kinds = frozenset({_LOGIN_FAILURE, _LOGIN_SUCCESS})
    counts: Counts = "events"  # the failed logins: those before the success, and any after
    keyed_by: tuple[str, ...] = ("ip", "user")

    def __init__(
        self, settings: BruteForceSuccessSettings, *, server: str, fleet: FleetOptions = FLEET
    ) -> None:
        self.settings = settings
        self.server = server
        self.window = settings.window.total_seconds()
        self.limit = settings.max_failures
        self.addresses: KeyTable[Streak] = KeyTable(settings.max_tracked)
        self.accounts: KeyTable[Streak] = KeyTable(settings.max_tracked)
        self.gate = IncidentGate(self.window, settings.max_tracked)
        self.fleet = FleetView(fleet, self.window, 2 * settings.max_tracked)

    @property
    def evictions(self) -> int:
        return self.addresses.evictions + self.accounts.evictions + self.gate.evictions

    def _keys(self, event: Event) -> tuple[str | None, str | None]:
        """The address key (an IPv6 client's block) and the account key (per server)."""
        ip, user = event.ip, event.user
        block = self.fleet.address(ip) if ip is not None else None
        account = None
        if user is not None and not event.anonymous:
            account = self.fleet.account(event, user)
        return block, account

    def _note(self, event: Event, t: float, block: str | None, account: str | None) -> None:
        """The servers (and a block's addresses) of each key, for the alert (fleet only)."""
        fleet, ip = self.fleet, event.ip
        if block is not None and (event.server is not None or block is not ip):
            fleet.note(f"ip:{block}", event, t, block)
        if account is not None and event.server is not None:
            fleet.note(f"user:{account}", event, t)

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        if event.kind is _LOGIN_FAILURE:
            ip = event.ip
            if (
                ip is not None
                and event.detail in NO_ACCOUNT
                and event.server is None
                and ":" not in ip
            ):
                # a flood's every line: a made-up account (not kept) from an IPv4 client of
                # this server (its own key); `_failure` in short
                addresses, tried = self.addresses, event.user or ""
                found = addresses.swap(ip, (1, t, tried, t))  # a new streak: most likely
                if found is not None and t - found[-1] <= self.window:
                    addresses.amend(ip, _add(found, tried, t, self.window, self.limit))
                return NO_ALERTS
            self._failure(event, t)
            return NO_ALERTS
        ip, user = event.ip, event.user
        if event.server is None and (ip is None or ":" not in ip):
            # one server's IPv4 client (most successes): `_keys` inline, nothing to note
            block = ip
            account = user if user is not None and not event.anonymous else None
        else:
            block, account = self._keys(event)
            if event.server is not None or block is not ip:
                self._note(event, t, block, account)
        if event.anonymous or (ip is None and user is None):
            return NO_ALERTS  # anonymous sessions need no password to guess
        if (block is None or self.addresses.get(block) is None) and (
            account is None or self.accounts.get(account) is None
        ):
            return NO_ALERTS  # no failure before it (most successes): nothing to check, to forget
        alert = self._success(event, t, block, account)
        self._forget(event, block, account)
        return NO_ALERTS if alert is None else (alert,)

    def adds(self, event: Event, t: float) -> Sequence[str]:
        """Guessing goes on after the break-in: a failure from its address, or at its account."""
        if event.kind is not _LOGIN_FAILURE:
            return ()
        block, account = self._keys(event)
        subjects = [f"ip:{block}"] if block is not None else []
        if account is not None:
            subjects.append(f"user:{account}")
        return subjects

    def level(self, extent: Extent) -> tuple[int, int]:
        """In size: 10, 100, ... times `max_failures` failed logins."""
        return (0, magnitude(extent.count / self.limit))

    def describe(self, subject: str, extent: Extent) -> str:
        variant, _, key = subject.partition(":")
        span = duration_text(extent.span)
        if variant == "ip":
            users = extent.users
            who = listing(list(users.kept), users.total) or "an unnamed user"
            after = f"{extent.count} failed logins within {span}"
            return f"a login from {key} succeeded after {after} ({who})"
        ips = extent.ips
        where = listing(list(ips.kept), ips.total)
        key = account_name(key)
        return f"{key} logged in after {extent.count} failed logins within {span} from {where}"

    def _failure(self, event: Event, t: float) -> None:
        """`_keys` and `_note` inline, on most lines of a flood: the account key is made
        only where it is kept or noted."""
        ip, user, server = event.ip, event.user, event.server
        block = ip  # an IPv6 client counts by its block (an IPv4 one as it is: no call)
        if ip is not None and ":" in ip:
            block = self.fleet.address(ip)
        account = None
        keeps = event.detail not in NO_ACCOUNT
        if user is not None and not event.anonymous and (keeps or server is not None):
            # `fleet.account` inline for one server's user: the user as it is
            account = user if server is None else self.fleet.account(event, user)
        if server is not None or block is not ip:
            self._note(event, t, block, account)
        # a key's first failure without the call: `_add(None, ...)` inline
        if block is not None:
            found = self.addresses.pop(block)
            tried = user or ""
            if found is None:
                self.addresses.put(block, (1, t, tried, t))
            else:
                self.addresses.put(block, _add(found, tried, t, self.window, self.limit))
        if account is not None and keeps:
            found = self.accounts.pop(account)
            origin = block or ""
            if found is None:
                self.accounts.put(account, (1, t, origin, t))
            else:
                cap = 2 * self.limit - 1
                self.accounts.put(account, _add(found, origin, t, self.window, cap))

    def _success(
        self, event: Event, t: float, block: str | None, account: str | None
    ) -> Alert | None:
        start = t - self.window
        # a streak keeps `(len - 2) / 2` failures: one with fewer than `max_failures` cannot
        # make an alert, and is not looked into (most successes)
        enough = 2 + 2 * self.limit
        by_address = self.addresses.get(block) if block is not None else None
        if by_address is not None and len(by_address) < enough:
            by_address = None
        tried = _in_window(by_address, start, t) if by_address is not None else []
        if len(tried) >= self.limit and by_address is not None:
            key: tuple[str, str] = ("ip", block or "")
            if not self.gate.opens(key, t):
                return None
            names = [name for name, _ in tried if name]
            alert = self._alert(event, f"ip:{block}", by_address, tried, names)
            return self.fleet.finish(alert, alert.subject, event, t, block)
        by_account = self.accounts.get(account) if account is not None else None
        if by_account is None or len(by_account) < enough:
            return None
        others = [p for p in _in_window(by_account, start, t) if p[0] != (block or "")]
        addresses = [a for a, _ in others if a]
        if len(others) < self.limit or len(set(addresses)) < MIN_ADDRESSES:
            return None
        if not self.gate.opens(("user", account or ""), t):
            return None
        alert = self._alert(event, f"user:{account}", by_account, others, addresses)
        return self.fleet.finish(alert, alert.subject, event, t)

    def _forget(self, event: Event, block: str | None, account: str | None) -> None:
        """The failures this success explains: its account's, from its address."""
        user = event.user
        if block is None or user is None:
            return
        by_address = self.addresses.pop(block)
        if by_address is not None:
            # a name is a str, a count or time a number: never equal (no pair to drop)
            left = _without(by_address, user) if user in by_address else by_address
            if left is not None:
                self.addresses.put(block, left)
        by_account = self.accounts.pop(account) if account is not None else None
        if by_account is not None and account is not None:
            left = _without(by_account, block) if block in by_account else by_account
            if left is not None:
                self.accounts.put(account, left)

    def _alert(
        self,
        event: Event,
        subject: str,
        streak: Streak,
        failures: list[tuple[str, float]],
        others: list[str],
    ) -> Alert:
        ip, user = event.ip, event.user
        tz = event.ts.tzinfo
        distinct = list(dict.fromkeys(others))
        who = user or "an unnamed user"
        kind, _, key = subject.partition(":")
        variant = "address" if kind == "ip" else "account"
        if variant == "address":
            count = streak[0]
            after = f"{count} failed logins from {key}"
        else:
            # the streak counts all addresses; less the success's own still kept (its
            # older ones may have left the few kept: then the count is a little high)
            own = self.fleet.address(ip) if ip is not None else None
            count = max(streak[0] - _from(streak, own), len(failures))
            after = f"{count} failed logins for {who} from {len(distinct)} other addresses"
        since = moment(streak[1], tz)
        where = f" from {ip}" if ip else ""
        details: dict[str, Any] = {
            "variant": variant,
            "failures": count,
            "first_failure": since.isoformat(),
            "last_failure": moment(failures[-1][1], tz).isoformat(),
            "success": event.ts.isoformat(),
        }
        label = "users_tried" if variant == "address" else "failed_from"
        details[label] = [neutral(name) for name in distinct[-MAX_NAMES:]]
        return rule_alert(
            self,
            subject=subject,
            summary=f"{who} logged in{where} after {after} since {since:%H:%M:%S}",
            first_seen=since,
            last_seen=event.ts,
            source=event.source,
            user=user,
            ip=ip,
            count=count,
            details=details,
        )

    def expire(self, now: float) -> None:
        oldest = now - self.window
        self.addresses.expire(lambda streak: streak[-1] < oldest)
        self.accounts.expire(lambda streak: streak[-1] < oldest)
        self.gate.expire(now)
        self.fleet.expire(now)

    def dump(self) -> Any:
        def table(keys: KeyTable[Streak]) -> list[list[Any]]:
            return [[key, s[0], s[1], list(s[2:])] for key, s in keys.items()]

        return {
            "addresses": table(self.addresses),
            "accounts": table(self.accounts),
            "gate": self.gate.dump(),
        }

    def load(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise TypeError(f"{self.name}: a snapshot is a mapping, not {type(data).__name__}")
        for name, keys, cap in (
            ("addresses", self.addresses, self.limit),
            ("accounts", self.accounts, 2 * self.limit - 1),
        ):
            for key, count, first, recent in data.get(name, ()):
                pairs = [(str(recent[i]), float(recent[i + 1])) for i in range(0, len(recent), 2)]
                flat = tuple(x for pair in pairs[-cap:] for x in pair)
                if flat:
                    keys.touch(str(key), (int(count), float(first), *flat))
        self.gate.load(data.get("gate", []))


def _from(streak: Streak, ip: str | None) -> int:
    """Failures of an account's streak still kept that came from `ip`."""
    return sum(1 for other, _ in _pairs(streak) if other == (ip or ""))
