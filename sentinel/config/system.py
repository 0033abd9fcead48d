"""The host's defaults: its name and its time zone (TZ, else /etc/localtime, else UTC)."""

from __future__ import annotations

import os
import socket
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path

LOCALTIME = Path("/etc/localtime")


def host_name() -> str:
    return socket.gethostname() or "localhost"


def system_timezone(environ: Mapping[str, str] = os.environ, localtime: Path = LOCALTIME) -> tzinfo:
    """The zone local times are written in; a named ZoneInfo whenever it can be found."""
    spec = environ.get("TZ", "").removeprefix(":")
    if spec:
        zone = _zone_from_spec(spec)
        if zone is not None:
            return zone
    named = _zone_named_by_link(localtime)
    if named is not None:
        return named
    try:
        with localtime.open("rb") as stream:
            return zoneinfo.ZoneInfo.from_file(stream, key=str(localtime))
    except (OSError, ValueError):
        pass
    # A POSIX TZ string such as "CET-1CEST" or no zone data at all: the current offset.
    return datetime.now().astimezone().tzinfo or UTC


def _zone_from_spec(spec: str) -> tzinfo | None:
    try:
        if spec.startswith("/"):
            with Path(spec).open("rb") as stream:
                return zoneinfo.ZoneInfo.from_file(stream, key=spec)
        return zoneinfo.ZoneInfo(spec)
    except (zoneinfo.ZoneInfoNotFoundError, OSError, ValueError):
        return None


def _zone_named_by_link(localtime: Path) -> tzinfo | None:
    """/etc/localtime -> /usr/share/zoneinfo/Europe/Paris gives ZoneInfo('Europe/Paris')."""
    try:
        parts = localtime.resolve(strict=True).parts
    except (OSError, RuntimeError):
        return None
    if "zoneinfo" not in parts:
        return None
    key = "/".join(parts[len(parts) - parts[::-1].index("zoneinfo") :])
    try:
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, OSError, ValueError):
        return None
