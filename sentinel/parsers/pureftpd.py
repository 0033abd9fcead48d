"""Pure-FTPd's syslog messages: `(user@ip) [LEVEL] message`.

From src/ftpd.c `logfile` (the `(account@host) [LEVEL] ` prefix, `?` before the login) and
src/messages_en.h. `host` is the client's address with `--dontresolve`, else its DNS name
(no address then). Logins: `Authentication failed for user [x]`, `x is now logged in`,
`Anonymous user logged in`; `Can't login as [x]: account disabled (uid < N)` is a refused
login (the password was right); `Too many authentication failures` stands for the last
attempt of a connection, which no other line tells (`dopass` exits after it).
"""

from __future__ import annotations

from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Direction, Event, Kind
from sentinel.parsers import dispatch, syslog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ANONYMOUS_NAMES, ip, number

# module names: reading an enum member costs an attribute lookup on its class
_CONNECT, _FILE_OP, _LOGIN_FAILURE, _LOGIN_SUCCESS, _SESSION_END, _TRANSFER = (
    Kind.CONNECT,
    Kind.FILE_OP,
    Kind.LOGIN_FAILURE,
    Kind.LOGIN_SUCCESS,
    Kind.SESSION_END,
    Kind.TRANSFER,
)

_LOGGED_IN = " is now logged in"
_AUTH_FAILED = "Authentication failed for user ["
_DISABLED = "Can't login as ["
_DISABLED_END = "]: account disabled"
_TOO_MANY = "Too many authentication failures"
_TRANSFERS = ((" downloaded  (", Direction.DOWNLOAD), (" uploaded  (", Direction.UPLOAD))


def parse(line: str, ctx: ParseContext) -> Event | None:
    """`Nov 22 11:46:07 host pure-ftpd: (?@127.0.0.1) [INFO] New connection from 127.0.0.1`."""
    header = syslog.split(line.rstrip("\r\n"), ctx)
    if header is None or header[1] != "pure-ftpd":
        return None
    ts, program, pid, text = header
    return dispatch.message(ts, program, pid, text, handler=message, ctx=ctx)


def message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    """One Pure-FTPd message; the user is `?` until the login succeeded."""
    close = text.find(") [")
    at = text.rfind("@", 0, close)
    level_end = text.find("] ", close + 3)
    if not text.startswith("(") or at < 0 or level_end < 0:
        return None
    address = ip(text[at + 1 : close])
    body = text[level_end + 2 :]
    session = f"pure-ftpd:{pid}" if pid else None
    if body.startswith("New connection from "):
        return Event(ts, _CONNECT, ctx.source, ip=address, session=session)
    login = _login(body)
    if login is not None:
        kind, user, detail = login
        anonymous = user in ANONYMOUS_NAMES
        user = ANONYMOUS_USER if anonymous else user
        return Event(ts, kind, ctx.source, user, address, anonymous, session=session, detail=detail)
    user = text[1:at]
    anonymous = user in ANONYMOUS_NAMES
    name = ANONYMOUS_USER if anonymous else None if user == "?" else user
    if body == "Logout.":
        return Event(ts, _SESSION_END, ctx.source, name, address, anonymous, session=session)
    found = _file(body)
    if found is None:
        return None
    kind, path, nbytes, direction, action = found
    return Event(
        ts, kind, ctx.source, name, address, anonymous, path, nbytes, direction, session,
        action=action,
    )  # fmt: skip


def _login(body: str) -> tuple[Kind, str | None, str | None] | None:
    """`alice is now logged in`, `Anonymous user logged in`, `Authentication failed ...`."""
    if body.endswith(_LOGGED_IN):
        return _LOGIN_SUCCESS, body[: -len(_LOGGED_IN)], None
    if body.startswith("Anonymous user logged in"):
        return _LOGIN_SUCCESS, ANONYMOUS_USER, None
    if body.startswith(_AUTH_FAILED) and body.endswith("]"):
        return _LOGIN_FAILURE, body[len(_AUTH_FAILED) : -1], None
    if body.startswith(_DISABLED) and (end := body.rfind(_DISABLED_END)) > 0:
        return _LOGIN_FAILURE, body[len(_DISABLED) : end], "account_disabled"
    if body == _TOO_MANY:  # the account tried is not logged: `?` until a login
        return _LOGIN_FAILURE, None, "max_login_attempts"
    return None


def _file(body: str) -> tuple[Kind, str, int | None, Direction | None, str | None] | None:
    """`/home/alice//f.txt downloaded  (1234 bytes, 567.89KB/sec)`, `uploaded`, `Deleted /f`."""
    if body.startswith("Deleted "):
        return _FILE_OP, body[8:], None, None, "delete"
    for marker, direction in _TRANSFERS:
        split = body.rfind(marker)
        if split > 0:
            nbytes = number(body[split + len(marker) :].partition(" ")[0])
            return None if nbytes is None else (_TRANSFER, body[:split], nbytes, direction, None)
    return None
