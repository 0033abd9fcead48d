"""auth.log: sshd and sftp, plus the FTP daemons and PAM lines that share the file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sentinel.events import Event, Kind
from sentinel.parsers import pam, proftpd, pureftpd, sftp, syslog, vsftpd
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip, number

# module names: reading an enum member costs an attribute lookup on its class
_INVALID_USER, _LOGIN_FAILURE, _LOGIN_SUCCESS = (
    Kind.INVALID_USER,
    Kind.LOGIN_FAILURE,
    Kind.LOGIN_SUCCESS,
)

_Message = Callable[[datetime, str | None, str, ParseContext], Event | None]
_OUTCOMES = {"Accepted ": _LOGIN_SUCCESS, "Failed ": _LOGIN_FAILURE}
_INVALID = "invalid user "


def parse(line: str, ctx: ParseContext) -> Event | None:
    """Any auth.log line: dispatched by the program that wrote it."""
    header = syslog.split(line.rstrip("\r\n"), ctx)
    if header is None:
        return None
    ts, program, pid, text = header
    handler = PROGRAMS.get(program)
    if handler is None:
        return None
    if text.startswith(pam.STARTS):
        return pam.message(ts, program, text, ctx)
    return handler(ts, pid, text, ctx)


def sshd_message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`Accepted password for alice from 127.0.0.1 port 40022 ssh2`, `Failed`, `Invalid user`."""
    session = f"ssh:{pid}" if pid else None
    if text.startswith("Invalid user "):
        found = _user_and_address(text, 13)
        if found is None:
            return None
        return Event(ts, _INVALID_USER, ctx.source, found[0], found[1], session=session)
    kind = _OUTCOMES.get(text[: text.find(" ") + 1])
    if kind is None:
        return None
    start = 7 if kind is _LOGIN_FAILURE else 9
    for_at = text.find(" for ", start)
    method = text[start:for_at]
    if for_at < 0 or method == "none":  # `none` is a client probing, not a guess
        return None
    invalid = text.startswith(_INVALID, for_at + 5)
    found = _user_and_address(text, for_at + 5 + invalid * len(_INVALID))
    if found is None:
        return None
    detail = "invalid_user" if invalid else None
    return Event(
        ts, kind, ctx.source, found[0], found[1], session=session, action=method, detail=detail
    )


def _user_and_address(text: str, start: int) -> tuple[str, str] | None:
    """`USER from IP port N[ ...]` from `start`; the user name may hold anything, even ` from `."""
    from_at = text.rfind(" from ", start)
    if from_at < 0:
        return None
    rest = text[from_at + 6 :].split(" ", 3)
    address = ip(rest[0])
    if address is None or len(rest) < 3 or rest[1] != "port" or number(rest[2]) is None:
        return None
    return text[start:from_at], address


def sftp_message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    return sftp.message(ts, f"ssh:{pid}" if pid else None, text, ctx)


PROGRAMS: dict[str, _Message] = {
    "sshd": sshd_message,
    "sshd-session": sshd_message,  # OpenSSH >= 9.8 splits the per-connection process
    "sshd-auth": sshd_message,  # OpenSSH >= 10
    "internal-sftp": sftp_message,
    "sftp-server": sftp_message,
    "vsftpd": vsftpd.message,
    "proftpd": proftpd.message,
    "pure-ftpd": pureftpd.message,
    **pam.TAGGED_PROGRAMS,  # Linux-PAM 0.7x: `vsftpd(pam_unix)[pid]: authentication failure; ...`
}
