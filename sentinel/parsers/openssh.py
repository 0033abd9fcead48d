"""auth.log: sshd and sftp, plus the FTP daemons and PAM lines that share the file.

sshd's attempt in rsyslog's traditional framing, `Nov 22 11:46:07 host sshd[pid]: Failed
password for [invalid user ]X from 1.2.3.4 port N ssh2` (and `Accepted`), is read by one
regular expression (`ATTEMPT`): it is every line of a brute-force flood, the log sentinel
must keep up with most. So are the sftp server's `close "PATH" bytes read N written M` and
`open ...` (no event), most lines of a busy SFTP exchange (`SFTP_FILE`). A line either
matches gives the event the general path would give (tests/test_openssh_attempt.py holds
them to it); any other line, or one of these with anything more or less, takes the general
path (`parse_general`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sentinel.events import Direction, Event, Kind, new_event
from sentinel.parsers import dispatch, pam, proftpd, pureftpd, sftp, sshd, syslog, vsftpd
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip, known
from sentinel.parsers.timeparse import syslog_time

# the stamp as syslog.split reads it, then a host (not ending with a colon: possessive, then
# looked back at, so that another program's line fails at once): both expressions start so
_STAMP_AND_HOST = r"([A-Z][a-z][a-z] [ 0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]) [^ ]*+(?<=[^ :])"
ATTEMPT = re.compile(
    # sshd's tag
    _STAMP_AND_HOST + r" sshd(?:-session|-auth)?\[([0-9]+)\]: "
    # sshd.message's `Accepted|Failed METHOD for [invalid user ]USER from ADDRESS port N
    # ssh2`: `invalid user ` taken whenever it is there (possessive), as sshd.message does;
    # an address of address characters only, so that the ` from ` before it is the last one
    r"(Failed|Accepted) ([^ ]+) for (invalid user )?+(.*) from ([0-9a-fA-F.:]+)"
    r" port [0-9]{1,5} ssh2"
)
_OUTCOMES = {"Failed": Kind.LOGIN_FAILURE, "Accepted": Kind.LOGIN_SUCCESS}
SFTP_FILE = re.compile(
    # the sftp server's tag (sftp_message)
    _STAMP_AND_HOST + r" (?:internal-sftp|sftp-server)\[([0-9]+)\]: "
    # sftp._close's line (the last `" bytes read `: the expression's is, the counts after it
    # being digits), or an `open` line, which sftp.message gives no event for
    r'(?:close "(.*)" bytes read ([0-9]{1,19}) written ([0-9]{1,19})|open .*)'
)
_DOWNLOAD, _UPLOAD, _TRANSFER = Direction.DOWNLOAD, Direction.UPLOAD, Kind.TRANSFER


def parse(line: str, ctx: ParseContext) -> Event | None:
    """Any auth.log line: sshd's attempt and sftp's file lines at once, the others by program."""
    # one comparison keeps the expression off the lines that cannot be an attempt
    found = _attempt(line) if line[-5:] == " ssh2" else None
    if found is None:
        if "sftp" in line:  # both sftp servers' tags hold it
            sftp_file = _sftp_file(line)
            if sftp_file is not None:
                return _file(sftp_file.groups(), ctx)
        return parse_general(line, ctx)
    stamp, pid, outcome, method, invalid, user, address = found.groups()
    if method == "none":  # as sshd.message: a client probing, not a guess
        return None
    ts = syslog_time(stamp, ctx)
    if ts is None:
        return None
    if method not in sshd.METHODS:
        method = sshd.method_name(method)
    return new_event(
        (ts, _OUTCOMES[outcome], ctx.source, user, known(address) or ip(address), False, None,
         None, None, "ssh:" + pid, True, method, "invalid_user" if invalid else None, 1, None)
    )  # fmt: skip


def _file(found: tuple[Any, ...], ctx: ParseContext) -> Event | None:
    """The transfer of a `close` line (none when nothing moved), as sftp._close makes it."""
    stamp, pid, path, read, written = found
    if path is None:  # an `open` line
        return None
    read, written = int(read), int(written)
    ts = syslog_time(stamp, ctx)
    if ts is None or not (read or written):
        return None
    return new_event(
        (ts, _TRANSFER, ctx.source, None, None, False, path, read or written,
         _DOWNLOAD if read else _UPLOAD, "ssh:" + pid, True, None, None, 1, None)
    )  # fmt: skip


_attempt = ATTEMPT.fullmatch
_sftp_file = SFTP_FILE.fullmatch


def parse_general(line: str, ctx: ParseContext) -> Event | None:
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
