"""PAM's authentication failures logged for an FTP daemon (sshd's own are left to sshd).

Three forms of the same pam_unix line, by Linux-PAM's age:
- `vsftpd[1234]: pam_unix(vsftpd:auth): authentication failure; logname= ... rhost=ip user=x`
  (Linux-PAM >= 0.99, libpam/pam_syslog.c: `module(service:type): `);
- `vsftpd(pam_unix)[1234]: authentication failure; ...` (Linux-PAM 0.7x,
  modules/pam_unix/support.c `_log_err`: the module opens syslog as `service(pam_unix)`);
- `vsftpd: (pam_unix) authentication failure; ...` (the module's name as a message prefix
  under the daemon's own tag).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sentinel.events import ANONYMOUS_USER, Event, Kind, new_event
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ANONYMOUS_NAMES, ip

# module names: reading an enum member costs an attribute lookup on its class
_LOGIN_FAILURE = Kind.LOGIN_FAILURE

STARTS = ("pam_", "(pam_")
"""How a PAM module's message starts after the daemon's tag (`str.startswith` takes it)."""
# Only FTP daemons whose failures PAM tells with the client's address. Not sshd, nor
# Pure-FTPd: each logs its own failure with the client's address (Pure-FTPd gives PAM its
# own host name as `rhost`, src/log_pam.c), so counting PAM's line too would count one
# attempt twice. Not sudo or login either. ProFTPD's mod_auth_pam says `ftp` by default.
FTP_SERVICES = frozenset({"vsftpd", "proftpd", "ftp"})
_FAILURE = "authentication failure; "
_Handler = Callable[[datetime, str | None, str, ParseContext], Event | None]


def message(ts: datetime, program: str, text: str, ctx: ParseContext) -> Event | None:
    """A message of `program` that starts with one of `STARTS`; an event for a failure."""
    if text[0] == "(":  # `(pam_unix) authentication failure; ...`: the service is the program
        close = text.find(") ")
        return failure(ts, program, text[close + 2 :], ctx) if close > 0 else None
    open_paren = text.find("(")
    colon = text.find(":", open_paren)
    close = text.find("): ", colon)
    if open_paren < 0 or colon < 0 or close < 0 or text[colon + 1 : close] != "auth":
        return None
    return failure(ts, text[open_paren + 1 : colon], text[close + 3 :], ctx)


def failure(ts: datetime, service: str, text: str, ctx: ParseContext) -> Event | None:
    """`authentication failure; logname= uid=0 euid=0 tty=ftp ruser=x rhost=ip  user=x`."""
    if service not in FTP_SERVICES or not text.startswith(_FAILURE):
        return None
    fields = dict(item.partition("=")[::2] for item in text[len(_FAILURE) :].split(" ") if item)
    # pam_unix omits `user=` for an unknown account; the FTP daemon put the name in `ruser`
    user = fields.get("user") or fields.get("ruser") or None
    address = ip(fields.get("rhost", ""))
    anonymous = user in ANONYMOUS_NAMES
    return new_event(
        (ts, _LOGIN_FAILURE, ctx.source, ANONYMOUS_USER if anonymous else user, address,
         anonymous, None, None, None, None, True, None, "pam", 1, None)
    )  # fmt: skip


def _tagged(service: str) -> _Handler:
    def handler(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
        return failure(ts, service, text, ctx)

    return handler


TAGGED_PROGRAMS = {f"{service}(pam_unix)": _tagged(service) for service in FTP_SERVICES}
"""The Linux-PAM 0.7x tags (`vsftpd(pam_unix)[pid]:`) as auth.log programs, to their handler."""
