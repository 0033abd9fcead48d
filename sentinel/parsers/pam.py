"""PAM's authentication failures logged for an FTP daemon (sshd's own are left to sshd)."""

from __future__ import annotations

from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Event, Kind
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ANONYMOUS_NAMES, ip

# module names: reading an enum member costs an attribute lookup on its class
_LOGIN_FAILURE = Kind.LOGIN_FAILURE

# Only FTP daemons whose failures PAM alone tells in auth.log. Not sshd, nor Pure-FTPd:
# each logs its own failure with the client's address (PAM's `rhost` is Pure-FTPd's host
# name), so counting PAM's line too would count one attempt twice. Not sudo or login either.
_FTP_SERVICES = frozenset({"vsftpd", "proftpd", "ftp"})
_FAILURE = ":auth): authentication failure; "


def message(ts: datetime, text: str, ctx: ParseContext) -> Event | None:
    """`pam_unix(vsftpd:auth): authentication failure; logname= uid=0 ... rhost=ip user=x`."""
    marker = text.find(_FAILURE)
    open_paren = text.find("(")
    if marker < 0 or open_paren < 0 or text[open_paren + 1 : marker] not in _FTP_SERVICES:
        return None
    fields = dict(
        item.partition("=")[::2] for item in text[marker + len(_FAILURE) :].split(" ") if item
    )
    # pam_unix omits `user=` for an unknown account; the FTP daemon put the name in `ruser`
    user = fields.get("user") or fields.get("ruser") or None
    address = ip(fields.get("rhost", ""))
    anonymous = user in ANONYMOUS_NAMES
    return Event(
        ts, _LOGIN_FAILURE, ctx.source, ANONYMOUS_USER if anonymous else user, address,
        anonymous, detail="pam",
    )  # fmt: skip
