"""vsftpd's own log (`vsftpd.log`, or the same messages through syslog)."""

from __future__ import annotations

from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Direction, Event, Kind
from sentinel.parsers import pam, syslog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ANONYMOUS_NAMES, ip
from sentinel.parsers.timeparse import ctime_time

_FILE_OPS = {"MKDIR": "mkdir", "RMDIR": "rmdir", "DELETE": "delete", "RENAME": "rename"}
_TRANSFERS = {"DOWNLOAD": Direction.DOWNLOAD, "UPLOAD": Direction.UPLOAD}
_ANON_PASSWORD = ', anon password "'
_LOGIN_SUCCESS, _LOGIN_FAILURE = Kind.LOGIN_SUCCESS, Kind.LOGIN_FAILURE
_TRANSFER, _FILE_OP, _CONNECT = Kind.TRANSFER, Kind.FILE_OP, Kind.CONNECT
_Meaning = tuple[Kind, bool, Direction | None, str | None]  # kind, ok, direction, action
# What may follow the user name, up to the address's opening quote: one lookup reads the
# status, the verb and the `Client` of a plain line (a login's `ok` is its kind's).
_VERBS: dict[str, _Meaning] = {
    "OK LOGIN: Client ": (_LOGIN_SUCCESS, True, None, None),
    "FAIL LOGIN: Client ": (_LOGIN_FAILURE, True, None, None),
    **{
        f"{status} {verb}: Client ": (_TRANSFER, status == "OK", direction, None)
        for verb, direction in _TRANSFERS.items()
        for status in ("OK", "FAIL")
    },
    **{
        f"{status} {verb}: Client ": (_FILE_OP, status == "OK", None, action)
        for verb, action in _FILE_OPS.items()
        for status in ("OK", "FAIL")
    },
}
# A user name may hold `] OK LOGIN: Client "..."` (it is whatever the client sent): the
# real status is the first candidate whose whole line fits; a few tries are enough.
MAX_CANDIDATES = 4


def parse(line: str, ctx: ParseContext) -> Event | None:
    """`Sun Nov 22 11:46:07 2026 [pid 1234] [alice] OK LOGIN: Client "127.0.0.1"`."""
    if line.startswith(" [pid ", 24):
        close = line.find("] ", 30)
        ts = ctime_time(line[:24], ctx.tz)
        if close < 0 or ts is None:
            return None
        return message(ts, line[30:close], line[close + 2 :].rstrip("\r\n"), ctx)
    header = syslog.split(line.rstrip("\r\n"), ctx)
    if header is None:
        return None
    ts, program, pid, text = header
    if program != "vsftpd":
        return None
    if text.startswith("pam_"):
        return pam.message(ts, text, ctx)
    return message(ts, pid, text, ctx)


def message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    """One vsftpd message, after the time and the pid."""
    session = "vsftpd:" + pid if pid else None
    if text.startswith('CONNECT: Client "'):
        address = ip(text[17:-1]) if text.endswith('"') else None
        if address is None:
            return None
        return Event(ts, _CONNECT, ctx.source, None, address, False, None, None, None, session)
    if not text.startswith("["):
        return None  # FTP command/response lines of log_ftp_protocol, among others
    parts = text.split('"', 5)
    user, _, verb = parts[0].partition("] ")
    meaning = _VERBS.get(verb)
    if meaning is not None:
        event = _plain(ts, parts, user[1:], meaning, session, ctx.source)
        if event is not None:
            return event
    return _search(ts, text, session, ctx.source)


def _plain(
    ts: datetime, parts: list[str], user: str, meaning: _Meaning, session: str | None, source: str
) -> Event | None:
    """The event of a line whose user, path and amounts hold no quote nor separator.

    `parts` is the message split at its quotes. None when the line is not that plain: the
    careful search reads it then, and finds the same event for every plain line.
    """
    kind, ok, direction, action = meaning
    address = ip(parts[1]) if len(parts) > 2 else None
    if address is None:
        return None
    anonymous = user in ANONYMOUS_NAMES
    if anonymous:
        user = ANONYMOUS_USER
    if len(parts) == 3:
        if kind is _TRANSFER or kind is _FILE_OP or parts[2]:
            return None  # an anonymous login's "password" among others
        return Event(ts, kind, source, user, address, anonymous, None, None, None, session)
    if len(parts) != 5 or parts[2] != ", ":
        return None
    path = parts[3]
    if kind is _FILE_OP:
        if parts[4]:
            return None
        return Event(
            ts, kind, source, user, address, anonymous, path, None, None, session, ok, action
        )
    # `, 1234 bytes, 12.34Kbyte/sec`, or only the rate when nothing was sent
    amounts = parts[4].split(", ")
    if kind is not _TRANSFER or amounts[0] or not amounts[-1].endswith("Kbyte/sec"):
        return None
    nbytes = 0
    if len(amounts) == 3 and amounts[1].endswith(" bytes"):
        count = amounts[1][:-6]
        if not (count.isdigit() and count.isascii() and len(count) < 20):
            return None
        nbytes = int(count)
    elif len(amounts) != 2:
        return None
    return Event(ts, kind, source, user, address, anonymous, path, nbytes, direction, session, ok)


def _search(ts: datetime, text: str, session: str | None, source: str) -> Event | None:
    """The event of the first `] ` after which the whole line fits, trying a few."""
    search = 1
    for _ in range(MAX_CANDIDATES):
        close = text.find("] ", search)
        if close < 0:
            return None
        event = _candidate(ts, text, close, session, source)
        if event is not None:
            return event
        search = close + 1
    return None


def _candidate(
    ts: datetime, text: str, close: int, session: str | None, source: str
) -> Event | None:
    """The event if `text[close]` is the `]` that ends the user name, else None.

    After it: `OK|FAIL VERB: Client "ip"` and what the verb adds (no verb holds a colon).
    """
    ok = text.startswith("OK ", close + 2)
    if not ok and not text.startswith("FAIL ", close + 2):
        return None
    at = close + 5 if ok else close + 7
    colon = text.find(":", at)
    quote = text.find('"', colon + 10)
    if colon < 0 or quote < 0 or not text.startswith(' Client "', colon + 1):
        return None
    address = ip(text[colon + 10 : quote])
    if address is None:
        return None
    what, tail = text[at:colon], text[quote + 1 :]
    user = text[1:close]
    anonymous = user in ANONYMOUS_NAMES
    if anonymous:
        user = ANONYMOUS_USER
    if what == "LOGIN":
        # the anonymous "password" follows anonymous logins: checked, never kept
        if tail and not (anonymous and tail.startswith(_ANON_PASSWORD) and tail[-1] == '"'):
            return None
        kind = _LOGIN_SUCCESS if ok else _LOGIN_FAILURE
        return Event(ts, kind, source, user, address, anonymous, None, None, None, session)
    direction = _TRANSFERS.get(what)
    if direction is not None:
        found = _transfer(tail)
        if found is None:
            return None
        path, nbytes = found
        return Event(
            ts, _TRANSFER, source, user, address, anonymous, path, nbytes, direction,
            session, ok,
        )  # fmt: skip
    action = _FILE_OPS.get(what)
    if action is None or len(tail) < 4 or not tail.startswith(', "') or tail[-1] != '"':
        return None
    return Event(
        ts, _FILE_OP, source, user, address, anonymous, tail[3:-1], None, None, session,
        ok, action,
    )  # fmt: skip


def _transfer(tail: str) -> tuple[str, int] | None:
    """`, "/path", 1234 bytes, 12.34Kbyte/sec`; no bytes field when nothing was sent."""
    if not tail.endswith("Kbyte/sec"):
        return None
    head = tail[: tail.rfind(", ")]
    nbytes = 0
    if head.endswith(" bytes"):
        comma = head.rfind(", ")
        count = head[comma + 2 : -6]
        # ASCII digits only, as logged; a bigger count than 19 digits is no count
        if not (count.isdigit() and count.isascii() and len(count) < 20):
            return None
        nbytes = int(count)
        head = head[:comma]
    if len(head) < 4 or not head.startswith(', "') or head[-1] != '"':
        return None
    return head[3:-1], nbytes
