"""Prometheus metrics of SPEC, read at scrape time from the counters the daemon keeps.

The hot path only bumps plain ints (sentinel.stats); this collector turns them into metric
families when Prometheus asks. Labels come from closed sets: configured source names, rule
names, severities, directions, configured directory paths. Never users, addresses or files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sentinel import __version__
from sentinel.stats import SourceStats

DIRECTIONS = ("download", "upload")
SERVER_SEP = "\x00"  # between a source's name and a fleet's server in the counters' keys


@dataclass(slots=True)
class DirectoryStats:
    stale_files: int = 0
    oldest_file_age_seconds: float = 0.0
    personal_data_files: int = 0


@dataclass(slots=True)
class DaemonStats:
    """Everything but the per-source counters: notification results, queue, directories."""

    notifications: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0})
    notifications_given_up: int = 0
    queue: Callable[[], int] = lambda: 0
    directories: dict[str, DirectoryStats] = field(default_factory=dict)
    store_errors: int = 0  # the main thread's; the delivery worker counts its own
    worker_store_errors: Callable[[], int] = lambda: 0
    rule_evictions: Callable[[], Mapping[str, int]] = dict
    incidents_open: Callable[[], Mapping[str, int]] = dict


class SentinelCollector(Collector):
    """Yields the core metrics of SPEC from the pipeline's and the daemon's counters."""

    def __init__(
        self,
        sources: Callable[[], Mapping[str, SourceStats]],
        alerts: Callable[[], Mapping[tuple[str, str], int]],
        daemon: DaemonStats | None = None,
    ) -> None:
        self.sources = sources
        self.alerts = alerts
        self.daemon = daemon

    def collect(self) -> Iterable[Metric]:
        build = GaugeMetricFamily("sentinel_build_info", "sentinel's version", labels=["version"])
        build.add_metric([__version__], 1)
        yield build
        yield from self._sources(dict(self.sources()))
        alerts = CounterMetricFamily(
            "sentinel_alerts", "Alerts raised", labels=["rule", "severity"]
        )
        for (rule, severity), count in sorted(dict(self.alerts()).items()):
            alerts.add_metric([rule, severity], count)
        yield alerts
        if self.daemon is not None:
            yield from self._daemon(self.daemon)

    @staticmethod
    def _sources(sources: Mapping[str, SourceStats]) -> Iterable[Metric]:
        # a configured fleet's counters are per (source, server): `source\x00server` keys
        fleet = any(SERVER_SEP in name for name in sources)
        by = ["source", "server"] if fleet else ["source"]
        lines = CounterMetricFamily("sentinel_log_lines", "Log lines read", labels=by)
        unparsed = CounterMetricFamily(
            "sentinel_log_lines_unparsed", "Log lines that gave no event", labels=by
        )
        logins = CounterMetricFamily(
            "sentinel_logins", "Logins seen", labels=[*by, "result", "anonymous"]
        )
        transfers = CounterMetricFamily(
            "sentinel_transfers", "File transfers seen", labels=[*by, "direction"]
        )
        volume = CounterMetricFamily(
            "sentinel_transfer_bytes", "Bytes transferred", labels=[*by, "direction"]
        )
        invalid = CounterMetricFamily(
            "sentinel_log_lines_invalid_utf8", "Lines that were not UTF-8", labels=by
        )
        rotations = CounterMetricFamily(
            "sentinel_log_rotations", "Rotations and truncations followed", labels=by
        )
        cut = CounterMetricFamily(
            "sentinel_log_lines_cut", "Lines longer than 1 MiB, cut", labels=by
        )
        errors = CounterMetricFamily("sentinel_log_read_errors", "Errors reading a log", labels=by)
        last = GaugeMetricFamily(
            "sentinel_source_last_event_timestamp_seconds",
            "Event time of the newest event of a source",
            labels=by,
        )
        for key, stats in sorted(sources.items()):
            name = key.split(SERVER_SEP, 1) if fleet else [key]
            if len(name) == 1 and fleet:
                name.append("")
            lines.add_metric(name, stats.lines)
            unparsed.add_metric(name, stats.unparsed)
            invalid.add_metric(name, stats.invalid_utf8)
            rotations.add_metric(name, stats.rotations)
            cut.add_metric(name, stats.cut_lines)
            errors.add_metric(name, stats.read_errors)
            for result in ("success", "failure"):
                for anonymous in ("true", "false"):
                    count = stats.logins.get((result, anonymous), 0)
                    logins.add_metric([*name, result, anonymous], count)
            for direction in DIRECTIONS:
                transfers.add_metric([*name, direction], stats.transfers.get(direction, 0))
                volume.add_metric([*name, direction], stats.transfer_bytes.get(direction, 0))
            if stats.last_event:
                last.add_metric(name, stats.last_event)
        yield from (lines, unparsed, invalid, rotations, cut, errors, logins, transfers, volume)
        yield last

    @staticmethod
    def _daemon(daemon: DaemonStats) -> Iterable[Metric]:
        sent = CounterMetricFamily(
            "sentinel_notifications", "Notification attempts", labels=["result"]
        )
        for result in ("sent", "failed"):
            sent.add_metric([result], daemon.notifications.get(result, 0))
        yield sent
        given_up = CounterMetricFamily(
            "sentinel_notifications_given_up", "Alerts dropped undelivered after give_up_after"
        )
        given_up.add_metric([], daemon.notifications_given_up)
        yield given_up
        queue = GaugeMetricFamily("sentinel_notification_queue", "Notifications awaiting delivery")
        queue.add_metric([], daemon.queue())
        yield queue
        store = CounterMetricFamily(
            "sentinel_state_store_errors", "Failed writes to the state store"
        )
        store.add_metric([], daemon.store_errors + daemon.worker_store_errors())
        yield store
        evictions = CounterMetricFamily(
            "sentinel_rule_evictions",
            "Keys a rule forgot early because it tracked too many",
            labels=["rule"],
        )
        for rule, count in sorted(daemon.rule_evictions().items()):
            evictions.add_metric([rule], count)
        yield evictions
        incidents = GaugeMetricFamily(
            "sentinel_incidents_open", "Incidents open (not yet closed)", labels=["rule"]
        )
        for rule, count in sorted(daemon.incidents_open().items()):
            incidents.add_metric([rule], count)
        yield incidents
        yield from _directories(daemon.directories)


def _directories(directories: Mapping[str, DirectoryStats]) -> Iterable[Metric]:
    stale = GaugeMetricFamily(
        "sentinel_stale_files", "Files older than max_age", labels=["directory"]
    )
    oldest = GaugeMetricFamily(
        "sentinel_oldest_file_age_seconds", "Age of the oldest file", labels=["directory"]
    )
    personal = GaugeMetricFamily(
        "sentinel_unencrypted_personal_data_files",
        "Files holding personal data in clear text",
        labels=["directory"],
    )
    for name, stats in sorted(directories.items()):
        stale.add_metric([name], stats.stale_files)
        oldest.add_metric([name], stats.oldest_file_age_seconds)
        personal.add_metric([name], stats.personal_data_files)
    yield from (stale, oldest, personal)


def build_registry(collector: SentinelCollector, *, process: bool = True) -> CollectorRegistry:
    """A fresh registry with sentinel's collector and, for the daemon, process metrics."""
    from prometheus_client import PlatformCollector, ProcessCollector

    registry = CollectorRegistry()
    registry.register(collector)
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
    return registry
