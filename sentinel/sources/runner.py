"""Feeds each configured source's new lines through the pipeline, in bounded batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sentinel.alerts import Alert
from sentinel.config.model import Config, SourceConfig
from sentinel.fleet.naming import named
from sentinel.parsers import PARSERS, detect_format
from sentinel.parsers.context import ParseContext, Parser
from sentinel.pipeline import Pipeline
from sentinel.sources.logfile import head_lines
from sentinel.stats import SourceStats

log = logging.getLogger("sentinel.sources")
BATCH_BYTES = 1 << 20
DISCOVER_EVERY = 0.5  # seconds between two looks for new files of pattern sources
REFRESH_POSITIONS_EVERY = 10.0  # seconds (clock) between two commits of every position


class LineReader(Protocol):
    """A followed file or journal: new complete lines and the position after them."""

    def read(self) -> tuple[list[bytes], Any, bool]:
        """(lines, position after them, more pending)."""
        ...

    @property
    def missing(self) -> bool: ...

    def current_position(self) -> Any: ...

    def close(self) -> None: ...


@runtime_checkable
class Launchable(Protocol):
    """A reader with something to start with the daemon: a follower opens its file, a
    journal reader starts journalctl."""

    def launch(self) -> None: ...


Commit = Callable[[dict[str, Any], list[Alert]], None]


@dataclass
class SourceRunner:
    """One source: its reader, its parser (found from the first lines for `auto`), counters."""

    config: SourceConfig
    reader: LineReader
    tz: tzinfo
    stats: SourceStats
    parse: Parser | None = None
    last_line_wall: float = 0.0
    key: str = ""  # the store's key of its position: the source's name, or name:path (a fleet)
    file: Path | None = None  # the file it follows, when the source's path is a pattern
    server: str | None = None  # the server it is of, in a fleet (the path's or the source's)
    from_host: bool = False  # lines name their server in the syslog host field (a fleet)
    counted: tuple[int, int, int] = (0, 0, 0)  # the reader's counters already in `stats`
    stored: Any = None  # the position last handed to the store

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def position_key(self) -> str:
        return self.key or self.config.name

    def resolve_parser(self) -> Parser | None:
        if self.parse is not None:
            return self.parse
        fmt = self.config.format
        if fmt == "auto":
            path = self.file or self.config.path
            if path is None:
                fmt = "openssh"  # a journal is syslog
            else:
                try:
                    fmt = detect_format(head_lines(path)) or ""
                except OSError:
                    fmt = ""
                if not fmt:
                    return None  # empty or unknown yet: try again with more lines
        self.parse = PARSERS[fmt]
        if self.from_host or self.server is not None:
            self.parse = named(self.parse, self.server, from_host=self.from_host)
        return self.parse


class SourceSet:
    """All runners; `drain` reads what is available and commits it with its alerts."""

    def __init__(
        self,
        pipeline: Pipeline,
        runners: list[SourceRunner],
        clock: Callable[[], float],
        discover: Callable[[], list[SourceRunner]] | None = None,
    ):
        self.pipeline = pipeline
        self.runners = runners
        self.clock = clock
        self.discover = discover  # new files of pattern sources (a server joining a fleet)
        self._next_discovery = 0.0
        self._next_refresh = 0.0

    def _discover(self) -> None:
        """Follows the files that appeared since the last look, at most every DISCOVER_EVERY."""
        now = time.monotonic()
        if self.discover is None or now < self._next_discovery:
            return
        self._next_discovery = now + DISCOVER_EVERY
        for runner in self.discover():
            log.info("following %s (%s)", runner.file, runner.server or runner.name)
            if isinstance(runner.reader, Launchable):
                runner.reader.launch()
            self.runners.append(runner)

    def drain(self, commit: Commit) -> bool:
        positions: dict[str, Any] = {}
        alerts: list[Alert] = []
        more = False
        self._discover()
        now = self.clock()
        # every position again now and then: one a failing store lost is stored once it works
        refresh = now >= self._next_refresh
        if refresh:
            self._next_refresh = now + REFRESH_POSITIONS_EVERY
        for runner in self.runners:
            parse = runner.resolve_parser()
            if parse is None:
                continue
            lines, position, pending = runner.reader.read()
            counters = getattr(runner.reader, "counters", None)  # followers count rotations
            if counters is not None:  # added as deltas: files of one source share counters
                stats = runner.stats
                counted = (
                    counters.rotations + counters.truncations,
                    counters.cut_lines,
                    counters.errors,
                )
                rotations, cut, errors = runner.counted
                stats.rotations += counted[0] - rotations
                stats.cut_lines += counted[1] - cut
                stats.read_errors += counted[2] - errors
                runner.counted = counted
            more = more or pending
            if position is None:
                continue
            if refresh or position != runner.stored:  # a position is stored when it moved
                positions[runner.position_key] = position
                runner.stored = position
            if not lines:
                continue
            runner.last_line_wall = now
            ctx = ParseContext(runner.name, runner.tz, datetime.fromtimestamp(now, runner.tz))
            process = self.pipeline.process_raw
            stats = runner.stats
            for raw in lines:
                found = process(raw, parse, ctx, stats)
                if found:
                    alerts.extend(found)
        if positions or alerts:
            commit(positions, alerts)
        return more

    def start(self) -> None:
        for runner in self.runners:
            if isinstance(runner.reader, Launchable):
                runner.reader.launch()

    def stop(self) -> None:
        for runner in self.runners:
            runner.reader.close()

    def positions(self) -> dict[str, Any]:
        """Where each source stands now, as JSON-able values (for the rule-state snapshot)."""
        found: dict[str, Any] = {}
        for runner in self.runners:
            position = runner.reader.current_position()
            if is_dataclass(position) and not isinstance(position, type):
                position = asdict(position)
            found[runner.position_key] = position
        return found


def source_tz(config: Config, source: SourceConfig) -> tzinfo:
    return source.timezone or config.timezone


def backfill_cutoff(config: Config, now: float) -> datetime:
    return datetime.fromtimestamp(now, config.timezone) - timedelta(
        seconds=config.backfill.total_seconds()
    )


def describe(source: SourceConfig) -> str:
    where = str(source.path) if source.path is not None else f"journal {source.journal}"
    return f"{source.name} ({source.format}, {where})"


def exists(path: Path | None) -> bool:
    return path is not None and path.exists()
