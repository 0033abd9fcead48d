"""auth.log: sshd and sftp, plus the FTP daemons and PAM lines that share the file."""

from __future__ import annotations

from datetime import datetime

from sentinel.events import Event
from sentinel.parsers import dispatch, pam, proftpd, pureftpd, sftp, sshd, syslog, vsftpd
from sentinel.parsers.context import ParseContext


def parse(line: str, ctx: ParseContext) -> Event | None:
    """Any auth.log line: dispatched by the program that wrote it."""
    header = syslog.split(line.rstrip("\r\n"), ctx)
    if header is None:
        return None
    ts, program, pid, text = header
    handler = PROGRAMS.get(program)
    if handler is None:
        return None
    # dispatch.message inline: a call is a cost on every line of an auth.log
    if text.startswith(_ROUTED):
        if text.startswith(syslog.REPEATED):
            return dispatch.repeated(ts, program, pid, text, handler=handler, ctx=ctx)
        return pam.message(ts, program, text, ctx)
    return handler(ts, pid, text, ctx)


_ROUTED = dispatch.ROUTED  # a module name: read on every line


def sftp_message(ts: datetime, pid: str | None, text: str, ctx: ParseContext) -> Event | None:
    return sftp.message(ts, f"ssh:{pid}" if pid else None, text, ctx)


PROGRAMS: dict[str, dispatch.Message] = {
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
