"""vsftpd's own log (`vsftpd.log`, or the same messages through syslog).

Lines are built by logging.c `vsf_log_do_log_vsftpd_format`: `[user] OK|FAIL VERB: Client
"ip"`, then `, "text"` where there is one. A FAIL LOGIN's text is a reason in builds with
Fedora's userlist_log patch (vsftpd-2.1.0-userlist_log.patch, RHEL and Fedora):
`"User is not in the allow user list."` / `"User is in the deny user list."`, refused at USER,
before any password. A CONNECT's text is a refusal (prelogin.c `check_limits`).

The lines most of vsftpd.log is made of, a login and a transfer in the file's own framing
(`... [pid N] [user] OK LOGIN: Client "ip"`, `... OK DOWNLOAD: Client "ip", "/path", 1234
bytes, 12.34Kbyte/sec`), are read by one regular expression (`COMMON`); a line it matches
gives the event the general path gives (tests/test_vsftpd_common.py holds them to it), any
other line takes the general path (`parse_general`).
"""

from __future__ import annotations

import re
from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Direction, Event, Kind, new_event
from sentinel.parsers import dispatch, syslog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ANONYMOUS_NAMES, ip, known, number
from sentinel.parsers.timeparse import ctime_time

_FILE_OPS = {"MKDIR": "mkdir", "RMDIR": "rmdir", "DELETE": "delete", "RENAME": "rename"}
_CLIENT = ': Client "'
_REASONS = {  # a failed login's reason, to the detail word; any other reason: no detail
    "User is not in the allow user list.": "user_list",
    "User is in the deny user list.": "user_list",
}
_TRANSFERS = {"DOWNLOAD": Direction.DOWNLOAD, "UPLOAD": Direction.UPLOAD}
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

COMMON = re.compile(
    # the stamp, the pid, a user name without quote or bracket (the general path's first `] `)
    r'(.{24}) \[pid ([0-9]+)\] \[([^"\]]*)\] (?:'
    # a login that ends with its address (no anonymous "password", no reason), or
    r'(OK|FAIL) LOGIN: Client "([^"]*)"'
    # a transfer: path without quote, bytes (none when nothing was sent) and rate as logged
    r'|(OK|FAIL) (DOWNLOAD|UPLOAD): Client "([^"]*)", "([^"]*)",'
    r" (?:([0-9]{1,19}) bytes, )?[0-9.]+Kbyte/sec)"
)
_LOGINS = {"OK": _LOGIN_SUCCESS, "FAIL": _LOGIN_FAILURE}


def parse(line: str, ctx: ParseContext) -> Event | None:
    """`Sun Nov 22 11:46:07 2026 [pid 1234] [alice] OK LOGIN: Client "127.0.0.1"`."""
    found = _common(line)
    if found is None:
        return parse_general(line, ctx)
    stamp, pid, user, login, at, status, verb, address, path, nbytes = found.groups()
    if login is not None:
        address = at
    address = known(address) or ip(address)
    ts = ctime_time(stamp, ctx.tz)
    if address is None or ts is None:
        return parse_general(line, ctx)  # what the general path makes of it
    anonymous = user in ANONYMOUS_NAMES
    if anonymous:
        user = ANONYMOUS_USER
    if login is not None:
        return new_event(
            (ts, _LOGINS[login], ctx.source, user, address, anonymous, None, None, None,
             "vsftpd:" + pid, True, None, None, 1, None)
        )  # fmt: skip
    return new_event(
        (ts, _TRANSFER, ctx.source, user, address, anonymous, path,
         0 if nbytes is None else int(nbytes), _TRANSFERS[verb], "vsftpd:" + pid,
         status == "OK", None, None, 1, None)
    )  # fmt: skip


_common = COMMON.fullmatch


def parse_general(line: str, ctx: ParseContext) -> Event | None:
    """Any line of vsftpd.log, or a vsftpd message through syslog."""
    # slices compared rather than `startswith`/`endswith`, which parse their arguments:
    # 0.7% of a vsftpd.log replay's instructions, here and in `message` and `_amounts`
    if line[24:30] == " [pid ":
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
    return dispatch.message(ts, program, pid, text, handler=message, ctx=ctx)


def message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    """One vsftpd message, after the time and the pid."""
    session = "vsftpd:" + pid if pid else None
    if text[:17] == 'CONNECT: Client "':
        quote = text.find('"', 17)
        address = ip(text[17:quote]) if quote > 0 else None
        if address is None:
            return None
        # `CONNECT: Client "ip", "Connection refused: too many sessions."`: still a connection
        refused = "refused" if text.startswith(', "Connection refused', quote + 1) else None
        return new_event(
            (ts, _CONNECT, ctx.source, None, address, False, None, None, None, session, True,
             None, refused, 1, None)
        )  # fmt: skip
    if text[:1] != "[":
        return None  # FTP command/response lines of log_ftp_protocol, among others
    # the common lines first: split at their quotes, each piece is one field
    parts = text.split('"', 5)
    user, _, verb = parts[0].partition("] ")
    meaning = _VERBS.get(verb)
    address = (known(parts[1]) or ip(parts[1])) if meaning is not None and len(parts) > 2 else None
    found = None if address is None or meaning is None else _plain(parts, meaning[0])
    if found is None or meaning is None:
        return _search(ts, text, session, ctx)
    kind, ok, direction, action = meaning
    user = user[1:]
    anonymous = user in ANONYMOUS_NAMES
    return new_event(
        (ts, kind, ctx.source, ANONYMOUS_USER if anonymous else user, address, anonymous,
         found[0], found[1], direction, session, ok, action, None, 1, None)
    )  # fmt: skip


_NOTHING = (None, None)


def _plain(parts: list[str], kind: Kind) -> tuple[str | None, int | None] | None:
    """Path and bytes of a line whose fields hold no quote nor separator; else None.

    `parts` is the message split at its quotes. A line that is not this plain is left to
    the careful search, which finds the same event for every plain line.
    """
    if len(parts) == 3:
        # a login, without the anonymous "password" (the careful search checks that)
        login = not parts[2] and kind is not _TRANSFER and kind is not _FILE_OP
        return _NOTHING if login else None
    if len(parts) != 5 or parts[2] != ", " or kind is _LOGIN_FAILURE or kind is _LOGIN_SUCCESS:
        return None
    if kind is _FILE_OP:
        return None if parts[4] else (parts[3], None)
    nbytes = _amounts(parts[4]) if kind is _TRANSFER else None
    return None if nbytes is None else (parts[3], nbytes)


def _amounts(text: str) -> int | None:
    """Bytes from `, 1234 bytes, 12.34Kbyte/sec`, or from the rate alone when none were sent."""
    amounts = text.split(", ")
    if amounts[0] or amounts[-1][-9:] != "Kbyte/sec":
        return None
    if len(amounts) == 2:
        return 0
    count = amounts[1][:-6]
    # ASCII digits only, as logged; a bigger count than 19 digits is no count
    if len(amounts) != 3 or amounts[1][-6:] != " bytes" or not count.isdigit():
        return None
    return int(count) if count.isascii() and len(count) < 20 else None


def _search(ts: datetime, text: str, session: str | None, ctx: ParseContext) -> Event | None:
    """The event of the first `] ` after which the whole line fits, trying a few."""
    search = 1
    for _ in range(MAX_CANDIDATES):
        close = text.find("] ", search)
        if close < 0:
            return None
        event = _candidate(ts, text, close, session, ctx)
        if event is not None:
            return event
        search = close + 1
    return None


def _candidate(
    ts: datetime, text: str, close: int, session: str | None, ctx: ParseContext
) -> Event | None:
    """The event if `text[close]` is the `]` that ends the user name, else None."""
    ok = text.startswith("OK ", close + 2)
    at = close + (5 if ok else 7)
    colon = text.find(_CLIENT, at)
    quote = text.find('"', colon + 10) if colon > 0 else -1
    if quote < 0 or not (ok or text.startswith("FAIL ", close + 2)):
        return None
    address = ip(text[colon + 10 : quote])
    user = text[1:close]
    anonymous = user in ANONYMOUS_NAMES
    if anonymous:
        user = ANONYMOUS_USER
    what, tail = text[at:colon], text[quote + 1 :]
    found = _what(what, tail, ok, anonymous)
    if found is None or address is None:
        return None
    kind, path, nbytes, direction, action = found
    detail = _REASONS.get(tail[3:-1]) if kind is _LOGIN_FAILURE and tail else None
    # `ok` tells failed transfers and file operations; a login's outcome is its kind
    return Event(
        ts, kind, ctx.source, user, address, anonymous, path, nbytes, direction, session,
        ok or what == "LOGIN", action, detail,
    )  # fmt: skip


_What = tuple[Kind, str | None, int | None, Direction | None, str | None]


def _what(what: str, tail: str, ok: bool, anonymous: bool) -> _What | None:
    """Kind, path, bytes, direction and action from what follows `Client "ip"`."""
    if what == "LOGIN":
        # the anonymous "password" follows anonymous logins: checked, never kept; a
        # failure may end with its reason
        anon = anonymous and tail.startswith(', anon password "')
        reason = not ok and tail.startswith(', "')
        if tail and not ((anon or reason) and tail[-1] == '"'):
            return None
        return Kind.LOGIN_SUCCESS if ok else Kind.LOGIN_FAILURE, None, None, None, None
    direction = _TRANSFERS.get(what)
    if direction is not None:
        found = _transfer(tail)
        return None if found is None else (Kind.TRANSFER, *found, direction, None)
    action = _FILE_OPS.get(what)
    if action is None or not tail.startswith(', "') or len(tail) < 4 or tail[-1] != '"':
        return None
    return Kind.FILE_OP, tail[3:-1], None, None, action


def _transfer(tail: str) -> tuple[str, int] | None:
    """`, "/path", 1234 bytes, 12.34Kbyte/sec`; no bytes field when nothing was sent."""
    if not tail.endswith("Kbyte/sec"):
        return None
    head = tail[: tail.rfind(", ")]
    nbytes: int | None = 0
    if head.endswith(" bytes"):
        comma = head.rfind(", ")
        nbytes = number(head[comma + 2 : -6])
        head = head[:comma]
    if nbytes is None or not head.startswith(', "') or len(head) < 4 or head[-1] != '"':
        return None
    return head[3:-1], nbytes
