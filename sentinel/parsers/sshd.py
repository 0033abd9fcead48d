"""sshd's authentication messages, OpenSSH 5.x to 10.x, after the syslog header.

Each line says what it is and no more: the attempts it stands for are counted by the
pipeline's attempt ledger (sentinel/attempts.py), which knows which lines of a connection
echo or summarise others. Detail words of the lines that are not a plain attempt:
`pam_error` (`error: PAM: <reason> for X from H`, one keyboard-interactive attempt, logged
before its `Failed keyboard-interactive/pam`), `root_refused` (`ROOT LOGIN REFUSED FROM
H`, before its `Failed ... for root`), `not_allowed` (`User X from H not allowed because
...`, the notice of a user turned away by AllowUsers and the like), and the summaries:
`max_tries` (`maximum authentication attempts exceeded`), `too_many` (the `Too many
authentication failures` disconnect), `preauth_closed` (a connection that left while
authenticating) and `pam_more` (`PAM N more authentication failures`).
"""

from __future__ import annotations

from datetime import datetime

from sentinel.events import Event, Kind, new_event
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip, known, number

# module names: reading an enum member costs an attribute lookup on its class
_INVALID_USER, _LOGIN_FAILURE, _LOGIN_SUCCESS = (
    Kind.INVALID_USER,
    Kind.LOGIN_FAILURE,
    Kind.LOGIN_SUCCESS,
)
_OUTCOMES = {"Accepted ": _LOGIN_SUCCESS, "Failed ": _LOGIN_FAILURE}
_INVALID = "invalid user "
_PREAUTH = " [preauth]"
# what may follow the address where a line ends with it: the port, the protocol, a relay
_AFTER_ADDRESS = frozenset({"port", "ssh2", "ssh1", "via", "[preauth]"})
MAX_CANDIDATES = 4  # ` from ` read from the right: a user name may hold it too
METHODS = frozenset(
    {
        *("password", "publickey", "keyboard-interactive", "hostbased", "gssapi-with-mic"),
        *("gssapi-keyex", "gssapi", "challenge-response", "unknown", "rsa", "rhosts-rsa"),
        *("tis", "kerberos", "pam", "bsdauth", "skey"),
    }
)
"""Methods and keyboard-interactive devices sshd names; any other word is `unknown`."""
_PAM_MORE = " more authentication failure"
_MAX_TRIES = "error: maximum authentication attempts exceeded for "
_TOO_MANY = ": Too many authentication failures"


def message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`Accepted password for alice from 127.0.0.1 port 40022 ssh2`, `Failed`, and the rest."""
    session = f"ssh:{pid}" if pid else None
    head = text[: text.find(" ") + 1]
    kind = _OUTCOMES.get(head)
    if kind is None:
        if head == "Connection ":  # after nearly every failed connection: as common as `Failed`
            return _connection_closed(ts, session, text, ctx)
        if head == "[ID ":  # illumos: `[ID 800047 auth.info] ` before the message
            close = text.find("] ", 4)
            return message(ts, pid, text[close + 2 :] if close > 0 else "", ctx)
        return _notice(ts, session, text, ctx)
    # `Accepted|Failed METHOD for [invalid user ]USER from ...`, the most common: inline
    start = 7 if kind is _LOGIN_FAILURE else 9
    for_at = text.find(" for ", start)
    method = text[start:for_at]
    if for_at < 0 or method == "none":  # `none` is a client probing, not a guess
        return None
    invalid = text.startswith(_INVALID, for_at + 5)
    found = _user_and_address(text, for_at + 18 if invalid else for_at + 5)
    if found is None:
        return None
    return new_event(
        (ts, kind, ctx.source, found[0], found[1], False, None, None, None, session, True,
         method if method in METHODS else method_name(method), "invalid_user" if invalid else None,
         1, None)
    )  # fmt: skip


def _connection_closed(
    ts: datetime, session: str | None, text: str, ctx: ParseContext
) -> Event | None:
    """`Connection closed|reset by authenticating|invalid user X H port N [preauth]`.

    OpenSSH >= 7.5 packet.c names the user being authenticated (auth2.c sets the preamble
    at the first authentication request); without one, the client never tried to log in.
    """
    if text.startswith("closed by ", 11):
        start = 21
    elif text.startswith("reset by ", 11):
        start = 20
    else:
        return None
    if text.startswith("authenticating user ", start):
        start += 20
    elif text.startswith(_INVALID, start):
        start += 13
    else:
        return None
    parts = text[start : -10 if text.endswith(_PREAUTH) else None].rsplit(" ", 3)
    if len(parts) != 4 or parts[2] != "port" or not parts[3].isdigit():
        return None
    return new_event(
        (ts, _LOGIN_FAILURE, ctx.source, parts[0] or None, ip(parts[1]), False, None, None,
         None, session, True, None, "preauth_closed", 1, None)
    )  # fmt: skip


def _notice(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """Every line but `Accepted` and `Failed`."""
    if text.startswith(("Invalid user ", "Illegal user ")):
        found = _user_and_address(_unsuffixed(text), 13)
        if found is None:
            return None
        return Event(ts, _INVALID_USER, ctx.source, found[0], found[1], session=session)
    if text.startswith("ROOT LOGIN REFUSED FROM "):
        return _root_refused(ts, session, text, ctx)
    return _other(ts, session, _unsuffixed(text), ctx)


def _unsuffixed(text: str) -> str:
    return text[: -len(_PREAUTH)] if text.endswith(_PREAUTH) else text


def method_name(method: str) -> str:
    """The method as logged when sshd names it (`keyboard-interactive/pam`), else `unknown`."""
    if method in METHODS:
        return method
    base, _, device = method.partition("/")
    return method if base in METHODS and device in METHODS else "unknown"


def _user_and_address(text: str, start: int) -> tuple[str, str | None] | None:
    """`USER from HOST[ port N][ ...]` from `start`: the user name may hold ` from ` too.

    The host is None where sshd wrote a name instead of an address (UseDNS yes).
    """
    end = len(text)
    for _ in range(MAX_CANDIDATES):
        from_at = text.rfind(" from ", start, end)
        if from_at < 0:
            return None
        rest = text[from_at + 6 :].split(" ", 3)
        if len(rest) == 1 or (
            rest[1] in _AFTER_ADDRESS
            and (rest[1] != "port" or (len(rest) > 2 and rest[2].isdigit() and len(rest[2]) < 6))
        ):
            return text[start:from_at], known(rest[0]) or ip(rest[0])
        end = from_at
    return None


def _other(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """The lines off the hot path, by their first words."""
    head = text[:6]
    if head == "error:":
        return _error(ts, session, text, ctx)
    if head == "Discon":
        return _closed(ts, session, text, ctx)
    if head[:5] == "User " and " not allowed because " in text:
        return _not_allowed(ts, session, text, ctx)
    if head[:4] == "PAM " and text[4:5].isdigit():
        return _pam_more(ts, session, text, ctx)
    return None


def _root_refused(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event:
    """`ROOT LOGIN REFUSED FROM H[ port N]`: root got in and PermitRootLogin turned it away.

    auth.c auth_root_allowed() runs in the monitor and again in the pre-auth child, whose
    copy ends in ` [preauth]` (OpenSSH >= 6.x, where the child's lines go through the
    monitor): the monitor's line is the attempt, the child's is a SECURITY notice.
    """
    preauth = text.endswith(_PREAUTH)
    address = ip(_unsuffixed(text)[24:].split(" ", 1)[0])
    kind = Kind.SECURITY if preauth else _LOGIN_FAILURE
    return Event(ts, kind, ctx.source, "root", address, session=session, detail="root_refused")


def _error(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`error: PAM: <reason> for [illegal user ]X from H`, `error: maximum authentication ...`."""
    if text.startswith("error: PAM: "):
        for_at = text.find(" for ", 12)
        if for_at < 0 or text[12:for_at].lower() == "pam_putenv":
            return None
        start = for_at + 5
        if text.startswith("illegal user ", start):
            start += 13
        found = _user_and_address(text, start)
        if found is None:
            return None
        return Event(
            ts, _LOGIN_FAILURE, ctx.source, found[0], found[1], session=session,
            action="keyboard-interactive", detail="pam_error",
        )  # fmt: skip
    if text.startswith(_MAX_TRIES):
        start = len(_MAX_TRIES)
        start += text.startswith(_INVALID, start) * len(_INVALID)
        found = _user_and_address(text, start)
        if found is None:
            return None
        return _summary(ts, session, found, ctx, detail="max_tries")
    return None


def _summary(
    ts: datetime,
    session: str | None,
    found: tuple[str | None, str | None],
    ctx: ParseContext,
    *,
    detail: str,
    times: int = 1,
) -> Event:
    """A line that stands for attempts the ledger may already have counted one by one."""
    return Event(
        ts, _LOGIN_FAILURE, ctx.source, found[0] or None, found[1], session=session,
        detail=detail, times=times,
    )  # fmt: skip


def _closed(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`Disconnected from authenticating user X H port N` (see `_connection_closed`), and the
    `Too many` disconnect: `Disconnecting authenticating user X H port N: Too many
    authentication failures`, before 7.5 `Disconnecting: Too many authentication failures[
    for X]`.
    """
    if text.startswith("Disconnecting"):
        return _too_many(ts, session, text, ctx)
    if text.startswith("Disconnected from "):
        found = _connection(text[18:])
    else:
        return None
    return None if found is None else _summary(ts, session, found, ctx, detail="preauth_closed")


def _too_many(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    reason = text.find(_TOO_MANY)
    if reason < 0:
        return None
    found: tuple[str | None, str | None] | None
    if reason == 13:  # `Disconnecting: Too many authentication failures[ for X]`
        after = reason + len(_TOO_MANY)
        found = (text[after + 5 :] if text.startswith(" for ", after) else None), None
    else:
        found = _connection(text[14:reason])
    return None if found is None else _summary(ts, session, found, ctx, detail="too_many")


def _connection(text: str) -> tuple[str, str | None] | None:
    """User and address of `authenticating user X H port N` or `invalid user X H port N`."""
    if text.startswith("authenticating user "):
        start = 20
    elif text.startswith(_INVALID):
        start = len(_INVALID)
    else:
        return None  # no user named: a client that never tried to log in
    parts = text[start:].rsplit(" ", 3)
    if len(parts) != 4 or parts[2] != "port" or number(parts[3]) is None:
        return None
    return parts[0], ip(parts[1])


def _not_allowed(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`User X from H not allowed because not listed in AllowUsers` (auth.c allowed_user).

    Also `User X not allowed because account is locked` (no host). A notice like `Invalid
    user`: the attempts that follow are logged as `Failed ... for invalid user X`.
    """
    because = text.rfind(" not allowed because ")  # the reasons are sshd's own words
    head = text[5:because]
    from_at = head.rfind(" from ")
    user, address = (head, None) if from_at < 0 else (head[:from_at], ip(head[from_at + 6 :]))
    return Event(
        ts, _INVALID_USER, ctx.source, user, address, session=session, detail="not_allowed"
    )


def _pam_more(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`PAM 2 more authentication failures; logname= uid=0 ... rhost=H  user=X` (Linux-PAM)."""
    more = text.find(_PAM_MORE, 4)
    count = number(text[4:more]) if more > 0 else None
    semicolon = text.find("; ", more)
    if count is None or semicolon < 0:
        return None
    # pam_unix's fixed fields come first, the user name (a client's, any text) last: the
    # first `rhost=` is the real one, and the user is the rest of the line
    head, _, user = text[semicolon + 2 :].partition(" user=")
    fields: dict[str, str] = {}
    for item in head.split(" "):
        key, _, value = item.partition("=")
        fields.setdefault(key, value)
    address = ip(fields.get("rhost", ""))
    user = user or fields.get("ruser", "")
    return _summary(ts, session, (user, address), ctx, detail="pam_more", times=count)
