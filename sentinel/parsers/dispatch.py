"""One syslog message to its reader: rsyslog's repeat notice, a PAM line, or the daemon's own.

Every parser of a syslog-framed log does the same once the header is split (time, program,
pid, text): `message repeated N times: [ text]` is the event of `text`, N times over; a PAM
module's line goes to sentinel.parsers.pam (which reads FTP services' only); the rest is the
daemon's own message, read by the parser's `handler`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sentinel.events import MAX_TIMES, Event
from sentinel.parsers import pam, syslog
from sentinel.parsers.context import ParseContext

Message = Callable[[datetime, str | None, str, ParseContext], Event | None]
"""A daemon's message reader: (time, pid, text, context) to its event, or None."""
ROUTED = (syslog.REPEATED, *pam.STARTS)
"""What a message not the daemon's own starts with: one test on every line, and a second
on the few that pass."""


def message(
    ts: datetime,
    program: str,
    pid: str | None,
    text: str,
    *,
    handler: Message,
    ctx: ParseContext,
) -> Event | None:
    """The event of one message of `program` (its syslog header already split)."""
    if text.startswith(ROUTED):
        if text.startswith(syslog.REPEATED):
            return repeated(ts, program, pid, text, handler=handler, ctx=ctx)
        return pam.message(ts, program, text, ctx)
    return handler(ts, pid, text, ctx)


def repeated(
    ts: datetime,
    program: str,
    pid: str | None,
    text: str,
    *,
    handler: Message,
    ctx: ParseContext,
) -> Event | None:
    """rsyslog's `message repeated N times: [ text]`: the event of `text`, N times over."""
    found = syslog.repeated(text)
    if found is None:
        return None
    times, inner = found
    if inner.startswith(syslog.REPEATED):
        return None  # rsyslog never nests them: a client wrote this
    event = message(ts, program, pid, inner, handler=handler, ctx=ctx)
    if event is None:
        return None
    return event._replace(times=min(event.times * times, MAX_TIMES))
