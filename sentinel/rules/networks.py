"""Whether a client address lies in the trusted networks, asked once per login."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from sentinel.parsers.fields import DOTTED

VERDICTS_KEPT = 4096  # distinct addresses remembered; cleared whole when full


class TrustedNetworks:
    """`ip in networks`, for an address as the parsers give it (`sentinel.parsers.fields.ip`).

    An IPv4 address in canonical dotted form, what the parsers give for every IPv4 client, is
    read as an integer and compared with each IPv4 network's base under its mask: no
    `ipaddress` object per address (about 1.5 µs each) when the verdict cache misses, as it
    does for each new client. Any other text, an IPv6 address among them, goes
    through `ipaddress`, and a text that is no address is not trusted.

    State: up to VERDICTS_KEPT verdicts, cleared whole when full.
    """

    __slots__ = ("_v4", "_verdicts", "networks")

    def __init__(self, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
        self.networks = tuple(networks)
        self._v4 = tuple(
            (int(net.network_address), int(net.netmask))
            for net in self.networks
            if net.version == 4
        )
        self._verdicts: dict[str, bool] = {}

    def __contains__(self, ip: str) -> bool:
        verdict = self._verdicts.get(ip)
        if verdict is None:
            verdict = self._judge(ip)
            if len(self._verdicts) >= VERDICTS_KEPT:
                self._verdicts.clear()
            self._verdicts[ip] = verdict
        return verdict

    def _judge(self, ip: str) -> bool:
        if DOTTED.fullmatch(ip):
            a, b, c, d = ip.split(".")
            value = int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)
            return any(value & mask == base for base, mask in self._v4)
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self.networks)
