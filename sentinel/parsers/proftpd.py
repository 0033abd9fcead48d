"""ProFTPD's SystemLog file and its syslog messages (sessions, logins, security)."""

from __future__ import annotations

from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Event, Kind
from sentinel.parsers import syslog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip
from sentinel.parsers.timeparse import proftpd_time

# module names: reading an enum member costs an attribute lookup on its class
_LOGIN_FAILURE, _LOGIN_SUCCESS, _SECURITY, _SESSION_END, _SESSION_START = (
    Kind.LOGIN_FAILURE,
    Kind.LOGIN_SUCCESS,
    Kind.SECURITY,
    Kind.SESSION_END,
    Kind.SESSION_START,
)

_SUCCESS = ": Login successful."
_FAILED = " (Login failed): "
_NO_SUCH_USER = ": no such user found from "
_SESSIONS = {"FTP session opened.": _SESSION_START, "FTP session closed.": _SESSION_END}
_SECURITY_PREFIXES = (
    ("SECURITY VIOLATION: ", "root_login"),
    ("Maximum login attempts ", "max_login_attempts"),
)


def parse(line: str, ctx: ParseContext) -> Event | None:
    """`2026-11-22 11:46:07,123 host proftpd[1234] host (client[ip]): USER x: ...` or syslog."""
    line = line.rstrip("\r\n")
    if len(line) > 24 and line[19] == "," and line[10] == " ":
        ts = proftpd_time(line[:23], ctx.tz)
        tag_at = line.find(" ", 24) + 1
        tag_end = line.find(" ", tag_at)
        if ts is None or tag_at <= 0 or tag_end < 0 or not line.startswith("proftpd[", tag_at):
            return None
        return message(ts, line[tag_at + 8 : tag_end - 1], line[tag_end + 1 :], ctx)
    header = syslog.split(line, ctx)
    if header is None or header[1] != "proftpd":
        return None
    return message(header[0], header[2], header[3], ctx)


def message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`host (client[ip]) - MESSAGE` (syslog) or `host (client[ip]): MESSAGE` (SystemLog)."""
    close = text.find("])")
    if close < 0:
        return None  # daemon lines (startup, shutdown) name no client
    if text.startswith(" - ", close + 2):
        body = text[close + 5 :]
    elif text.startswith(": ", close + 2):
        body = text[close + 4 :]
    else:
        return None
    address = ip(text[text.rfind("[", 0, close) + 1 : close])
    session = f"proftpd:{pid}" if pid else None
    if body.startswith(("USER ", "ANON ")):
        return _login(ts, body, address, session, ctx.source)
    kind = _SESSIONS.get(body)
    if kind is not None:
        return Event(ts, kind, ctx.source, ip=address, session=session)
    detail = next((word for prefix, word in _SECURITY_PREFIXES if body.startswith(prefix)), None)
    if detail is None:
        return None
    return Event(ts, _SECURITY, ctx.source, ip=address, session=session, detail=detail)


def _login(
    ts: datetime, body: str, address: str | None, session: str | None, source: str
) -> Event | None:
    """`USER alice: Login successful.`, `ANON ftp: ...`, `USER x (Login failed): reason`."""
    anonymous = body[0] == "A"
    detail = None
    if body.endswith(_SUCCESS):
        kind, user = _LOGIN_SUCCESS, body[5 : -len(_SUCCESS)]
    elif (at := body.find(_FAILED)) > 0:
        kind, user = _LOGIN_FAILURE, body[5:at]
    elif (at := body.find(_NO_SUCH_USER)) > 0:
        kind, user, detail = _LOGIN_FAILURE, body[5:at], "no_such_user"
    else:
        return None
    if anonymous:
        user = ANONYMOUS_USER
    return Event(ts, kind, source, user, address, anonymous, session=session, detail=detail)
