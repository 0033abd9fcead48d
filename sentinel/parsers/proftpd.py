"""ProFTPD's SystemLog file and its syslog messages (sessions, logins, security).

Forms, from src/log.c `log_write` and modules/mod_auth.c:
- SystemLog since 1.3.5: `2026-11-22 11:46:07,123 host proftpd[1234] server (name[ip]): MSG`;
- SystemLog before 1.3.5: `Nov 22 11:46:07 host proftpd[1234] server (name[ip]): MSG` (a
  syslog-like stamp, and no colon after the pid);
- syslog: `Nov 22 11:46:07 host proftpd[1234]: server (name[ip]) - MSG`, among PAM's lines.
"""

from __future__ import annotations

from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Event, Kind
from sentinel.parsers import dispatch, syslog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip
from sentinel.parsers.timeparse import proftpd_time, syslog_time

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
_NOT_ALIAS = ": user is not a UserAlias from "  # AuthAliasOnly: refused like an unknown user
_SESSIONS = {"FTP session opened.": _SESSION_START, "FTP session closed.": _SESSION_END}
_VIOLATION = "SECURITY VIOLATION: "
# `Maximum login attempts (3) exceeded`: the attempts were each logged, this one is a summary
_MAX_ATTEMPTS = "Maximum login attempts "
# what follows `(Login failed): ` (mod_auth.c auth_pass, setup_env), to a detail word
_REASONS = {
    "User in ": "ftpusers",  # `User in /etc/ftpusers`: a refused account, password right
    "No such user found": "no_such_user",
    "Invalid shell": "invalid_shell",
    "Limit access denies login": "denied",
}


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
    if header is None:
        return _old_systemlog(line, ctx)
    ts, program, pid, text = header
    if program != "proftpd":
        return None
    return dispatch.message(ts, program, pid, text, handler=message, ctx=ctx)


def _old_systemlog(line: str, ctx: ParseContext) -> Event | None:
    """`Nov 22 11:46:07 host proftpd[1234] server (name[ip]): MSG`, ProFTPD < 1.3.5's SystemLog."""
    tag_at = line.find(" ", 16) + 1 if len(line) > 16 and line[15] == " " else 0
    if tag_at <= 0 or not line.startswith("proftpd[", tag_at):
        return None
    tag_end = line.find("] ", tag_at)
    ts = syslog_time(line[:15], ctx)
    if tag_end < 0 or ts is None:
        return None
    return message(ts, line[tag_at + 8 : tag_end], line[tag_end + 2 :], ctx)


def is_old_systemlog(line: str) -> bool:
    """True for a line of the SystemLog of ProFTPD < 1.3.5 (the stamp is not checked)."""
    tag_at = line.find(" ", 16) + 1 if len(line) > 16 and line[15] == " " else 0
    return tag_at > 0 and line.startswith("proftpd[", tag_at) and line.find("] ", tag_at) > 0


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
    return _other(ts, body, address, session, ctx.source)


def _other(
    ts: datetime, body: str, address: str | None, session: str | None, source: str
) -> Event | None:
    """Session open and close, the refused root login, the other security notices."""
    kind = _SESSIONS.get(body)
    if kind is not None:
        return Event(ts, kind, source, ip=address, session=session)
    if not body.startswith((_VIOLATION, _MAX_ATTEMPTS)):
        return None
    if "root login attempted" in body.lower():
        # refused before any password check, and logged by this line alone: one attempt
        return Event(
            ts, _LOGIN_FAILURE, source, "root", address, session=session, detail="root_login"
        )
    detail = "max_login_attempts" if body[0] == "M" else "violation"
    return Event(ts, _SECURITY, source, ip=address, session=session, detail=detail)


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
        reason = body[at + len(_FAILED) :]
        detail = next((word for start, word in _REASONS.items() if reason.startswith(start)), None)
    elif (at := body.find(_NO_SUCH_USER)) > 0 or (at := body.find(_NOT_ALIAS)) > 0:
        kind, user, detail = _LOGIN_FAILURE, body[5:at], "no_such_user"
    else:
        return None
    if anonymous:
        user = ANONYMOUS_USER
    return Event(ts, kind, source, user, address, anonymous, session=session, detail=detail)
