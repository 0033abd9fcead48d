"""The syslog header, in both styles rsyslog writes: `Nov 22 11:46:07` and RFC 3339."""

from __future__ import annotations

from datetime import datetime

from sentinel.parsers.context import ParseContext
from sentinel.parsers.timeparse import iso_time, syslog_time

Header = tuple[datetime, str, str | None, str]
"""Time, program, pid (None when the tag has none), message."""


def split(line: str, ctx: ParseContext) -> Header | None:
    """`Nov 22 11:46:07 host prog[pid]: message` or `2026-11-22T11:46:07+01:00 host ...`."""
    stamp = _stamp(line, ctx)
    if stamp is None:
        return None
    ts, host_at = stamp
    tag_at = line.find(" ", host_at) + 1
    colon = line.find(": ", tag_at)
    tag = line[tag_at:colon]
    if tag_at <= 0 or colon < 0 or " " in tag:
        return None
    if not tag.endswith("]"):
        return ts, tag, None, line[colon + 2 :]
    bracket = tag.find("[")
    if bracket <= 0:
        return None
    return ts, tag[:bracket], tag[bracket + 1 : -1], line[colon + 2 :]


def _stamp(line: str, ctx: ParseContext) -> tuple[datetime, int] | None:
    """The time and where the host name starts."""
    if len(line) > 15 and line[15] == " " and line[3] == " ":
        ts = syslog_time(line[:15], ctx)
        return None if ts is None else (ts, 16)
    if len(line) > 20 and line[10] == "T" and line[4] == "-":
        space = line.find(" ", 19)
        ts = iso_time(line[:space]) if space > 0 else None
        return None if ts is None else (ts, space + 1)
    return None
