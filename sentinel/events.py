"""The normalized event that every parser produces and every rule consumes."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, cast


class Kind(enum.StrEnum):
    """What happened, independent of the server that logged it.

    A StrEnum: it hashes in C, and the pipeline looks kinds up for every line.
    """

    CONNECT = "connect"
    LOGIN_SUCCESS = "login_success"
    LOGIN_FAILURE = "login_failure"
    INVALID_USER = "invalid_user"  # sshd's early notice; the failure that follows is what counts
    TRANSFER = "transfer"
    FILE_OP = "file_op"  # mkdir, delete, rename: `action` says which
    SESSION_START = "session_start"
    SESSION_END = "session_end"
    SECURITY = "security"  # ProFTPD's SECURITY VIOLATION and the like


class Direction(enum.StrEnum):
    DOWNLOAD = "download"
    UPLOAD = "upload"


class Event(NamedTuple):
    """One thing a server logged, normalized; immutable and hashable.

    A NamedTuple rather than a frozen dataclass: it is built in C, about five times
    faster, and every line of every log builds one.

    `ts` is always timezone-aware and comes from the log line. `user` is never a password:
    for anonymous sessions it is "anonymous" and `anonymous` is true, whatever the server
    wrote in its user field (vsftpd and ProFTPD write the anonymous "password" there).
    `session` groups the lines of one client session where the server says so (pid, or
    the client's address and port); None where it cannot be known. `times` is how many
    times the line says it happened: 1, or N for rsyslog's `message repeated N times:
    [ ... ]`, which follows the message's first copy (capped at MAX_TIMES). Where a
    line only summarises attempts (sshd's `maximum authentication attempts exceeded`), the
    pipeline's attempt ledger decides whether they were already counted one by one.
    `server` is set where sentinel watches a fleet (sentinel.fleet): the syslog host field,
    the path's `{server}`, or the source's `server`.
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
    times: int = 1  # how many events this line stands for (rsyslog's repeat notice)
    server: str | None = None  # the server that logged it, in a fleet; None: this one


new_event = cast("Callable[[tuple[Any, ...]], Event]", partial(tuple.__new__, Event))
"""An Event from all its fields in their order, in one tuple: what `Event(...)` builds,
without the generated `__new__` and its defaults (a Python call that costs as much again
as the rest of a parser's hot path). For the lines every log is made of; `Event(...)`
reads better everywhere else."""


MAX_TIMES = 100_000
"""The most events one line may stand for: rsyslog's count is whatever the line says."""


ANONYMOUS_USER = "anonymous"
