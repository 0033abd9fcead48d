"""The report's input: incident records and coverage, from logs (the replay pipeline) or the store.

Both ways end in the same `Gathered`: alert records as SPEC defines them (dicts) and what
the report knows of the supervision itself (which logs, which hours had lines). This is the
one place that knows where the records come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sentinel.alerts import Alert
from sentinel.commands.replay import plan_inputs, replay
from sentinel.config.model import Config
from sentinel.events import Event, Kind
from sentinel.pipeline import Pipeline
from sentinel.stats import SourceStats

_LOGIN_KINDS = frozenset({Kind.LOGIN_SUCCESS, Kind.LOGIN_FAILURE})
_TRANSFER = Kind.TRANSFER


@dataclass(frozen=True, slots=True)
class LogCoverage:
    """What one source's logs cover: their period, their lines, their lines per hour."""

    source: str
    files: tuple[str, ...]
    first: float | None  # epoch seconds of the oldest and newest event; None: no event
    last: float | None
    lines: int
    unparsed: int
    hourly: dict[int, int]  # hour (epoch // 3600) -> lines with an event that hour


@dataclass(slots=True)
class Gathered:
    """Incident records (SPEC's alert record, as dicts) and the coverage of the input."""

    origin: str  # "logs" or "store"
    records: list[dict[str, Any]]
    coverage: list[LogCoverage] = field(default_factory=list)
    # hour -> [logins, transfers] over every source, after the cross-source dedup
    activity: dict[int, list[int]] = field(default_factory=dict)


class CountingPipeline(Pipeline):
    """The replay pipeline, counting lines per source and activity per hour of event time.

    Only the report uses it: `replay` and the daemon run the plain Pipeline and never pay
    for these counters. State: one counter per hour of event time and source (a year of
    logs is 8,760 hours).
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.activity: dict[int, list[int]] = {}
        self._seen_ts: object = None
        self._t = 0.0
        self._hour = 0

    def _hour_of(self, event: Event) -> int:
        ts = event.ts
        if ts is not self._seen_ts:  # parsers hand out one datetime per distinct timestamp
            self._seen_ts = ts
            self._t = ts.timestamp()
            self._hour = int(self._t) // 3600
        return self._hour

    def process_event(self, event: Event, stats: SourceStats) -> Sequence[Alert]:
        hour = self._hour_of(event)
        hourly = stats.hourly
        hourly[hour] = hourly.get(hour, 0) + 1
        if self._t < stats.first_event or not stats.first_event:
            stats.first_event = self._t
        return super().process_event(event, stats)

    def _count(self, event: Event, stats: SourceStats) -> None:
        super()._count(event, stats)
        kind = event.kind
        if kind is _TRANSFER and (not event.ok or event.direction is None):
            return
        counts = self.activity.get(self._hour_of(event))
        if counts is None:
            counts = self.activity[self._hour_of(event)] = [0, 0]
        counts[0 if kind in _LOGIN_KINDS else 1] += 1


def incidents_from_replay(
    config: Config, logs: Sequence[str], since: datetime | None, until: datetime | None
) -> Gathered:
    """The incidents of `logs` through the replay pipeline, with what the logs cover.

    Raises `sentinel.commands.replay.UsageError` for a log that cannot be read. The rules
    see every line (a window needs its history); `since`/`until` select incidents and
    hours afterwards, in `select`.
    """
    inputs = plan_inputs(config, list(logs), "auto")
    pipeline = CountingPipeline(config)
    found: list[dict[str, Any]] = []

    def collect(alerts: Sequence[Alert]) -> None:
        found.extend(alert.to_dict() for alert in alerts)

    replay(pipeline, inputs, collect)
    files: dict[str, list[str]] = {}
    for item in inputs:
        files.setdefault(item.context.source, []).append(str(item.path))
    coverage = [
        LogCoverage(
            source=source,
            files=tuple(files.get(source, ())),
            first=stats.first_event or None,
            last=stats.last_event or None,
            lines=stats.lines,
            unparsed=stats.unparsed,
            hourly=stats.hourly,
        )
        for source, stats in pipeline.stats.items()
    ]
    gathered = Gathered("logs", found, coverage, pipeline.activity)
    return select(gathered, since, until)


def incidents_from_store(
    config: Config, since: datetime | None, until: datetime | None
) -> Gathered:
    """The incidents recorded in the state store of a daemon (every record of each).

    Raises `sentinel.sinks.store.StoreError`. The store keeps alerts, not lines: no
    coverage per hour (the `source_silent` incidents say where supervision stopped).
    """
    from sentinel.sinks.store import DB_NAME, Store

    if not (config.state_dir / DB_NAME).exists():
        return Gathered("store", [])
    store = Store(config.state_dir)
    try:
        records = store.list_alerts(since)
    finally:
        store.close()
    return select(Gathered("store", records), since, until)


def _stamp(record: dict[str, Any], key: str) -> float | None:
    try:
        return datetime.fromisoformat(str(record[key])).timestamp()
    except (KeyError, ValueError):
        return None


def select(gathered: Gathered, since: datetime | None, until: datetime | None) -> Gathered:
    """The records whose incident overlaps [since, until], the hours within it."""
    low = since.timestamp() if since is not None else float("-inf")
    high = until.timestamp() if until is not None else float("inf")
    if since is None and until is None:
        return gathered

    def overlaps(record: dict[str, Any]) -> bool:
        first, last = _stamp(record, "first_seen"), _stamp(record, "last_seen")
        return (last is None or last >= low) and (first is None or first <= high)

    def within(hour: int) -> bool:
        return low < (hour + 1) * 3600 and hour * 3600 <= high

    coverage = [
        LogCoverage(
            c.source,
            c.files,
            max(c.first, low) if c.first is not None else None,
            min(c.last, high) if c.last is not None else None,
            c.lines,
            c.unparsed,
            {h: n for h, n in c.hourly.items() if within(h)},
        )
        for c in gathered.coverage
    ]
    activity = {h: n for h, n in gathered.activity.items() if within(h)}
    records = [r for r in gathered.records if overlaps(r)]
    return Gathered(gathered.origin, records, coverage, activity)
