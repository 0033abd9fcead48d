"""What a parser needs besides the line: the source's name, its time zone, a reference date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from sentinel.events import Event


@dataclass(frozen=True, slots=True)
class ParseContext:
    """Per-file facts a pure parser may use.

    `tz` reads time-zone-less timestamps. `reference` is the file's modification time (or,
    when following live, the injected clock's now): year-less syslog timestamps take its
    year, or the year before when the month/day lies after it (December→January rollover).
    """

    source: str
    tz: tzinfo
    reference: datetime


class Parser(Protocol):
    def __call__(self, line: str, ctx: ParseContext, /) -> Event | None: ...
