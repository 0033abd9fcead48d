"""The server of a line: the syslog host field, else the file's server (path or setting).

rsyslog writes the sender's host name after the time in every line it stores (`%HOSTNAME%`),
in the traditional and the RFC 3339 style alike; the parsers skip it, so `named` wraps a
parser and sets `Event.server`. Session keys (pids) are qualified by the server, since two
servers' pids collide.
"""

from __future__ import annotations

from sentinel.events import Event
from sentinel.parsers.context import ParseContext, Parser

MAX_HOST = 255
_MONTHS = frozenset(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
)
_SERVER = Event._fields.index("server")
_SESSION = Event._fields.index("session")


def syslog_host(line: str) -> str | None:
    """The host of `Nov 22 11:46:07 host prog: ...` or `2026-11-22T11:46:07+01:00 host ...`."""
    if len(line) > 16 and line[15] == " " and line[:3] in _MONTHS:
        start = 16
    elif len(line) > 20 and line[10] == "T" and line[4] == "-":
        start = line.find(" ", 19) + 1
        if not start:
            return None
    else:
        return None
    end = line.find(" ", start)
    host = line[start:end] if end > start else ""
    if not host or len(host) > MAX_HOST or not host.isprintable() or host[-1] == ":":
        return None  # no host, or the tag where rsyslog wrote no host
    return host


def named(parse: Parser, server: str | None, *, from_host: bool) -> Parser:
    """`parse`, with `Event.server` set: the line's host field (if `from_host`), else `server`."""

    def parse_named(line: str, ctx: ParseContext) -> Event | None:
        event = parse(line, ctx)
        if event is None:
            return None
        name = (syslog_host(line) if from_host else None) or server
        if name is None:
            return event
        fields = list(event)
        fields[_SERVER] = name
        if event.session is not None:
            fields[_SESSION] = f"{name}/{event.session}"
        return Event._make(fields)

    return parse_named
