"""Builds one runner per configured source: a file follower or a journal reader.

A first start on an existing log analyses only what is younger than `backfill` (found by
bisection, not by reading the whole file); later starts resume at the saved position.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sentinel.config.model import Config, SourceConfig
from sentinel.parsers import PARSERS
from sentinel.parsers.context import ParseContext, Parser
from sentinel.pipeline import Pipeline
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
    config: Config, source: SourceConfig, saved: Any, runner_parse: Parser | None, now: float
) -> Follower:
    path = source.path
    assert path is not None
    position = Position.from_saved(saved) if saved is not None else None
    if position is not None:
        return Follower(path, position)
    if not path.exists() or runner_parse is None:
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
    runners = []
    for source in config.sources:
        tz = source_tz(config, source)
        stats = pipeline.stats_for(source.name)
        saved = positions.get(source.name)
        if source.journal is not None:
            since = f"-{int(config.backfill.total_seconds())}s"
            reader: Any = JournalReader(source.journal, saved, since, wake)
            runner = SourceRunner(source, reader, tz, stats, PARSERS["openssh"])
        else:
            runner = SourceRunner(source, None, tz, stats)  # type: ignore[arg-type]
            runner.reader = _follower(config, source, saved, runner.resolve_parser(), now)
        runner.last_line_wall = now
        runners.append(runner)
    return runners


def watched_paths(config: Config) -> list[Path]:
    return [s.path for s in config.sources if s.path is not None]
