"""Log timestamps to aware datetimes, memoized: a busy log repeats the same second."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta, tzinfo
from typing import TypeVar

from sentinel.parsers.context import ParseContext

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
CACHE_SIZE = 4096  # distinct timestamps remembered; cleared whole when full
ONE_DAY = timedelta(days=1)
_K = TypeVar("_K", bound=Hashable)

# Memo of pure functions of their key: safe to share between sources and threads.
_ctime: dict[tuple[str, tzinfo], datetime | None] = {}
_syslog: dict[tuple[str, tzinfo, datetime], datetime | None] = {}
_iso: dict[tuple[str, tzinfo | None], datetime | None] = {}


def _remember(cache: dict[_K, datetime | None], key: _K, value: datetime | None) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _clock(text: str) -> tuple[int, int, int]:
    """`HH:MM:SS` as numbers; ValueError when it is not one."""
    if text[2] != ":" or text[5] != ":":
        raise ValueError(text)
    return int(text[0:2]), int(text[3:5]), int(text[6:8])


def ctime_time(text: str, tz: tzinfo) -> datetime | None:
    """`Sun Nov 22 11:46:07 2026` (day space- or zero-padded; 24 characters), local to `tz`."""
    key = (text, tz)
    try:
        return _ctime[key]
    except KeyError:
        pass
    value: datetime | None
    try:
        if len(text) != 24 or text[3] != " " or text[19] != " ":
            raise ValueError(text)
        hour, minute, second = _clock(text[11:19])
        day = text[8:10]
        if not day[1].isdigit() or not text[20:24].isdigit():
            raise ValueError(text)
        value = datetime(
            int(text[20:24]), MONTHS[text[4:7]], int(day), hour, minute, second, tzinfo=tz
        )
    except (ValueError, KeyError):
        value = None
    _remember(_ctime, key, value)
    return value


def syslog_time(text: str, ctx: ParseContext) -> datetime | None:
    """`Nov 22 11:46:07` (15 characters): the year of `ctx.reference`, or the one before it.

    A date more than a day after the reference belongs to the previous year: a log
    written in December and read in January.
    """
    reference = ctx.reference
    key = (text, ctx.tz, reference)
    try:
        return _syslog[key]
    except KeyError:
        pass
    value: datetime | None
    try:
        if len(text) != 15 or text[3] != " " or text[6] != " " or not text[5].isdigit():
            raise ValueError(text)
        month, day = MONTHS[text[0:3]], int(text[4:6])
        hour, minute, second = _clock(text[7:15])
        value = datetime(reference.year, month, day, hour, minute, second, tzinfo=ctx.tz)
        if value > reference + ONE_DAY:
            value = value.replace(year=reference.year - 1)
    except (ValueError, KeyError):
        value = None
    _remember(_syslog, key, value)
    return value


def iso_time(text: str, tz: tzinfo | None = None) -> datetime | None:
    """RFC 3339 (`2026-11-22T11:46:07.123456+01:00`); `tz` only where the offset is missing.

    Also ProFTPD's `2026-11-22 11:46:07,123`. None for a time that is still naive.
    """
    key = (text, tz)
    try:
        return _iso[key]
    except KeyError:
        pass
    value: datetime | None
    try:
        value = datetime.fromisoformat(text) if text[:4].isdigit() else None
    except ValueError:
        value = None
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=tz) if tz is not None else None
    _remember(_iso, key, value)
    return value
