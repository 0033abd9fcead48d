"""The syslog header in the framings servers' logs come in, down to (time, program, pid, text).

`Nov 22 11:46:07 host prog[pid]: text` (rsyslog's traditional file format, journalctl's
`short`), also with an unpadded day (`Nov 2`), without a host name, with a `[prog]` tag or
a forwarded `<PRI>` in front; RFC 3339 or ISO 8601 stamps in the same place (rsyslog's
`RSYSLOG_FileFormat`, journalctl's `short-iso` and `short-iso-precise`, whose `+0100` has
no colon; a stamp without an offset is read in the source's time zone); and RFC 5424
(`<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - - text`, NILVALUE fields,
structured data, a BOM). rsyslog's `message repeated N times: [ text]` is read by
`repeated`.
"""

from __future__ import annotations

from datetime import datetime

from sentinel.events import MAX_TIMES
from sentinel.parsers.context import ParseContext
from sentinel.parsers.fields import number
from sentinel.parsers.timeparse import MONTHS, iso_time, syslog_time

Header = tuple[datetime, str, str | None, str]
"""Time, program, pid (None when the tag has none), message."""

REPEATED = "message repeated "
_BOM = "\ufeff"
MAX_SD = 64  # structured-data elements read before the line is given up


def split(line: str, ctx: ParseContext) -> Header | None:
    """`Nov 22 11:46:07 host prog[pid]: message` or `2026-11-22T11:46:07+01:00 host ...`."""
    if len(line) > 15 and line[15] == " " and line[3] == " ":
        ts = syslog_time(line[:15], ctx)
        rest = line[16:]
    elif len(line) > 20 and line[10] == "T" and line[4] == "-":
        space = line.find(" ", 19)
        ts = iso_time(line[:space], ctx.tz) if space > 0 else None
        rest = line[space + 1 :]
    else:
        return _unusual(line, ctx)
    if ts is None:
        return None
    fields = rest.split(" ", 2)  # the common case inline: `host prog[pid]: message`
    if len(fields) == 3 and fields[1][-2:] == "]:" and fields[0][-1:] != ":":
        tag = fields[1]
        bracket = tag.find("[")
        if bracket > 0:
            return ts, tag[:bracket], tag[bracket + 1 : -2], fields[2]
    return _tagged(ts, rest)


def _tagged(ts: datetime, rest: str) -> Header | None:
    """`host prog[pid]: message`, `host prog: message`, without the host, `[prog]` tags."""
    fields = rest.split(" ", 2)
    if fields[0][-1:] == ":":  # no host name: the tag comes first
        fields = ["", *rest.split(" ", 1)]
    if len(fields) < 3 or fields[1][-1:] != ":":
        return _bare(ts, fields)
    tag = fields[1]
    if tag[-2:-1] != "]":
        return ts, tag[:-1], None, fields[2]
    bracket = tag.find("[")
    if bracket < 0:
        return None
    if bracket == 0:  # `[sshd]:`
        return ts, tag[1:-2], None, fields[2]
    return ts, tag[:bracket], tag[bracket + 1 : -2], fields[2]


def _bare(ts: datetime, fields: list[str]) -> Header | None:
    """A `[prog]` or `[prog][pid]` tag written without its colon."""
    if len(fields) < 3 or fields[1][:1] != "[" or fields[1][-1:] != "]":
        return None
    tag = fields[1][1:-1]
    program, _, pid = tag.partition("][")
    return (ts, program, pid or None, fields[2]) if program else None


def _unusual(line: str, ctx: ParseContext) -> Header | None:
    """The framings off the hot path: `<PRI>`, RFC 5424, an unpadded day."""
    if line[:1] == "<":
        close = line.find(">", 1, 5)
        if close < 0 or not line[1:close].isdigit():
            return None
        line = line[close + 1 :]
        if line[:2] == "1 ":
            return _rfc5424(line[2:], ctx)
        return split(line, ctx) if line[:1] != "<" else None
    # `Nov 2 11:46:07`: the day unpadded (busybox, some forwarders)
    if len(line) > 14 and line[3] == " " and line[5] == " " and line[14] == " ":
        if line[:3] not in MONTHS or not line[4].isdigit():
            return None
        ts = syslog_time(f"{line[:4]} {line[4:14]}", ctx)
        return None if ts is None else _tagged(ts, line[15:])
    return None


def _rfc5424(rest: str, ctx: ParseContext) -> Header | None:
    """`STAMP HOST APP PROCID MSGID SD [MSG]` after `<PRI>1 `."""
    fields = rest.split(" ", 5)
    if len(fields) < 6:
        return None
    stamp, _host, app, procid, _msgid, tail = fields
    ts = iso_time(stamp, ctx.tz) if stamp != "-" else None
    if ts is None or app == "-":
        return None
    message = _after_structured_data(tail)
    if message is None:
        return None
    if message[:1] == _BOM:
        message = message[1:]
    return ts, app, None if procid == "-" else procid, message


def _after_structured_data(tail: str) -> str | None:
    """The MSG after `-` or `[id k="v"]...` (`\\]` and `\\"` escaped inside values)."""
    if tail[:1] == "-":
        return tail[2:] if tail[1:2] in ("", " ") else None
    at = 0
    for _ in range(MAX_SD):
        if tail[at : at + 1] != "[":
            return None
        at = _element_end(tail, at + 1)
        if at < 0:
            return None
        if tail[at : at + 1] != "[":
            return tail[at + 1 :] if tail[at : at + 1] in ("", " ") else None
    return None


def _element_end(tail: str, at: int) -> int:
    """The index after the `]` that closes the element opened before `at`; -1 if none."""
    quoted = False
    while at < len(tail):
        char = tail[at]
        if char == "\\" and quoted:
            at += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == "]" and not quoted:
            return at + 1
        at += 1
    return -1


def repeated(text: str) -> tuple[int, str] | None:
    """(N, the message) of rsyslog's `message repeated N times: [ message]`; else None.

    rsyslog writes it for N more copies of the message it last logged from the same
    program (with `$RepeatedMsgReduction on`, Ubuntu's default); N is capped at MAX_TIMES.
    """
    times = text.find(" times: [", len(REPEATED))
    if times < 0 or not text.endswith("]"):
        return None
    count = number(text[len(REPEATED) : times])
    if count is None or count < 1:
        return None
    message = text[times + 9 : -1]
    return min(count, MAX_TIMES), message[1:] if message[:1] == " " else message
