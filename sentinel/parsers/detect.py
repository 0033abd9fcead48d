"""`--format auto`: recognise a log's format from its first lines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sentinel.parsers import pam, proftpd, syslog, xferlog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.timeparse import ctime_time, iso_time

# Detection ignores the year: any fixed reference will do (and keeps detection pure).
_CTX = ParseContext("detect", UTC, datetime(2000, 1, 1, tzinfo=UTC))
_SYSLOG_FORMATS = {
    "sshd": "openssh",
    "sshd-session": "openssh",
    "sshd-auth": "openssh",
    "internal-sftp": "openssh",
    "sftp-server": "openssh",
    "vsftpd": "vsftpd",
    "proftpd": "proftpd",
    "pure-ftpd": "pureftpd",
}


def line_format(line: str) -> tuple[bool, str | None] | None:
    """(is it a syslog line, the format) of one line; None when we read no such line.

    A syslog line of a program we do not know has format None.
    """
    if line.startswith(" [pid ", 24) and ctime_time(line[:24], UTC) is not None:
        return False, "vsftpd"
    if xferlog.parse(line, _CTX) is not None:
        return False, "xferlog"
    if len(line) > 24 and line[19] == "," and " proftpd[" in line[23:80]:
        return (False, "proftpd") if iso_time(line[:23], UTC) is not None else None
    header = syslog.split(line, _CTX)
    if header is None:
        return (False, "proftpd") if proftpd.is_old_systemlog(line) else None
    program, text = header[1], header[3]
    if text.startswith(pam.STARTS) or program in pam.TAGGED_PROGRAMS:
        # PAM's lines are auth.log's; Pure-FTPd's tell nothing (their rhost is its own name)
        return True, None if program == "pure-ftpd" else "openssh"
    return True, _SYSLOG_FORMATS.get(program)


def detect_format(lines: list[str]) -> str | None:
    """The format most of `lines` are in; None when they are in none we read.

    A syslog file whose lines are one FTP daemon's own messages only is that daemon's
    format; any other syslog file (sshd, PAM's lines, several daemons mixed, or none yet)
    is read as auth.log, whose parser reads every program's lines.
    """
    own: Counter[str] = Counter()
    daemons: Counter[str | None] = Counter()
    for found in map(line_format, lines):
        if found is not None:
            (daemons if found[0] else own)[found[1]] += 1  # type: ignore[index]
    if not own and not daemons:
        return None
    if own and max(own.values()) > daemons.total():
        return own.most_common(1)[0][0]
    ftp = [name for name in daemons if name is not None and name != "openssh"]
    return ftp[0] if len(ftp) == 1 and "openssh" not in daemons else "openssh"
