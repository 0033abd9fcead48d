"""Readers of the domain's value types: durations, sizes, paths, zones, networks, hours, days."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from datetime import time, timedelta
from pathlib import Path

from sentinel.alerts import Severity
from sentinel.config.model import IPNetwork
from sentinel.config.nodes import TAG, At, integer, sequence, string
from sentinel.config.units import SIZE_HINT, parse_duration, parse_size
from sentinel.rules.settings import WEEKDAY_NAMES, ByteSize, HoursRange, Weekdays

_HOURS = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def duration(at: At, *, allow_zero: bool = False) -> timedelta:
    text = string(at, what="a duration such as 10m")
    try:
        value = parse_duration(text)
    except ValueError as error:
        raise at.error(str(error)) from None
    if not value and not allow_zero:
        raise at.error(f"duration {text!r} must be longer than zero")
    return value


def optional_duration(at: At) -> timedelta | None:
    return None if at.is_null() else duration(at)


def size(at: At) -> ByteSize:
    """A size with a unit, or a plain integer count of bytes; never zero."""
    if at.node.tag == TAG + "int":
        return ByteSize(integer(at, minimum=1))
    text = string(at, what=f"a size ({SIZE_HINT})")
    try:
        value = parse_size(text)
    except ValueError as error:
        raise at.error(str(error)) from None
    if value < 1:
        raise at.error(f"size {text!r} must be at least one byte")
    return ByteSize(value)


def absolute_path(at: At) -> Path:
    text = string(at, what="a path")
    if "\x00" in text:  # pragma: no cover - control characters are refused by string()
        raise at.error("a path cannot hold a NUL character")
    path = Path(text)
    if not path.is_absolute():
        raise at.error(f"{text!r} is not an absolute path (start it with /)")
    return path


def served_path(at: At) -> str:
    """A path as FTP/SFTP clients see it: absolute, plain components, no trailing slash."""
    text = string(at, what="a path as clients see it, such as /pub")
    parts = text.split("/")
    if not text.startswith("/") or any(p in (".", "..") for p in parts) or "//" in text:
        raise at.error(f"{text!r} is not a plain absolute path as clients see it (e.g. /pub)")
    return text.rstrip("/") or "/"


def optional_path(at: At) -> Path | None:
    return None if at.is_null() else absolute_path(at)


def timezone(at: At) -> zoneinfo.ZoneInfo:
    name = string(at, what="a time zone name such as Europe/Paris")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise at.error(f"unknown time zone {name!r} (use a name such as Europe/Paris)") from None


def network(at: At) -> IPNetwork:
    text = string(at, what="a network such as 10.0.0.0/8")
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise at.error(f"invalid network {text!r} (use 10.0.0.0/8 or 2001:db8::/32)") from None
    raise at.error(f"{text!r} has host bits set (did you mean {loose}?)")


def severity(at: At) -> Severity:
    text = string(at, what="a severity (info, warning, critical)")
    try:
        return Severity.parse(text)
    except ValueError as error:
        raise at.error(str(error)) from None


def hours(at: At) -> HoursRange:
    """'07:00-20:00'; a start after the end spans midnight; '24:00' may end a range."""
    text = string(at, what='a range of hours such as "07:00-20:00"')
    match = _HOURS.fullmatch(text)
    bad = f'invalid hours {text!r} (use "HH:MM-HH:MM", e.g. "07:00-20:00")'
    if not match:
        raise at.error(bad)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if (h2, m2) == (24, 0):
        h2 = 0
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise at.error(bad)
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise at.error(f"hours {text!r} start and end at the same time")
    return HoursRange(start, end)


def weekdays(at: At) -> Weekdays:
    days = set()
    for item in sequence(at):
        name = string(item, what="a day name (mon, tue, ...)").lower()
        if name in WEEKDAY_NAMES:
            days.add(WEEKDAY_NAMES.index(name))
        elif name in _FULL_DAY_NAMES:
            days.add(_FULL_DAY_NAMES.index(name))
        else:
            raise item.error(f"unknown day {name!r} (use {', '.join(WEEKDAY_NAMES)})")
    if not days:
        raise at.error("give at least one day (mon, tue, ...)")
    return Weekdays(days)
