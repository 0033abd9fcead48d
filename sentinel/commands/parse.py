"""`sentinel parse`: the events sentinel reads in logs, or with `--missed` the lines it cannot.

Files are read as `replay` reads them (plain or gzip, format per file). Each line is
sorted by the program that wrote it: a line of a program sentinel reads that gives no event
and is not one of its known event-less forms is *missed*, what a user reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from sentinel.commands.replay import ReplayInput, load_inputs
from sentinel.events import Event
from sentinel.parsers import PARSERS
from sentinel.parsers.programs import is_quiet, line_program
from sentinel.pipeline import MAX_LINE
from sentinel.sources.logfile import open_log
from sentinel.textsafe import neutral

MAX_MISSED = 1000  # missed lines printed at most; the rest are counted
MAX_MISSED_CHARS = 400  # characters of a missed line printed at most
OTHER = "other programs"
_DEFAULTS = dict(Event._field_defaults)


@dataclass(slots=True)
class Counts:
    """Lines of one program: read, with an event, without one, of those not understood."""

    lines: int = 0
    events: int = 0
    missed: int = 0


class Tally:
    """Per-program counts, and the missed lines printed so far (bounded)."""

    def __init__(self, out: TextIO, show_missed: bool) -> None:
        self.out = out
        self.show_missed = show_missed
        self.programs: dict[str, Counts] = {}
        self.printed = 0
        self.cut = 0

    def counts(self, program: str) -> Counts:
        found = self.programs.get(program)
        if found is None:
            found = self.programs[program] = Counts()
        return found

    def event(self, name: str, number: int, event: Event) -> None:
        if not self.show_missed:
            self.out.write(json.dumps({"file": name, "line": number, **event_record(event)}))
            self.out.write("\n")

    def missed(self, name: str, number: int, line: str) -> None:
        if not self.show_missed or self.printed >= MAX_MISSED:
            return
        self.printed += 1
        if len(line) > MAX_MISSED_CHARS:
            self.cut += 1
        self.out.write(f"{neutral(name, 400)}:{number}: {neutral(line, MAX_MISSED_CHARS)}\n")


def event_record(event: Event) -> dict[str, Any]:
    """The event as the sample files annotate it: ts, kind, source, fields not at default.

    Event never holds a password: the anonymous "password" a server logs is dropped by
    its parser, and an anonymous session's user is "anonymous".
    """
    record: dict[str, Any] = {"ts": event.ts.isoformat(), "kind": event.kind.value}
    record["source"] = event.source
    for name, default in _DEFAULTS.items():
        value = getattr(event, name)
        if value != default:
            record[name] = getattr(value, "value", value)
    return record


def read_file(item: ReplayInput, name: str, tally: Tally) -> None:
    """Every line of one file, parsed, sorted by program and counted."""
    parse = PARSERS[item.format]
    ctx = item.context
    with open_log(item.path) as stream:
        for number, raw in enumerate(stream, 1):
            oversized = len(raw) > MAX_LINE
            line = raw[:MAX_LINE].decode(errors="replace").rstrip("\r\n")
            event = None if oversized else parse(line, ctx)
            found = line_program(line)
            counts = tally.counts(OTHER if found is None else found[0])
            counts.lines += 1
            if event is not None:
                counts.events += 1
                tally.event(name, number, event)
            elif found is not None and (oversized or not is_quiet(*found)):
                counts.missed += 1
                tally.missed(name, number, line)


def report(tally: Tally, stream: TextIO) -> None:
    """Per-program counts, then what the bounds left out."""
    for program in sorted(tally.programs, key=lambda p: (p == OTHER, p)):
        counts = tally.programs[program]
        if program == OTHER:
            stream.write(f"sentinel: {OTHER}: {counts.lines} lines, not read\n")
            continue
        without = counts.lines - counts.events
        stream.write(
            f"sentinel: {program}: {counts.lines} lines, {counts.events} with an event, "
            f"{without} without ({counts.missed} not understood)\n"
        )
    missed = sum(c.missed for c in tally.programs.values())
    if tally.show_missed and missed > tally.printed:
        stream.write(
            f"sentinel: {missed - tally.printed} more missed lines not shown "
            f"(at most {MAX_MISSED} are printed)\n"
        )
    if tally.cut:
        stream.write(f"sentinel: {tally.cut} missed lines cut to {MAX_MISSED_CHARS} characters\n")


def main(args: argparse.Namespace) -> int:
    loaded = load_inputs(args)
    if loaded is None:
        return 2
    _, inputs = loaded
    tally = Tally(sys.stdout, args.missed)
    for item, name in zip(inputs, args.files, strict=True):
        read_file(item, name, tally)
    sys.stdout.flush()
    report(tally, sys.stderr)
    return 0
