"""The configuration of a fleet: `fleet:`, `networks.ipv6_prefix`, sources' patterns and servers."""

from __future__ import annotations

import re
from pathlib import Path

from sentinel.config import values
from sentinel.config.model import FleetConfig
from sentinel.config.nodes import At, boolean, integer, mapping, sequence, string

SERVER = "{server}"
SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}")
MAX_FLEET = 1000  # servers that may label metrics: a bounded set
DEFAULT_PREFIX = 64  # one IPv6 host is commonly given a whole /64
MIN_PREFIX = 32  # a shorter IPv6 block would merge unrelated clients


def server_name(at: At) -> str:
    """A server's name as a syslog host field or a path component writes it."""
    name = string(at, what="a server name")
    if not SERVER_NAME.fullmatch(name):
        raise at.error(f"invalid server name {name!r} (A-Z a-z 0-9 _ . : -, at most 255)")
    return name


def fleet(at: At) -> FleetConfig:
    entries = mapping(at, ("servers", "shared_accounts"))
    servers: list[str] = []
    for item in sequence(entries["servers"]) if "servers" in entries else []:
        name = server_name(item)
        if name in servers:
            raise item.error(f"server {name!r} is listed twice")
        servers.append(name)
    if len(servers) > MAX_FLEET:
        raise entries["servers"].error(f"at most {MAX_FLEET} servers label metrics")
    shared = boolean(entries["shared_accounts"]) if "shared_accounts" in entries else False
    return FleetConfig(enabled=True, servers=tuple(servers), shared_accounts=shared)


def ipv6_prefix(at: At) -> int:
    """`networks.ipv6_prefix`: the block length IPv6 clients are counted by (128: each)."""
    entries = mapping(at, ("trusted", "ipv6_prefix"))
    if "ipv6_prefix" not in entries:
        return DEFAULT_PREFIX
    where = entries["ipv6_prefix"]
    prefix = integer(where, minimum=MIN_PREFIX)
    if prefix > 128:
        raise where.error(f"an IPv6 prefix is at most 128, got {prefix}")
    return prefix


def source_path(at: At) -> Path:
    """An absolute path, with globs (`*`, `?`, `[...]`) and at most one `{server}`."""
    path = values.absolute_path(at)
    text = str(path)
    if text.count(SERVER) > 1:
        raise at.error(f"{SERVER} may appear once in a path")
    if "{" in text.replace(SERVER, "") or "}" in text.replace(SERVER, ""):
        raise at.error(f"the only placeholder in a path is {SERVER}")
    if "**" in text:
        raise at.error("** is not supported: one * matches within one path component")
    return path
