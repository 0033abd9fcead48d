"""Log timestamps to aware datetimes, memoized: a busy log repeats the same second."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime, timedelta, tzinfo
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
SECONDS = {f":{n:02d}": (timedelta(seconds=n), float(n)) for n in range(60)}
"""`:SS` to the time it adds to its minute, and its seconds (a miss is any other text, read
the slow way)."""
LAST_SECOND = timedelta(seconds=59)
MILLISECONDS = {f"{n:03d}": timedelta(milliseconds=n) for n in range(1000)}
"""ProFTPD's `,123`: three ASCII digits to the time they add (a miss is no such field)."""
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Memos of pure functions of their key: safe to share between sources and threads.
# A log's stamps mostly rise, so a second seldom comes back but its minute does: the
# minutes are memoized and the seconds added, behind a one-entry memo of the last stamp
# (consecutive lines share their second), swapped whole.
_ctime_minutes: dict[str, tuple[str, tzinfo, datetime | None, float | None]] = {}
_ctime_last: tuple[str, tzinfo, datetime | None] = ("", UTC, None)
_syslog_minutes: dict[tuple[str, tzinfo, datetime], tuple[datetime | None, float | None]] = {}
_syslog_last: tuple[str, tzinfo, datetime, datetime | None] = ("", UTC, _EPOCH, None)
_seconds: dict[tuple[str, tzinfo], datetime | None] = {}

stamp: tuple[datetime | None, float] = (None, 0.0)
"""The last stamp a minute memo made, and its POSIX time: its minute's, plus its second.
`t = stamp[1] if stamp[0] is ts else ts.timestamp()` is the time of any stamp `ts` (the
pipeline's, for each new second: `timestamp()` asks the zone its offset, which costs as much
again as making the stamp). Swapped whole; it keeps its stamp alive, so `is` cannot mistake
another for it."""


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value


def _clock(text: str) -> tuple[int, int, int]:
    """`HH:MM:SS` as numbers; ValueError when it is not one."""
    if text[2] != ":" or text[5] != ":":
        raise ValueError(text)
    return int(text[0:2]), int(text[3:5]), int(text[6:8])


def _epoch(minute: datetime | None) -> float | None:
    """The POSIX time of a minute's start, if the minute keeps one UTC offset to its end
    (each of its seconds is then that time plus the second); None otherwise."""
    if minute is None:
        return None
    start = minute.timestamp()
    return start if (minute + LAST_SECOND).timestamp() - start == 59 else None


def ctime_time(text: str, tz: tzinfo) -> datetime | None:
    """`Sun Nov 22 11:46:07 2026` (day space- or zero-padded; 24 characters), local to `tz`."""
    global _ctime_last, stamp  # noqa: PLW0603 - the memos, replaced whole
    last = _ctime_last
    if text == last[0] and tz is last[1]:
        return last[2]
    # `Sun Nov 22 11:46` to (` 2026`, tz, its datetime, its time): a key of one string
    # hashes in half the time of a tuple of three; another year or zone of it replaces it
    head, year = text[:16], text[19:]
    memo = _ctime_minutes.get(head)
    if memo is None or memo[1] is not tz or memo[0] != year:
        minute = _read_ctime(f"{head}:00{year}", tz)
        memo = (year, tz, minute, _epoch(minute))
        _remember(_ctime_minutes, head, memo)
    minute = memo[2]
    second = SECONDS.get(text[16:19])
    if minute is None or second is None:
        value = _read_ctime(text, tz)
    else:
        value = minute + second[0]
        start = memo[3]
        if start is not None:
            stamp = (value, start + second[1])
    _ctime_last = (text, tz, value)
    return value


def _read_ctime(text: str, tz: tzinfo) -> datetime | None:
    try:
        if len(text) != 24 or text[3] != " " or text[19] != " ":
            raise ValueError(text)
        hour, minute, second = _clock(text[11:19])
        day = text[8:10]
        if not day[1].isdigit() or not text[20:24].isdigit():
            raise ValueError(text)
        return datetime(
            int(text[20:24]), MONTHS[text[4:7]], int(day), hour, minute, second, tzinfo=tz
        )
    except (ValueError, KeyError):
        return None


def syslog_time(text: str, ctx: ParseContext) -> datetime | None:
    """`Nov 22 11:46:07` (15 characters): the year of `ctx.reference`, or the one before it.

    A date more than a day after the reference belongs to the previous year: a log
    written in December and read in January.
    """
    global _syslog_last, stamp  # noqa: PLW0603 - the memos, replaced whole
    tz, reference = ctx.tz, ctx.reference
    last = _syslog_last
    if text == last[0] and tz is last[1] and reference is last[2]:
        return last[3]
    key = (text[:12], tz, reference)  # `Nov 22 11:46`
    try:
        minute, start = _syslog_minutes[key]
    except KeyError:
        minute = _read_syslog(key[0] + ":00", tz, reference)
        start = _epoch(minute)
        _remember(_syslog_minutes, key, (minute, start))
    second = SECONDS.get(text[12:])
    value = None
    if minute is not None and second is not None:
        value = minute + second[0]
        if value > reference + ONE_DAY:  # its seconds took it past: into last year
            value = None
        elif start is not None:
            stamp = (value, start + second[1])
    if value is None:
        value = _read_syslog(text, tz, reference)
    _syslog_last = (text, tz, reference, value)
    return value


def _read_syslog(text: str, tz: tzinfo, reference: datetime) -> datetime | None:
    try:
        if len(text) != 15 or text[3] != " " or text[6] != " " or not text[5].isdigit():
            raise ValueError(text)
        month, day = MONTHS[text[0:3]], int(text[4:6])
        hour, minute, second = _clock(text[7:15])
        value = datetime(reference.year, month, day, hour, minute, second, tzinfo=tz)
        if value > reference + ONE_DAY:
            value = value.replace(year=reference.year - 1)
    except (ValueError, KeyError):
        return None
    return value


def iso_time(text: str, tz: tzinfo | None = None) -> datetime | None:
    """RFC 3339 (`2026-11-22T11:46:07.123456+01:00`); `tz` only where the offset is missing.

    Also ProFTPD's `2026-11-22 11:46:07,123`. None for a time that is still naive.
    Not memoized: the fractions make most stamps unique, and reading one is as fast.
    """
    try:
        value = datetime.fromisoformat(text) if text[:4].isdigit() else None
    except ValueError:
        return None
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=tz) if tz is not None else None
    return value


def proftpd_time(text: str, tz: tzinfo) -> datetime | None:
    """ProFTPD's `2026-11-22 11:46:07,123` (23 characters), local to `tz`.

    The second is memoized (naming a zone is what costs) and the milliseconds added.
    """
    millis = MILLISECONDS.get(text[20:23])
    if millis is None or len(text) != 23 or text[19] != ",":
        return iso_time(text, tz)
    key = (text[:19], tz)
    try:
        second = _seconds[key]
    except KeyError:
        # a plain `YYYY-MM-DD HH:MM:SS`: anything else is read whole, the slow way
        plain = text[4] + text[7] + text[13] + text[16] == "--::" and text[:19].isascii()
        second = iso_time(text[:19], tz) if plain else None
        _remember(_seconds, key, second)
    return iso_time(text, tz) if second is None else second + millis
