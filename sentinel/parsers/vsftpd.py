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
        return Event(ts, Kind.CONNECT, ctx.source, None, address, False, None, None, None, session)
    if not text.startswith("["):
        return None  # FTP command/response lines of log_ftp_protocol, among others
    search = 1
    for _ in range(MAX_CANDIDATES):
        close = text.find("] ", search)
        if close < 0:
            return None
        event = _candidate(ts, text, close, session, ctx.source)
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
        kind = Kind.LOGIN_SUCCESS if ok else Kind.LOGIN_FAILURE
        return Event(ts, kind, source, user, address, anonymous, None, None, None, session)
    direction = _TRANSFERS.get(what)
    if direction is not None:
        found = _transfer(tail)
        if found is None:
            return None
        path, nbytes = found
        return Event(
            ts, Kind.TRANSFER, source, user, address, anonymous, path, nbytes, direction,
            session, ok,
        )  # fmt: skip
    action = _FILE_OPS.get(what)
    if action is None or len(tail) < 4 or not tail.startswith(', "') or tail[-1] != '"':
        return None
    return Event(
        ts, Kind.FILE_OP, source, user, address, anonymous, tail[3:-1], None, None, session,
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
