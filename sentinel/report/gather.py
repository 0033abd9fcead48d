"""The report's input: incident records and coverage, from logs (the replay pipeline) or the store.

Both ways end in the same `Gathered`: alert records as SPEC defines them (the Alerts of a
replay, the dicts of the store) and what the report knows of the supervision itself (which
logs, which hours had lines). This is the one place that knows where the records come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sentinel.alerts import Alert
from sentinel.commands.replay import finals, plan_inputs, replay
from sentinel.config.model import Config
from sentinel.events import Event
from sentinel.heap import settle
from sentinel.pipeline import Pipeline
from sentinel.report.incidents import Record
from sentinel.stats import SourceStats


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
    """Incident records (SPEC's alert record) and the coverage of the input."""

    origin: str  # "logs" or "store"
    records: Sequence[Record]  # Alert objects from a replay, their dicts from the store
    coverage: list[LogCoverage] = field(default_factory=list)
    # hour -> [logins, transfers] over every source, after the cross-source dedup
    activity: dict[int, list[int]] = field(default_factory=dict)


class CountingPipeline(Pipeline):
    """The replay pipeline, counting lines per source and activity per hour of event time.

    Only the report uses it: `replay` and the daemon run the plain Pipeline and never pay
    for these counters. Per event: two comparisons and one dict update; at each change of
    hour, the logins and transfers counted since (SourceStats, after the cross-source
    dedup) go to the hour that ended. State: one counter per hour of event time and
    source (a year of logs is 8,760 hours).
    """

    def __init__(self, config: Config) -> None:
        super().__init__(config, progress=False)  # each incident's final record only
        self.activity: dict[int, list[int]] = {}
        self._hour = -1
        self._hour_start = self._hour_end = 0.0
        self._totals = (0, 0)  # logins and transfers counted when the hour began

    def process_event(self, event: Event, stats: SourceStats) -> Sequence[Alert]:
        alerts = _process_event(self, event, stats)  # sets _last_t, the event's time
        t = self._last_t
        if t >= self._hour_end or t < self._hour_start:
            self._new_hour(t)
        hourly, hour = stats.hourly, self._hour
        hourly[hour] = hourly.get(hour, 0) + 1
        if not stats.first_event:  # the first event read: logs are read oldest first
            stats.first_event = t
        return alerts

    def _new_hour(self, t: float) -> None:
        self.close_hour()
        self._hour = int(t) // 3600
        self._hour_start = self._hour * 3600.0
        self._hour_end = self._hour_start + 3600.0

    def close_hour(self) -> None:
        """The logins and transfers counted since the hour began go to that hour."""
        logins = sum(n for s in self.stats.values() for n in s.logins.values())
        transfers = sum(n for s in self.stats.values() for n in s.transfers.values())
        if self._hour >= 0 and (logins, transfers) != self._totals:
            counts = self.activity.setdefault(self._hour, [0, 0])
            counts[0] += logins - self._totals[0]
            counts[1] += transfers - self._totals[1]
        self._totals = (logins, transfers)


_process_event = Pipeline.process_event  # called directly: no super() on every line


def incidents_from_replay(
    config: Config, logs: Sequence[str], since: datetime | None, until: datetime | None
) -> Gathered:
    """The incidents of `logs` through the replay pipeline, with what the logs cover.

    Raises `sentinel.commands.replay.UsageError` for a log that cannot be read. The rules
    see every line (a window needs its history); `since`/`until` select incidents and
    hours afterwards, in `select`.
    """
    hint = "name it in the configuration (sources[].format of its path)"
    inputs = plan_inputs(config, list(logs), "auto", hint)
    pipeline = CountingPipeline(config)
    settle()  # the pipeline set up: the collector set for the lines (sentinel.heap)
    found: list[Record] = []
    replay(pipeline, inputs, finals(found.extend))
    found.extend(pipeline.finish())  # those the logs end while they go on, `open`
    pipeline.close_hour()
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
    """The incidents recorded in the state store of a daemon, each as its latest record.

    Raises `sentinel.sinks.store.StoreError`. The store keeps alerts, not lines: no
    coverage per hour (the `source_silent` incidents say where supervision stopped).
    """
    from sentinel.sinks.store import DB_NAME, Store

    if not (config.state_dir / DB_NAME).exists():
        return Gathered("store", [])
    store = Store(config.state_dir)
    try:
        records = store.list_incidents(since)  # each incident's latest record, its extent
    finally:
        store.close()
    return select(Gathered("store", records), since, until)


def _stamp(record: Record, key: str) -> float | None:
    if isinstance(record, Alert):
        return (record.first_seen if key == "first_seen" else record.last_seen).timestamp()
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

    def overlaps(record: Record) -> bool:
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
