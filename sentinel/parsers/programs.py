"""Which program wrote a log line, and which of our programs' lines carry nothing by design.

`sentinel parse --missed` shows the lines sentinel read no event from, but only those of
programs it reads, and not the ones it knows to hold nothing (a daemon's start, a PAM
session line, sftp's `open` before the `close` that tells the transfer). Pure functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sentinel.parsers import syslog
from sentinel.parsers.context import ParseContext
from sentinel.parsers.timeparse import ctime_time, proftpd_time

# Year and zone do not matter to tell a program: any fixed context will do.
_CTX = ParseContext("programs", UTC, datetime(2000, 1, 1, tzinfo=UTC))
_SSHD = ("sshd", "sshd-session", "sshd-auth")
_SFTP = ("internal-sftp", "sftp-server")
READ_PROGRAMS = frozenset({*_SSHD, *_SFTP, "vsftpd", "proftpd", "pure-ftpd"})
"""Programs whose syslog lines sentinel reads (their PAM lines included)."""
XFERLOG = "xferlog"
TAG_TOKENS = 6  # a line syslog.split cannot frame: its tag is among its first few words

# Message starts that tell nothing a rule needs: daemon life, connection plumbing, the
# notices that accompany an attempt already logged as a failure or success.
_QUIET_SSHD = (
    "Server listening on ",
    "Received signal ",
    "Received SIGHUP",
    "Connection from ",
    "Connection closed by ",
    "Connection reset by ",
    "Disconnected from ",
    "Received disconnect from ",
    "Starting session: ",
    "Close session: ",
    "Transferred: ",
    "User child is on pid ",
    "Postponed ",
    "subsystem request for ",
    "input_userauth_request: invalid user ",  # OpenSSH < 7.x's echo of `Invalid user`
    "error: kex_exchange_identification: ",
    "banner exchange: ",
    "Did not receive identification string from ",
    "Unable to negotiate with ",
    "Timeout before authentication for ",
    "fatal: Timeout before authentication for ",
    "Exiting on signal ",
    "Failed none for ",  # a client asking which methods it may use, not a guess
    "PAM service(",  # `PAM service(sshd) ignoring max retries; 6 > 3`: configuration
    "Could not open user ",  # an unreadable authorized_keys: configuration, not a guess
    "debug",  # LogLevel DEBUG's lines
)
_QUIET_SFTP = (
    "open ",
    "opendir ",
    "closedir ",
    "stat name ",
    "lstat name ",
    "realpath ",
    "set ",
    "sent status ",
    "debug",
)
_QUIET_PURE = ("Logout", "Timeout", "Can't change directory", "Welcome", "Goodbye")
_QUIET_PROFTPD = (
    "Preparing to chroot to directory ",
    "FTP login timed out",
    "FTP no transfer timeout",
    "Client session idle timeout",
    "FTP session idle timeout",
)
_QUIET_VSFTPD = ("FTP command: ", "FTP response: ", "DEBUG: ")
# PAM: session bookkeeping, and sshd's or Pure-FTPd's auth lines (they log their own).
_PAM_QUIET = (":session): ", ":auth): check pass; user unknown")
_PAM_OWN_FAILURE = {*_SSHD, "pure-ftpd"}


def line_program(line: str) -> tuple[str, str] | None:
    """(program, its message) of a line of a program sentinel reads; None for others.

    A syslog line's program is its tag's (`vsftpd(pam_unix)[12]:` is vsftpd's); the
    own-format files are their server's: vsftpd.log `vsftpd`, ProFTPD's SystemLog
    `proftpd`, a transfer log `xferlog`.
    """
    if len(line) > 30 and ctime_time(line[:24], UTC) is not None:
        if line.startswith(" [pid ", 24):
            close = line.find("] ", 30)
            return "vsftpd", line[close + 2 :] if close > 0 else line[30:]
        return XFERLOG, line[25:]
    systemlog = len(line) > 24 and line[19] == "," and line[10] == " "
    if systemlog and " proftpd[" in line[23:80] and proftpd_time(line[:23], UTC) is not None:
        tag = line.find(" proftpd[") + 1
        return "proftpd", line[line.find(" ", tag) + 1 :]
    header = syslog.split(line, _CTX) if line[:1] != "#" else None  # "#": a comment, no line
    if header is not None:
        program, _, module = header[1].partition("(")
        if program not in READ_PROGRAMS:
            return None
        return program, _as_pam(program, module.rstrip(")"), header[3])
    return _loose(line)


def _as_pam(program: str, module: str, message: str) -> str:
    """Linux-PAM 0.7x's forms (`vsftpd(pam_unix)[1]: msg`, `vsftpd: (pam_unix) msg`) in
    today's (`pam_unix(vsftpd:auth): msg`), so one list of quiet PAM forms serves all."""
    if not module and message.startswith("(pam_"):
        module, _, message = message[1:].partition(") ")
    if not module.startswith("pam_"):
        return message
    return f"{module}({program}:auth): {message}"


def _loose(line: str) -> tuple[str, str] | None:
    """A line syslog.split cannot frame whose first words hold one of our programs' tags;
    never a comment (`#`, as our samples' annotations), which no server writes."""
    if line.startswith("#"):
        return None
    words = line.split(" ", TAG_TOKENS)
    for at, word in enumerate(words[:TAG_TOKENS]):
        name = word.strip("[]:").partition("[")[0].partition("(")[0]
        if name in READ_PROGRAMS:
            return name, " ".join(words[at + 1 :])
    return None


def is_quiet(program: str, message: str) -> bool:
    """True for a message of `program` that carries no event by design; rsyslog's repeat
    notice of one is too."""
    if message.startswith(syslog.REPEATED):
        found = syslog.repeated(message)
        return (
            found is not None
            and not found[1].startswith(syslog.REPEATED)
            and is_quiet(program, found[1])
        )
    if message.startswith("[ID ") and "] " in message:  # illumos' `[ID 800047 auth.info]`
        message = message[message.find("] ") + 2 :]
    if message.startswith("pam_"):
        return _pam_quiet(message)
    quiet = _QUIET.get(program)
    return quiet is not None and quiet(message)


def _pam_quiet(message: str) -> bool:
    service = message[message.find("(") + 1 : message.find(":")]
    own = service in _PAM_OWN_FAILURE and ":auth): authentication failure" in message
    return own or any(marker in message for marker in _PAM_QUIET)


def _sftp_quiet(message: str) -> bool:
    # a `close` of a file nothing was read from nor written to tells no transfer
    return message.startswith(_QUIET_SFTP) or message.endswith(" bytes read 0 written 0")


def _pure_quiet(message: str) -> bool:
    body = message[message.find("] ", message.find(") [")) + 2 :]
    return body.startswith(_QUIET_PURE)


def _proftpd_quiet(message: str) -> bool:
    close = message.find("])")
    # a line that names no client is the daemon's own (start, stop, configuration)
    return close < 0 or message[close + 4 :].lstrip(" ").startswith(_QUIET_PROFTPD)


_QUIET: dict[str, Callable[[str], bool]] = {
    **{name: lambda m: m.startswith(_QUIET_SSHD) for name in _SSHD},
    **dict.fromkeys(_SFTP, _sftp_quiet),
    "pure-ftpd": _pure_quiet,
    "proftpd": _proftpd_quiet,
    "vsftpd": lambda m: _unprefixed(m).startswith(_QUIET_VSFTPD),
}


def _unprefixed(message: str) -> str:
    """A vsftpd message without the `[user] ` its syslog form puts first."""
    if message.startswith("[") and "] " in message:
        return message[message.find("] ") + 2 :]
    return message
