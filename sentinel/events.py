"""The normalized event that every parser produces and every rule consumes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Kind(enum.Enum):
    """What happened, independent of the server that logged it."""

    CONNECT = "connect"
    LOGIN_SUCCESS = "login_success"
    LOGIN_FAILURE = "login_failure"
    INVALID_USER = "invalid_user"  # sshd's early notice; the failure that follows is what counts
    TRANSFER = "transfer"
    FILE_OP = "file_op"  # mkdir, delete, rename: `action` says which
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    SECURITY = "security"  # ProFTPD's SECURITY VIOLATION and the like


class Direction(enum.Enum):
    DOWNLOAD = "download"
    UPLOAD = "upload"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a server logged, normalized.

    `ts` is always timezone-aware and comes from the log line. `user` is never a password:
    for anonymous sessions it is "anonymous" and `anonymous` is true, whatever the server
    wrote in its user field (vsftpd and ProFTPD write the anonymous "password" there).
    `session` groups the lines of one client session where the server says so (pid, or
    the client's address and port); None where it cannot be known.
    """

    ts: datetime
    kind: Kind
    source: str
    user: str | None = None
    ip: str | None = None
    anonymous: bool = False
    path: str | None = None
    nbytes: int | None = None
    direction: Direction | None = None
    session: str | None = None
    ok: bool = True  # False for a failed transfer or file operation
    action: str | None = None  # for FILE_OP: mkdir, rmdir, delete, rename; for logins: method
    detail: str | None = None  # a short, fixed vocabulary word (e.g. "no_such_user", "pam")


ANONYMOUS_USER = "anonymous"
