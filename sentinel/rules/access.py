"""Rules on who got in: anonymous access, logins from untrusted networks, off-hours logins."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import tzinfo

from sentinel.alerts import Alert, human_size
from sentinel.events import Direction, Event, Kind
from sentinel.extent import Extent, listing
from sentinel.rules.base import NO_ALERTS, Counts, Sessions, rule_alert
from sentinel.rules.fleet import FleetOptions, FleetView, account_name
from sentinel.rules.incident import GatedRule, IncidentGate
from sentinel.rules.networks import TrustedNetworks
from sentinel.rules.settings import (
    AnonymousAccessSettings,
    OffHoursSettings,
    UntrustedNetworkSettings,
)

FLEET = FleetOptions()  # one server: IPv6 clients by their /64
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


_NONE: tuple[str, ...] = ()


def _first(members: dict[str, None], default: str = "unknown") -> str:
    return next(iter(members), default)


def _what(event: Event) -> str:
    if event.kind is Kind.TRANSFER:
        return "download" if event.direction is Direction.DOWNLOAD else "upload"
    return "login"


def _anonymous_subject(event: Event) -> str:
    """The client, and in a fleet its server: a server open to anonymous users is that
    server's incident, whether or not the servers share their accounts."""
    client = event.ip or event.session or "unknown"
    return client if event.server is None else f"{event.server}\x00{client}"


class AnonymousAccessRule(GatedRule):
    """An anonymous login or transfer: one alert per client address and incident.

    State: one timestamp per address seen anonymously within `window`, capped at
    `max_tracked` addresses.
    """

    name = "anonymous_access"
    kinds = frozenset({Kind.LOGIN_SUCCESS, Kind.TRANSFER})
    sessions: Sessions = "anonymous"
    counts: Counts = "events"
    keyed_by: tuple[str, ...] = ("ip",)

    def __init__(self, settings: AnonymousAccessSettings, *, server: str) -> None:
        self.settings = settings
        self.server = server
        self.window = settings.window.total_seconds()
        self.gate = IncidentGate(self.window, settings.max_tracked)

    def adds(self, event: Event, t: float) -> Sequence[str]:
        if not event.anonymous or not event.ok:
            return _NONE
        return (_anonymous_subject(event),)

    def level(self, extent: Extent) -> tuple[int, int]:
        """In kind: a session that starts transferring files."""
        return (1 if extent.files_total else 0, 0)

    def describe(self, subject: str, extent: Extent) -> str:
        ips = extent.ips.kept
        where = f" from {_first(ips)}" if ips else ""
        if not extent.files_total:
            logins = f" ({extent.count} logins)" if extent.count > 1 else ""
            return f"anonymous login{where}{logins}"
        files = listing(tuple(extent.files), extent.files_total)
        size = human_size(extent.nbytes or 0)
        return (
            f"anonymous access{where}: {extent.files_total} file(s) transferred ({size}): {files}"
        )

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        if not event.anonymous or not event.ok:
            return NO_ALERTS
        subject = _anonymous_subject(event)
        if not self.gate.opens(subject, t):
            return NO_ALERTS
        what = _what(event)
        where = f" from {event.ip}" if event.ip else ""
        summary = f"anonymous {what}{where}"
        if event.kind is Kind.TRANSFER and event.path:
            summary += f": {event.path}"
        return (
            rule_alert(
                self,
                subject=subject,
                summary=summary,
                first_seen=event.ts,
                last_seen=event.ts,
                source=event.source,
                user=event.user,
                ip=event.ip,
                path=event.path if event.kind is Kind.TRANSFER else None,
                count=1,
                nbytes=event.nbytes,
                origin=event.server,
            ),
        )


class UntrustedNetworkRule(GatedRule):
    """A successful login from outside `networks.trusted`: one alert per user, address, incident.

    State: one timestamp per (user, address) within `window`, capped at `max_tracked`;
    plus the verdicts of its TrustedNetworks (sentinel.rules.networks).
    """

    name = "untrusted_network"
    kinds = frozenset({Kind.LOGIN_SUCCESS})
    counts: Counts = "events"
    keyed_by: tuple[str, ...] = ("ip",)
    opens_as_record = True  # its alert says what `describe` says of one login
    fleet: FleetView

    def __init__(
        self,
        settings: UntrustedNetworkSettings,
        *,
        server: str,
        trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network],
        fleet: FleetOptions = FLEET,
    ) -> None:
        self.settings = settings
        self.server = server
        self.trusted = TrustedNetworks(trusted)
        self.window = settings.window.total_seconds()
        self.gate = IncidentGate(self.window, settings.max_tracked)
        self.fleet = FleetView(fleet, self.window, settings.max_tracked)

    def adds(self, event: Event, t: float) -> Sequence[str]:
        ip = event.ip
        if ip is None or ip in self.trusted:
            return _NONE
        return (f"{event.user or 'unknown'}\x00{self.fleet.address(ip)}",)

    def level(self, extent: Extent) -> tuple[int, int]:
        return (0, 0)

    def describe(self, subject: str, extent: Extent) -> str:
        user, _, block = subject.partition("\x00")
        ips = extent.ips
        where = listing(ips.listed(), ips.total) if ips.total else block
        logins = f" ({extent.count} logins)" if extent.count > 1 else ""
        return f"{user} logged in from {where}, outside the trusted networks{logins}"

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        ip = event.ip
        if ip is None:
            return NO_ALERTS
        if ip in self.trusted:
            return NO_ALERTS
        user = event.user or "unknown"
        block = self.fleet.address(ip)  # across servers; an IPv6 client by its block
        subject = f"{user}\x00{block}"
        if event.server is not None or block is not ip:
            self.fleet.note(subject, event, t, block)
        if not self.gate.opens((user, block), t):
            return NO_ALERTS
        alert = rule_alert(
            self,
            subject=subject,
            summary=f"{user} logged in from {ip}, outside the trusted networks",
            first_seen=event.ts,
            last_seen=event.ts,
            source=event.source,
            user=user,
            ip=ip,
            count=1,
        )
        return (self.fleet.finish(alert, subject, event, t, block),)


class OffHoursRule(GatedRule):
    """A successful login outside the configured hours and days, in the configured zone.

    State: one timestamp per user within `window`, capped at `max_tracked`.
    """

    name = "off_hours"
    kinds = frozenset({Kind.LOGIN_SUCCESS})
    counts: Counts = "events"
    keyed_by: tuple[str, ...] = ("user",)
    opens_as_record = True  # its alert says what `describe` says of one login
    fleet: FleetView

    def __init__(
        self,
        settings: OffHoursSettings,
        *,
        server: str,
        tz: tzinfo,
        fleet: FleetOptions = FLEET,
    ) -> None:
        self.settings = settings
        self.server = server
        self.tz = tz
        self.window = settings.window.total_seconds()
        self.gate = IncidentGate(self.window, settings.max_tracked)
        self.fleet = FleetView(fleet, self.window, settings.max_tracked)
        hours = settings.hours
        # hours in whole minutes: one verdict for every second of a minute
        self._minutely = all(h.second == 0 and h.microsecond == 0 for h in (hours.start, hours.end))
        self._minute, self._inside = -1.0, False  # the last minute (epoch // 60) and its verdict
        self._allowed = f"{hours.start:%H:%M}-{hours.end:%H:%M}"

    def _working(self, event: Event, t: float) -> bool:
        """Whether the event lies within the working hours and days."""
        minute = t // 60
        if minute == self._minute:
            return self._inside
        local = event.ts.astimezone(self.tz)
        inside = local.weekday() in self.settings.days and self.settings.hours.contains(
            local.time()
        )
        offset = local.utcoffset()
        # a zone's offset in whole minutes (not a local mean time of old) keeps minutes aligned
        if self._minutely and offset is not None and not offset.total_seconds() % 60:
            self._minute, self._inside = minute, inside
        return inside

    def adds(self, event: Event, t: float) -> Sequence[str]:
        if self._working(event, t):
            return _NONE
        return (self.fleet.account(event, event.user or "unknown"),)

    def level(self, extent: Extent) -> tuple[int, int]:
        return (0, 0)

    def describe(self, subject: str, extent: Extent) -> str:
        local = extent.first_ts.astimezone(self.tz)
        when = f"{_WEEKDAYS[local.weekday()]} {local.hour:02d}:{local.minute:02d}"
        ips = tuple(extent.ips.kept)
        where = f" from {listing(ips, extent.ips.total)}" if ips else ""
        logins = f" ({extent.count} logins)" if extent.count > 1 else ""
        return (
            f"{account_name(subject)} logged in{where} on {when}, "
            f"outside working hours ({self._allowed}){logins}"
        )

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        if self._working(event, t):
            return NO_ALERTS
        user = event.user or "unknown"
        key = self.fleet.account(event, user)  # per server, unless one account base
        if event.server is not None:
            self.fleet.note(key, event, t)
        if not self.gate.opens(key, t):
            return NO_ALERTS
        local = event.ts.astimezone(self.tz)
        when = f"{_WEEKDAYS[local.weekday()]} {local.hour:02d}:{local.minute:02d}"
        allowed = self._allowed
        where = f" from {event.ip}" if event.ip else ""
        alert = rule_alert(
            self,
            subject=key,
            summary=f"{user} logged in{where} on {when}, outside working hours ({allowed})",
            first_seen=event.ts,
            last_seen=event.ts,
            source=event.source,
            user=user,
            ip=event.ip,
            count=1,
        )
        return (self.fleet.finish(alert, key, event, t),)
