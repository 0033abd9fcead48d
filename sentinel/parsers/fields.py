"""Field readers shared by the parsers: client addresses, byte counts, anonymous names."""

from __future__ import annotations

import ipaddress
import re

CACHE_SIZE = 65_536  # distinct addresses remembered; cleared whole when full
_seen: dict[str, str | None] = {}
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
DOTTED = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
"""An IPv4 address already in canonical form (no leading zeros): the common case, read
without building an `ipaddress` object (a flood brings a new address on every line)."""


def _normalize(text: str) -> str | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def ip(text: str) -> str | None:
    """The address in canonical form, or None when `text` is no IPv4 or IPv6 address."""
    # "" for a text not read yet (`_seen` holds addresses and None, never ""): no KeyError
    # raised and caught, which a flood, a new address on every line, would pay each time
    seen = _seen.get(text, "")
    if seen != "":
        return seen
    if DOTTED.fullmatch(text):
        value: str | None = text
    elif 2 <= len(text) <= 45:
        value = _normalize(text)
    else:
        value = None
    if len(_seen) >= CACHE_SIZE:
        _seen.clear()
    _seen[text] = value
    return value


known = _seen.get
"""An address already read, in canonical form; None when it was not (or is no address):
`known(text) or ip(text)` is `ip(text)` without a call for an address seen before."""


ANONYMOUS_NAMES = frozenset({"ftp", "anonymous"})
"""What vsftpd, ProFTPD and Pure-FTPd write as the user of an anonymous session."""


def number(text: str) -> int | None:
    """A decimal count as logged (ASCII digits only), or None."""
    if text.isdigit() and text.isascii() and len(text) < 20:
        return int(text)
    return None
