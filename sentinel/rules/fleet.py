"""How rules see a fleet: address blocks, per-server accounts, the servers of an incident.

Rules keyed by address count an attacker across every server (three guesses on each of
twenty servers are sixty guesses), and count IPv6 clients by their block (`ipv6_prefix`,
/64 by default: one host is given a whole /64, and may give every guess a new address).
Rules keyed by account count per (server, account), since `alice` on two servers may be
two people, unless the servers share one account base (`fleet.shared_accounts`).
Events that name no server (a sentinel on one server) keep the keys, the subjects and so
the fingerprints they had before fleets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any

from sentinel.alerts import Alert
from sentinel.events import Event
from sentinel.extent import MAX_SERVERS
from sentinel.rules.base import KeyTable
from sentinel.textsafe import MAX_FIELD, neutral

MAX_ADDRESSES = 16  # addresses of one block listed per incident
_BLOCK_CACHE = 65_536  # address -> block verdicts kept
_Seen = tuple[dict[str, float], dict[str, float], dict[str, float]]


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """What the configuration says: `networks.ipv6_prefix`, `fleet.shared_accounts`."""

    ipv6_prefix: int = 64
    shared_accounts: bool = False


class FleetView:
    """One rule's view: the keys it counts under, and who took part in each incident.

    State: per key seen from a named server or an IPv6 block, up to MAX_SERVERS servers and
    MAX_ADDRESSES addresses with their last time, trimmed to `window`; at most `max_keys`
    keys, stalest dropped first. Nothing at all for one server's IPv4 clients.
    """

    __slots__ = ("_blocks", "_seen", "options", "window")

    def __init__(self, options: FleetOptions, window: float, max_keys: int) -> None:
        self.options = options
        self.window = window
        self._blocks: dict[str, str] = {}
        # per key: servers -> last seen, addresses -> last seen, servers -> first seen
        self._seen: KeyTable[_Seen] = KeyTable(max_keys)

    @property
    def evictions(self) -> int:
        return self._seen.evictions

    def address(self, ip: str) -> str:
        """The key an address counts under: itself, or its IPv6 block (`2001:db8:1:2::/64`)."""
        if ":" not in ip or self.options.ipv6_prefix >= 128:
            return ip
        block = self._blocks.get(ip)
        if block is None:
            block = self._block(ip)
            if len(self._blocks) >= _BLOCK_CACHE:
                self._blocks.clear()
            self._blocks[ip] = block
        return block

    def _block(self, ip: str) -> str:
        try:
            address = ipaddress.IPv6Address(ip)
        except ValueError:
            return ip
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, self.options.ipv6_prefix), strict=False))

    def account(self, event: Event, user: str) -> str:
        """The key an account counts under: the user, or the server and the user."""
        server = event.server
        if server is None or self.options.shared_accounts:
            return user
        return f"{server}\x00{user}"

    def note(self, key: str, event: Event, t: float, block: str | None = None) -> None:
        """`event` took part in `key`'s incident: its server, and its address when the key
        counts an address `block` (`address(ip)`) wider than the address."""
        server, ip = event.server, event.ip
        in_block = ip is not None and block is not None and block != ip
        if server is None and not in_block:
            return
        servers, addresses, firsts = self._seen.renew(key, lambda: ({}, {}, {}))
        oldest = t - self.window
        if server is not None:
            _remember(servers, server, t, oldest, MAX_SERVERS)
            firsts[server] = min(t, firsts.get(server, t))
            if len(firsts) > 2 * MAX_SERVERS:  # those `servers` forgot
                for gone in [s for s in firsts if s not in servers]:
                    del firsts[gone]
        if in_block and ip is not None:
            _remember(addresses, ip, t, oldest, MAX_ADDRESSES)

    def finish(
        self, alert: Alert, key: str, event: Event, t: float, block: str | None = None
    ) -> Alert:
        """The alert with the servers of `key`'s incident, and the addresses of its `block`.

        Its `server` is the one whose event came first: whichever order a live run read the
        servers' files in, a replay names the same one.
        """
        seen = self._seen.get(key)
        if seen is None:
            if event.server is None:
                return alert  # one server's IPv4 client: nothing noted, nothing to add
            seen = ({}, {}, {})
        oldest = t - self.window
        servers = sorted(s for s, last in seen[0].items() if last >= oldest)
        addresses = [a for a, last in seen[1].items() if last >= oldest]  # first seen first
        changes: dict[str, Any] = {}
        if servers:
            firsts = seen[2]
            first = min(servers, key=lambda s: (firsts.get(s, t), s))
            changes["server"] = neutral(first, MAX_FIELD)
        elif event.server is not None:
            changes["server"] = neutral(event.server, MAX_FIELD)
        if len(servers) > 1:
            changes["servers"] = tuple(neutral(s, MAX_FIELD) for s in servers)
        if addresses and block is not None:
            changes.update(ip=None, ips=tuple(addresses))
            changes["details"] = {**alert.details, "network": block}
        return replace(alert, **changes) if changes else alert

    def expire(self, now: float) -> None:
        if not self._seen:  # one server's IPv4 clients: nothing was ever noted
            return
        oldest = now - self.window
        self._seen.expire(lambda seen: max((*seen[0].values(), *seen[1].values())) < oldest)


def account_name(key: str) -> str:
    """The user name of an account key (`FleetView.account`), without its server."""
    server, sep, user = key.partition("\x00")
    return user if sep else server


def _remember(members: dict[str, float], member: str, t: float, oldest: float, cap: int) -> None:
    """`member` seen at `t`; those last seen before `oldest` forgotten, the stalest beyond `cap`."""
    members[member] = max(t, members.get(member, t))
    if len(members) > cap:
        for gone in [m for m, last in members.items() if last < oldest]:
            del members[gone]
        while len(members) > cap:
            del members[min(members, key=members.__getitem__)]
