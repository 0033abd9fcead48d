"""Bulk downloads: too many files or bytes leaving to one user or one address."""

from __future__ import annotations

from bisect import bisect
from collections.abc import Sequence
from typing import Any

from sentinel.alerts import Alert, human_size
from sentinel.events import Direction, Event, Kind
from sentinel.extent import Extent, magnitude
from sentinel.rules.base import NO_ALERTS, Counts, KeyTable, rule_alert
from sentinel.rules.fleet import FleetOptions, FleetView, account_name
from sentinel.rules.incident import IncidentGate, duration_text, moment
from sentinel.rules.settings import BulkDownloadSettings

FLEET = FleetOptions()
MAX_PEERS = 8  # addresses per user (or users per address) kept for the alert
_DOWNLOAD = Direction.DOWNLOAD  # a global: an enum member costs a lookup in its class
_NONE: tuple[str, ...] = ()


class _Volume:
    """Downloads of one view (a user, or an address) within the window, oldest first."""

    __slots__ = ("paths", "peers", "sizes", "times", "total")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.sizes: list[int] = []
        self.paths: list[str | None] = []  # the files, for the incident's opening extent
        self.total = 0
        self.peers: tuple[str, ...] = ()

    def add(  # noqa: PLR0917 (one call site, on every download: no keywords)
        self, t: float, size: int, path: str | None, peer: str | None, window: float, keep: int
    ) -> None:
        times, sizes, paths = self.times, self.sizes, self.paths
        if not times or t >= times[-1]:
            times.append(t)
            sizes.append(size)
            paths.append(path)
        else:  # two logs read in turn are not quite in time order
            at = bisect(times, t)
            times.insert(at, t)
            sizes.insert(at, size)
            paths.insert(at, path)
        self.total += size
        oldest = times[-1] - window
        while times[0] < oldest or len(times) > keep:
            del times[0]
            del paths[0]
            self.total -= sizes.pop(0)
        if peer is not None and len(self.peers) < MAX_PEERS and peer not in self.peers:
            self.peers += (peer,)


class BulkDownloadRule:
    """More than `max_files` files or `max_bytes` bytes downloaded within `window`.

    Counted per user and per address; the two views of one download are one incident (the
    user's view speaks first; an address alone alerts when several users share it).
    State per view: up to `max_files + 1` (time, size) pairs and 8 peers; at most
    `max_tracked` users and as many addresses.
    """

    name = "bulk_download"
    kinds = frozenset({Kind.TRANSFER})
    counts: Counts = "events"
    keyed_by: tuple[str, ...] = ("user", "ip")

    def __init__(
        self, settings: BulkDownloadSettings, *, server: str, fleet: FleetOptions = FLEET
    ) -> None:
        self.settings = settings
        self.server = server
        self.fleet = FleetView(fleet, settings.window.total_seconds(), settings.max_tracked)
        self.window = settings.window.total_seconds()
        self._max_files, self._max_bytes = settings.max_files, settings.max_bytes
        self.table: KeyTable[_Volume] = KeyTable(2 * settings.max_tracked)
        self.gate = IncidentGate(self.window, 2 * settings.max_tracked)

    @property
    def evictions(self) -> int:
        return self.table.evictions + self.gate.evictions

    def adds(self, event: Event, t: float) -> Sequence[str]:
        if event.direction is not _DOWNLOAD or not event.ok:
            return _NONE
        user, ip = event.user, event.ip
        if user:
            by_user = f"user:{self.fleet.account(event, user)}"
            return (by_user, f"ip:{ip}") if ip else (by_user,)
        return (f"ip:{ip}",) if ip else _NONE

    def level(self, extent: Extent) -> tuple[int, int]:
        """In size: 10, 100, ... times `max_files` or `max_bytes`."""
        ratio = max(extent.count / self._max_files, (extent.nbytes or 0) / self._max_bytes)
        return (0, magnitude(ratio))

    def describe(self, subject: str, extent: Extent) -> str:
        amount = f"{extent.files_total or extent.count} files ({human_size(extent.nbytes or 0)})"
        span = duration_text(extent.span)
        view, _, who = subject.partition(":")
        if view == "user":
            who = account_name(who)
            ips = extent.ips
            origin = next(iter(ips.kept), "?") if ips.total == 1 else f"{ips.total} addresses"
            return f"{who} downloaded {amount} from {origin} in {span}"
        return f"{who} downloaded {amount} as {extent.users.total} users in {span}"

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        """Both views of a download, then the user's alert, or the address's alone.

        On every download: the views are updated and checked inline (a call each would
        cost as much as the update)."""
        if event.direction is not _DOWNLOAD or not event.ok:
            return NO_ALERTS
        size = event.nbytes or 0
        user, ip, path = event.user, event.ip, event.path
        window, keep = self.window, self._max_files + 1
        max_files, max_bytes = self._max_files, self._max_bytes
        renew = self.table.renew
        # a user per server (unless one account base), an address across the fleet; one
        # server's user as it is, without a call on every download
        user_key: tuple[str, str] | None = None
        crossed = False
        if user:
            user_key = ("u", user if event.server is None else self.fleet.account(event, user))
            by_user = renew(user_key, _Volume)
            by_user.add(t, size, path, ip, window, keep)
            crossed = len(by_user.times) > max_files or by_user.total > max_bytes
        ip_key: tuple[str, str] | None = None
        if ip:
            ip_key = ("i", ip)
            by_ip = renew(ip_key, _Volume)
            by_ip.add(t, size, path, user, window, keep)
        gate = self.gate
        if crossed and user_key is not None:
            ip_busy = ip_key is not None and gate.active(ip_key, t)
            fresh = gate.opens(user_key, t)
            if ip_key:
                gate.extend(ip_key, t)
            if fresh and not ip_busy:
                return (self._alert(event, by_user, by_user_view=True),)
        elif ip_key is not None and (len(by_ip.times) > max_files or by_ip.total > max_bytes):
            user_busy = user_key is not None and gate.active(user_key, t)
            if gate.opens(ip_key, t) and not user_busy:
                return (self._alert(event, by_ip, by_user_view=False),)
        return NO_ALERTS

    def _alert(self, event: Event, volume: _Volume, *, by_user_view: bool) -> Alert:
        count, total = len(volume.times), volume.total
        peers = tuple(volume.peers)
        span = duration_text(volume.times[-1] - volume.times[0])
        amount = f"{count} files ({human_size(total)})"
        if by_user_view:
            origin = peers[0] if len(peers) == 1 else f"{len(peers)} addresses"
            summary = f"{event.user} downloaded {amount} from {origin} in {span}"
            subject = f"user:{self.fleet.account(event, event.user or '')}"
            user, ip, ips = event.user, (peers[0] if len(peers) == 1 else None), None
            if len(peers) > 1:
                ips = peers
        else:
            summary = f"{event.ip} downloaded {amount} as {len(peers)} users in {span}"
            subject = f"ip:{event.ip}"
            user, ip, ips = None, event.ip, None
        return rule_alert(
            self,
            subject=subject,
            summary=summary,
            first_seen=moment(volume.times[0], event.ts.tzinfo),
            last_seen=moment(volume.times[-1], event.ts.tzinfo),
            source=event.source,
            user=user,
            ip=ip,
            ips=ips,
            count=count,
            nbytes=total,
            details={} if by_user_view else {"users": list(peers)},
            files=tuple(path for path in volume.paths if path is not None),
            origin=event.server,
        )

    def expire(self, now: float) -> None:
        oldest = now - self.window
        self.table.expire(lambda volume: volume.times[-1] < oldest)
        self.gate.expire(now)

    def dump(self) -> Any:
        table = [
            [list(key), v.times, v.sizes, list(v.peers), v.paths] for key, v in self.table.items()
        ]
        return {"table": table, "gate": self.gate.dump()}

    def load(self, data: Any) -> None:
        for key, times, sizes, peers, *paths in data["table"]:
            volume = _Volume()
            volume.times = [float(t) for t in times]
            volume.sizes = [int(s) for s in sizes]
            saved = paths[0] if paths else []
            volume.paths = [str(p) if p is not None else None for p in saved]
            volume.paths += [None] * (len(volume.times) - len(volume.paths))
            volume.total = sum(volume.sizes)
            volume.peers = tuple(dict.fromkeys(peers))
            self.table.touch(tuple(key), volume)
        self.gate.load(data["gate"])
