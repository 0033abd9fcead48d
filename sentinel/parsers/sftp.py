"""OpenSSH's sftp server (internal-sftp, sftp-server) at LogLevel INFO: sessions and files."""

from __future__ import annotations

from datetime import datetime

from sentinel.events import Direction, Event, Kind, new_event
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ip, number

# module names: reading an enum member costs an attribute lookup on its class
_FILE_OP, _SESSION_END, _SESSION_START, _TRANSFER = (
    Kind.FILE_OP,
    Kind.SESSION_END,
    Kind.SESSION_START,
    Kind.TRANSFER,
)
_DOWNLOAD, _UPLOAD = Direction.DOWNLOAD, Direction.UPLOAD

_OPENED = "session opened for local user "
_CLOSED = "session closed for local user "
_BYTES = '" bytes read '
_FILE_OPS = (
    ('remove name "', "delete"),
    ('mkdir name "', "mkdir"),
    ('rmdir name "', "rmdir"),
    ('rename old "', "rename"),
)
_FILE_OP_STARTS = tuple(prefix for prefix, _ in _FILE_OPS)


def message(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """One sftp message. Only the session lines name user and address; the rest, the pid."""
    if text.startswith('close "'):
        return _close(ts, session, text, ctx)
    if text.startswith((_OPENED, _CLOSED)):
        return _session(ts, session, text, ctx)
    if not text.startswith(_FILE_OP_STARTS):
        return None  # `open "..."`, `opendir`, `closedir`, ...: one test, not four
    for prefix, action in _FILE_OPS:
        if text.startswith(prefix):
            # mkdir adds ` mode 0777` after the name
            end = text.find('" new "') if action == "rename" else text.rfind('"')
            if end > len(prefix):
                path = text[len(prefix) : end]
                source = ctx.source
                return new_event(
                    (ts, _FILE_OP, source, None, None, False, path, None, None, session, True,
                     action, None, 1, None)
                )  # fmt: skip
            return None
    return None


def _close(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`close "/path" bytes read N written M`: a download if anything was read, else upload."""
    split = text.rfind(_BYTES)
    counts = text[split + len(_BYTES) :].split(" ")
    if split < 0 or len(counts) != 3 or counts[1] != "written":
        return None
    read, written = number(counts[0]), number(counts[2])
    if read is None or written is None or not (read or written):
        return None
    direction = _DOWNLOAD if read else _UPLOAD
    return new_event(
        (ts, _TRANSFER, ctx.source, None, None, False, text[7:split], read or written,
         direction, session, True, None, None, 1, None)
    )  # fmt: skip


def _session(ts: datetime, session: str | None, text: str, ctx: ParseContext) -> Event | None:
    """`session opened for local user alice from [127.0.0.1]` (or `closed`)."""
    split = text.rfind(" from [")
    if split < 0 or not text.endswith("]"):
        return None
    kind = _SESSION_START if text[8] == "o" else _SESSION_END
    user = text[len(_OPENED) : split]
    return new_event(
        (ts, kind, ctx.source, user, ip(text[split + 7 : -1]), False, None, None, None, session,
         True, None, None, 1, None)
    )  # fmt: skip
