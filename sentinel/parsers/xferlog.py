"""The wu-ftpd transfer log that vsftpd, ProFTPD and Pure-FTPd all write (`xferlog`)."""

from __future__ import annotations

import re
from itertools import product

from sentinel.events import ANONYMOUS_USER, Direction, Event, Kind, new_event
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import ANONYMOUS_NAMES, ip
from sentinel.parsers.timeparse import ctime_time

_DIRECTIONS = {"o": Direction.DOWNLOAD, "i": Direction.UPLOAD}
_TRANSFER, _FILE_OP = Kind.TRANSFER, Kind.FILE_OP  # a module name is faster to read
# Only for an anonymous "password" holding spaces, where the fields cannot be counted
# from the right: type, special action, direction and mode after the file name.
_MIDDLE = re.compile(r" [ab] [_CUTN]{1,3} [oid] a ")


def parse(line: str, ctx: ParseContext) -> Event | None:
    """`Mon Nov 23 02:25:49 2026 1 127.0.0.2 39 /path b _ i r alice ftp 0 * c`."""
    if len(line) < 50 or line[24] != " ":
        return None
    head = line[25:].rstrip("\r\n").split(" ", 3)
    if len(head) != 4:
        return None
    fields: list[str] | None = head[3].rsplit(" ", 9)
    if fields is None or len(fields) != 10 or not _plausible(fields):
        fields = _anonymous_fields(head[3])
    if fields is None:
        return None
    path, _type, _special, direction, mode, user, _service, _method, _uid, status = fields
    ts = ctime_time(line[:24], ctx.tz)
    count = head[2]
    # ASCII digits only, as logged; a bigger count than 19 digits is no count
    if ts is None or not (count.isdigit() and count.isascii() and len(count) < 20) or not path:
        return None
    # vsftpd and ProFTPD write the anonymous "password" as the user of mode `a`: never kept
    anonymous = mode == "a" or user in ANONYMOUS_NAMES
    name = ANONYMOUS_USER if anonymous else user
    address = ip(head[1])
    ok = status == "c"
    if direction == "d":
        return Event(
            ts, _FILE_OP, ctx.source, name, address, anonymous, path, None, None, None, ok,
            "delete",
        )  # fmt: skip
    return new_event(
        (ts, _TRANSFER, ctx.source, name, address, anonymous, path, int(count),
         _DIRECTIONS[direction], None, ok, None, None, 1, None)
    )  # fmt: skip


# transfer type, direction, access mode, completion status: one set lookup checks them all
_PLAUSIBLE = frozenset(product(("a", "b"), ("o", "i", "d"), ("a", "g", "r"), ("c", "i")))


def _plausible(fields: list[str]) -> bool:
    return (fields[1], fields[3], fields[4], fields[9]) in _PLAUSIBLE


def _anonymous_fields(rest: str) -> list[str] | None:
    """Fields of an anonymous line whose "password" holds spaces; None if it is not one."""
    match = _MIDDLE.search(rest)
    tail = rest.rsplit(" ", 4)
    if match is None or len(tail) != 5 or tail[4] not in ("c", "i"):
        return None
    middle = match.group().split()
    return [rest[: match.start()], *middle, "", *tail[1:]]
