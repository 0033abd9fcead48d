"""auth.log: sshd and sftp, plus the FTP daemons and PAM lines that share the file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sentinel.events import MAX_TIMES, Event
from sentinel.parsers import pam, proftpd, pureftpd, sftp, sshd, syslog, vsftpd
from sentinel.parsers.context import ParseContext

_Message = Callable[[datetime, str | None, str, ParseContext], Event | None]


def parse(line: str, ctx: ParseContext) -> Event | None:
    """Any auth.log line: dispatched by the program that wrote it."""
    header = syslog.split(line.rstrip("\r\n"), ctx)
    if header is None:
        return None
    ts, program, pid, text = header
    handler = PROGRAMS.get(program)
    if handler is None:
        return None
    if text[:1] == "m" and text.startswith(syslog.REPEATED):
        return _repeated(ts, program, pid, text, handler=handler, ctx=ctx)
    if text.startswith(pam.STARTS):
        return pam.message(ts, program, text, ctx)
    return handler(ts, pid, text, ctx)


def _repeated(
    ts: datetime,
    program: str,
    pid: str | None,
    text: str,
    *,
    handler: _Message,
    ctx: ParseContext,
) -> Event | None:
    """rsyslog's `message repeated N times: [ text]`: the event of `text`, N times over."""
    found = syslog.repeated(text)
    if found is None:
        return None
    times, inner = found
    if inner.startswith(syslog.REPEATED):
        return None  # rsyslog never nests them: a client wrote this
    if inner.startswith(pam.STARTS):
        event = pam.message(ts, program, inner, ctx)
    else:
        event = handler(ts, pid, inner, ctx)
    if event is None:
        return None
    return event._replace(times=min(event.times * times, MAX_TIMES))


def sftp_message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    return sftp.message(ts, f"ssh:{pid}" if pid else None, text, ctx)


PROGRAMS: dict[str, _Message] = {
    "sshd": sshd.message,
    "sshd-session": sshd.message,  # OpenSSH >= 9.8 splits the per-connection process
    "sshd-auth": sshd.message,  # OpenSSH >= 10
    "internal-sftp": sftp_message,
    "sftp-server": sftp_message,
    "vsftpd": vsftpd.message,
    "proftpd": proftpd.message,
    "pure-ftpd": pureftpd.message,
    **pam.TAGGED_PROGRAMS,  # Linux-PAM 0.7x: `vsftpd(pam_unix)[pid]: authentication failure; ...`
}
