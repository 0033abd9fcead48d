"""Builds one runner per configured source: a file follower or a journal reader.

A first start on an existing log analyses only what is younger than `backfill` (found by
bisection, not by reading the whole file); later starts resume at the saved position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sentinel.config.model import Config, SourceConfig
from sentinel.fleet import names_servers
from sentinel.fleet.naming import named
from sentinel.fleet.paths import MAX_FILES, PathPattern, SourceFile, source_files
from sentinel.parsers import PARSERS
from sentinel.parsers.context import ParseContext, Parser
from sentinel.pipeline import Pipeline
from sentinel.sinks.metrics import SERVER_SEP
from sentinel.sources.backfill import first_offset_at
from sentinel.sources.follow import Follower, Position
from sentinel.sources.journal import JournalSource
from sentinel.sources.runner import SourceRunner, backfill_cutoff, source_tz

log = logging.getLogger("sentinel.sources")


class JournalReader:
    """The runner's LineReader protocol over a JournalSource; the position is the cursor."""

    def __init__(self, unit: str, cursor: str | None, since: str, wake: threading.Event):
        self.source = JournalSource(unit, cursor, since=since, wake=wake)

    def launch(self) -> None:
        self.source.start()

    def read(self) -> tuple[list[bytes], Any, bool]:
        batch = self.source.read_batch()
        return [j.line for j in batch], self.source.cursor, False

    def current_position(self) -> str | None:
        return self.source.cursor

    @property
    def missing(self) -> bool:
        return self.source.error is not None or (
            self.source.cursor is not None and not self.source.alive
        )

    def close(self) -> None:
        self.source.stop()


def _line_time(parse: Parser, ctx: ParseContext) -> Callable[[bytes], datetime | None]:
    def line_time(raw: bytes) -> datetime | None:
        event = parse(raw.decode(errors="replace").rstrip("\r\n"), ctx)
        return event.ts if event is not None else None

    return line_time


def _follower(
    config: Config,
    source: SourceConfig,
    saved: Any,
    runner_parse: Parser | None,
    now: float,
    *,
    path: Path | None = None,
    born_later: bool = False,
) -> Follower:
    path = path or source.path
    assert path is not None
    position = Position.from_saved(saved) if saved is not None else None
    if position is not None:
        return Follower(path, position)
    if born_later or not path.exists() or runner_parse is None:
        return Follower(path, None, start="beginning")  # a log born later is read whole
    tz = source_tz(config, source)
    ctx = ParseContext(source.name, tz, datetime.fromtimestamp(now, tz))
    cutoff = backfill_cutoff(config, now)
    try:
        offset = first_offset_at(path, cutoff, _line_time(runner_parse, ctx))
    except OSError as error:
        log.warning("%s: backfill skipped (%s); following from the end", path, error)
        return Follower(path, None, start="end")
    log.info("%s: first start, analysing the last %s (from byte %d)", path, config.backfill, offset)
    return Follower(path, None, offset=offset)


def build_runners(
    config: Config,
    pipeline: Pipeline,
    positions: dict[str, Any],
    wake: threading.Event,
    clock: Callable[[], float],
) -> list[SourceRunner]:
    now = clock()
    build = RunnerBuilder(config, pipeline, wake)
    return [
        build.runner(source, file, positions.get(file.key), now)
        for source in config.sources
        for file in source_files(source)
    ]


@dataclass(frozen=True, slots=True)
class RunnerBuilder:
    """Makes the runner of one file (or journal) of a source."""

    config: Config
    pipeline: Pipeline
    wake: threading.Event

    def runner(
        self,
        source: SourceConfig,
        file: SourceFile,
        saved: Any,
        now: float,
        *,
        born_later: bool = False,
    ) -> SourceRunner:
        config = self.config
        tz = source_tz(config, source)
        stats = self.pipeline.stats_for(stats_key(config, source, file))
        from_host = names_servers(config)
        runner = SourceRunner(
            source,
            None,  # type: ignore[arg-type]
            tz,
            stats,
            key=file.key,
            file=file.path if source.many else None,
            server=file.server,
            from_host=from_host,
        )
        if source.journal is not None:
            since = f"-{int(config.backfill.total_seconds())}s"
            runner.reader = JournalReader(source.journal, saved, since, self.wake)
            parse = PARSERS["openssh"]  # a journal is syslog
            if file.server is not None or from_host:
                parse = named(parse, file.server, from_host=from_host)
            runner.parse = parse
        else:
            first = runner.resolve_parser()
            runner.reader = _follower(
                config, source, saved, first, now, path=file.path, born_later=born_later
            )
        runner.last_line_wall = now
        return runner


def stats_key(config: Config, source: SourceConfig, file: SourceFile) -> str:
    """The counters a file adds to: its source's, per server where the fleet lists servers."""
    servers = config.fleet.servers
    if not servers:
        return source.name
    return f"{source.name}{SERVER_SEP}{file.server if file.server in servers else ''}"


def discoverer(
    build: RunnerBuilder,
    runners: list[SourceRunner],
    load_position: Callable[[str], Any],
    clock: Callable[[], float],
) -> Callable[[], list[SourceRunner]] | None:
    """What finds the files of pattern sources that appeared since `runners` were built."""
    patterns = [PathPattern(source) for source in build.config.sources if source.many]
    if not patterns:
        return None
    known = {runner.position_key for runner in runners}

    def discover() -> list[SourceRunner]:
        found = []
        for pattern in patterns:
            for file in pattern.files():
                if file.key in known or len(known) >= MAX_FILES:
                    continue
                known.add(file.key)
                saved = load_position(file.key)
                runner = build.runner(pattern.source, file, saved, clock(), born_later=True)
                found.append(runner)
        return found

    return discover


def watched_paths(config: Config) -> list[Path]:
    paths: list[Path] = []
    for source in config.sources:
        paths.extend(file.path for file in source_files(source) if file.path is not None)
    return paths
