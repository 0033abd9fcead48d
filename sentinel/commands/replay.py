"""`sentinel replay`: existing logs through the daemon's pipeline, incidents on stdout.

One record per incident, its last: `closed` with the final extent, or `open` when the log
ended while it went on. `--updates` prints every record as the daemon would have made it
(open, update, closed), before any cooldown or target selection.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sentinel.alerts import CLOSED, Alert
from sentinel.commands.output import AlertOutput
from sentinel.config import Config, load_or_exit
from sentinel.events import Event
from sentinel.fleet import names_servers
from sentinel.fleet.naming import named
from sentinel.fleet.paths import fleet_source
from sentinel.heap import settle
from sentinel.parsers import PARSERS, detect_format
from sentinel.parsers.context import ParseContext, Parser
from sentinel.pipeline import Pipeline
from sentinel.progress import Progress
from sentinel.sources.logfile import chunks, head_lines, open_log, reference_time
from sentinel.stats import SourceStats


@dataclass(frozen=True, slots=True)
class ReplayInput:
    path: Path
    format: str
    context: ParseContext
    server: str | None = None  # a fleet's server, from the source's `{server}` or `server`
    from_host: bool = False  # the syslog host field names the server (a fleet)

    def parser(self) -> Parser:
        parse = PARSERS[self.format]
        if self.server is None and not self.from_host:
            return parse
        return named(parse, self.server, from_host=self.from_host)

    @property
    def group(self) -> str:
        """Files of one group are read in turn (rotations); groups merge by event time."""
        return (
            self.context.source if self.server is None else f"{self.context.source}:{self.server}"
        )


class UsageError(Exception):
    """A file that cannot be replayed as asked: one line, exit 2."""


def plan_inputs(
    config: Config, files: list[str], forced: str, hint: str = "give it with --format"
) -> list[ReplayInput]:
    """Check every file and pick its format and context before analysing any of them.
    `hint` says how to name the format of a log that cannot be recognised."""
    configured = {s.path.resolve(): s for s in config.sources if s.path is not None}
    from_host = names_servers(config)
    inputs = []
    for name in files:
        path = Path(name)
        try:
            lines = head_lines(path)
            source = configured.get(path.resolve())
            server = source.server if source is not None else None
            if source is None:
                source, server = fleet_source(config, path)
            tz = (source.timezone if source else None) or config.timezone
            reference = reference_time(path, tz)
        except OSError as error:
            raise UsageError(f"{name}: {error.strerror or error}") from None
        fmt = forced
        if fmt == "auto" and source is not None and source.format != "auto":
            fmt = source.format
        if fmt == "auto":
            fmt = detect_format(lines) or ""
            if not fmt and lines:
                raise UsageError(f"{name}: log format not recognised; {hint}")
            fmt = fmt or "vsftpd"  # an empty file: any parser reads nothing from it
        label = source.name if source is not None else fmt
        context = ParseContext(label, tz, reference)
        inputs.append(ReplayInput(path, fmt, context, server, from_host))
    return inputs


Emit = Callable[[Sequence[Alert]], None]  # takes the alerts found in a batch of lines


def replay(pipeline: Pipeline, inputs: list[ReplayInput], emit: Emit) -> None:
    """Files of one source in the order given; several sources merged by event time.

    The daemon reads its sources side by side, so a replay of vsftpd.log with xferlog and
    auth.log must interleave them the same way to raise the same alerts.
    """
    groups: dict[str, list[ReplayInput]] = {}
    for item in inputs:
        groups.setdefault(item.group, []).append(item)
    # e.g. vsftpd.log with the auth.log of its PAM; a fleet's per-host auth.log holds both
    pipeline.pair_sources(len(inputs) > 1 or names_servers(pipeline.config))
    if len(groups) == 1:
        for item in inputs:
            _replay_file(pipeline, item, emit)
        return
    streams = [_events(pipeline, group) for group in groups.values()]
    process = pipeline.process_event
    for _, _, event, stats in heapq.merge(*streams, key=lambda e: (e[0], e[1])):
        found = process(event, stats)
        if found:
            emit(found)


def finals(emit: Emit) -> Emit:
    """Only the records that end an incident; the rest wait for `Pipeline.finish`."""

    def closed_only(records: Sequence[Alert]) -> None:
        final = [record for record in records if record.status == CLOSED]
        if final:
            emit(final)

    return closed_only


def _replay_file(pipeline: Pipeline, item: ReplayInput, emit: Emit) -> None:
    parse = item.parser()
    stats = pipeline.stats_for(item.context.source)
    process = pipeline.process_chunk
    ctx = item.context
    progress = Progress(item.path.stat().st_size, label=item.path.name)
    with open_log(item.path) as stream:
        for chunk in chunks(stream):
            found = process(chunk, parse, ctx, stats)
            if found:
                emit(found)
            progress.update(_consumed(stream))
    progress.close()


def _events(
    pipeline: Pipeline, group: list[ReplayInput]
) -> Iterator[tuple[float, int, Event, SourceStats]]:
    """One source's events in file order, keyed by event time for the merge."""
    parse_raw = pipeline.parse_raw
    sequence = 0
    for item in group:
        parse = item.parser()
        stats = pipeline.stats_for(item.context.source)
        with open_log(item.path) as stream:
            for raw in stream:
                event = parse_raw(raw, parse, item.context, stats)
                if event is not None:
                    sequence += 1
                    yield event.ts.timestamp(), sequence, event, stats


def _consumed(stream: object) -> int:
    """Bytes of the file read so far (of the compressed file for .gz)."""
    inner = getattr(stream, "fileobj", stream)
    try:
        return int(inner.tell())  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        return 0


def _report(pipeline: Pipeline, alerts: int, stream: TextIO) -> None:
    lines = sum(s.lines for s in pipeline.stats.values())
    unparsed = sum(s.unparsed for s in pipeline.stats.values())
    invalid = sum(s.invalid_utf8 for s in pipeline.stats.values())
    extra = f", {invalid} with invalid UTF-8" if invalid else ""
    stream.write(
        f"sentinel: {lines} lines, {unparsed} without an event{extra}; "
        f"{alerts} incident {'record' if alerts == 1 else 'records'}\n"
    )


def load_inputs(args: argparse.Namespace) -> tuple[Config, list[ReplayInput]] | None:
    """The configuration and the planned files of a command that reads logs as `replay`
    does; None after a usage error, said in one line on stderr."""
    config = load_or_exit(args, required=False)
    try:
        return config, plan_inputs(config, args.files, args.format)
    except UsageError as error:
        print(f"sentinel: error: {error}", file=sys.stderr)
        return None


def main(args: argparse.Namespace) -> int:
    loaded = load_inputs(args)
    if loaded is None:
        return 2
    config, inputs = loaded
    every = bool(getattr(args, "updates", False))
    pipeline = Pipeline(config, progress=every)
    settle()  # the pipeline set up: the collector set for the lines (sentinel.heap)
    output = AlertOutput(sys.stdout, args.json)
    replay(pipeline, inputs, output.write if every else finals(output.write))
    output.write(pipeline.finish())
    sys.stdout.flush()
    _report(pipeline, output.count, sys.stderr)
    return 0
