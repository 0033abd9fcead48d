"""The syslog header, in both styles rsyslog writes: `Nov 22 11:46:07` and RFC 3339."""

from __future__ import annotations

from datetime import datetime

from sentinel.parsers.context import ParseContext
from sentinel.parsers.timeparse import iso_time, syslog_time

Header = tuple[datetime, str, str | None, str]
"""Time, program, pid (None when the tag has none), message."""


def split(line: str, ctx: ParseContext) -> Header | None:
    """`Nov 22 11:46:07 host prog[pid]: message` or `2026-11-22T11:46:07+01:00 host ...`."""
    if len(line) > 15 and line[15] == " " and line[3] == " ":
        ts = syslog_time(line[:15], ctx)
        rest = line[16:]
    elif len(line) > 20 and line[10] == "T" and line[4] == "-":
        space = line.find(" ", 19)
        ts = iso_time(line[:space]) if space > 0 else None
        rest = line[space + 1 :]
    else:
        return None
    # host, `prog[pid]:` (no space in it), message
    fields = rest.split(" ", 2)
    if ts is None or len(fields) < 3 or fields[1][-1:] != ":":
        return None
    tag = fields[1]
    if tag[-2:-1] != "]":
        return ts, tag[:-1], None, fields[2]
    bracket = tag.find("[")
    if bracket <= 0:
        return None
    return ts, tag[:bracket], tag[bracket + 1 : -2], fields[2]
