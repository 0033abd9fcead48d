"""The daemon's parts, built from one configuration: store, pipeline, sources, sinks.

`Runtime` owns every thread the daemon starts (metrics endpoint, delivery worker, file
wake-ups, journal readers) and stops them all in `stop`, in reverse order.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sentinel.alerts import OPEN, Alert
from sentinel.config.model import Config
from sentinel.fleet.paths import source_files
from sentinel.pipeline import Pipeline
from sentinel.rules.silence import SilenceRule
from sentinel.sinks.http import MetricsServer
from sentinel.sinks.metrics import DaemonStats, SentinelCollector, build_registry
from sentinel.sinks.outbox import Deliverer
from sentinel.sinks.store import Store, StoreError
from sentinel.sources.readers import RunnerBuilder, build_runners, discoverer, watched_paths
from sentinel.sources.runner import SourceSet
from sentinel.sources.wakeup import Wakeup
from sentinel.supervise import Supervisor

log = logging.getLogger("sentinel")
SNAPSHOT_EVERY = 5.0  # seconds between two saves of the rules' windows, at least
SNAPSHOT_BUDGET = 50.0  # ... and at least this many times what the last one took
SNAPSHOT_MAX = 120.0  # ... but never more than this
PREPARE_TIMEOUT = 5.0  # seconds start() waits for the notification targets to be ready
STORE_ERROR_LOG_EVERY = 60.0  # seconds between two log lines about a failing store
UNSTORED_MAX = 10_000  # alerts kept in memory for the history while the store fails
CLOSE_EVERY = 0.5  # seconds between two looks for incidents gone quiet (wall clock)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass
class Replayed:
    """Records already made before a restart: re-reading since the snapshot must not make
    them again. Keyed by (fingerprint, first_seen, status, last_seen): an incident's
    records share the first two, and re-reading the same lines gives the same last_seen."""

    keys: set[tuple[str, str, str, str]] = field(default_factory=set)

    def add(self, record: dict[str, Any]) -> None:
        key = (record["fingerprint"], record["first_seen"])
        self.keys.add((*key, record.get("status", OPEN), record["last_seen"]))

    def fresh(self, alerts: list[Alert]) -> list[Alert]:
        if not self.keys:
            return alerts
        keys = self.keys
        return [
            a
            for a in alerts
            if (a.fingerprint, a.first_seen.isoformat(), a.status, a.last_seen.isoformat())
            not in keys
        ]


class Runtime:
    def __init__(
        self,
        config: Config,
        *,
        wake: threading.Event,
        clock: Callable[[], float],
        previous: Runtime | None = None,
    ) -> None:
        self.config = config
        self.wake = wake
        self.clock = clock
        self._store_errors_logged = (0.0, 0)  # when the last store error was logged, count then
        # a state store that cannot open (read-only, full) does not stop detection
        self.store = Store(config.state_dir, config.notify, clock=clock, required=False)
        self.pipeline = Pipeline(config, clock=clock)
        self.stats = DaemonStats()
        if previous is not None:  # a reload: counters go on, as Prometheus expects
            self.pipeline.stats = previous.pipeline.stats
            self.pipeline.alert_counts = previous.pipeline.alert_counts
            self.stats = previous.stats
        self.silence = SilenceRule(config.rules["source_silent"], server=config.server_name)
        self.replayed = Replayed()
        self.unstored: list[Alert] = []  # notified, not yet in the history (store failing)
        if self.store.open_error is not None:
            self.store_failed(self.store.open_error)
        try:
            positions = self._restore()
        except StoreError as error:
            self.store_failed(str(error))
            positions = {}
        runners = build_runners(config, self.pipeline, positions, wake, clock)
        build = RunnerBuilder(config, self.pipeline, wake)
        discover = discoverer(build, runners, self._load_position, clock)
        self.sources = SourceSet(self.pipeline, runners, clock, discover)
        self.deliverer = Deliverer(
            config.state_dir, config.notify, clock=clock, on_result=self._count_delivery
        )
        self.stats.queue = lambda: self.deliverer.queue_size
        self.stats.worker_store_errors = lambda: self.deliverer.store_errors
        self.stats.rule_evictions = lambda: {r.name: r.evictions for r in self.pipeline.rules}
        self.stats.incidents_open = self.pipeline.incidents.open_counts
        collector = SentinelCollector(
            lambda: self.pipeline.stats, lambda: self.pipeline.alert_counts, self.stats
        )
        self.wakeup = Wakeup(watched_paths(config), wake)
        self.supervisor = Supervisor(config, self.stats.directories, wake, clock)
        if self.supervisor.track_downloads:
            self.pipeline.on_download = self.supervisor.note_download
        self.metrics: MetricsServer | None = None
        if config.metrics.listen not in ("", "off"):
            self.metrics = MetricsServer(config.metrics, build_registry(collector))
        self._last_snapshot = 0.0
        self._snapshot_every = SNAPSHOT_EVERY
        self._next_close = 0.0

    def _restore(self) -> dict[str, Any]:
        """Rule windows and the positions they were saved with; None entries start fresh."""
        positions: dict[str, Any] = {}
        for source in self.config.sources:
            for file in source_files(source):
                positions[file.key] = self.store.load_position(file.key)
        blob = self.store.load_rule_state()
        if blob is None:
            return positions
        try:
            snapshot = json.loads(blob)
            self.pipeline.load_state(snapshot["rules"])
            self.pipeline.incidents.load(snapshot.get("incidents", []))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("rule state unreadable, starting with empty windows: %s", error)
            return positions
        # Resume from the snapshot's positions: the lines read after it are read again to
        # rebuild the windows, and the alerts they raise again are known already.
        saved_at = float(snapshot.get("saved_at", 0.0))
        horizon = datetime.fromtimestamp(saved_at) - timedelta(hours=1)
        for record in self.store.list_alerts(since=horizon.astimezone()):
            self.replayed.add(record)
        # A source the snapshot had not read yet (None) starts over as it did then: its
        # committed position is ahead of windows that hold nothing of it.
        for name, position in snapshot.get("positions", {}).items():
            if name in positions:
                positions[name] = position
        return positions

    def _load_position(self, key: str) -> Any:
        """The saved position of a file that appeared while running (a new server's log)."""
        try:
            return self.store.load_position(key)
        except StoreError as error:
            self.store_failed(str(error))
            return None

    def start(self) -> None:
        """Starts every thread; on failure stops those already started and re-raises."""
        try:
            if self.metrics is not None:
                self.metrics.start()
            self.deliverer.start()
            if not self.deliverer.wait_prepared(PREPARE_TIMEOUT):
                log.warning("notification targets still loading; the first alert may wait")
            self.sources.start()
            self.wakeup.start()
            self.supervisor.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stops what runs, in reverse order; safe on a runtime only partly started."""
        self.supervisor.stop()
        self.wakeup.stop()
        self.sources.stop()
        self.collect_findings()
        self.snapshot(force=True)
        self.deliverer.stop()
        if self.metrics is not None:
            self.metrics.stop()
        self.store.close()

    def commit(self, positions: dict[str, Any], alerts: list[Alert]) -> None:
        """Stores positions and alerts together and queues their notifications.

        When the store fails, the alerts are notified from memory all the same, and kept
        (up to UNSTORED_MAX) to be recorded in the history by the next commit that works.
        """
        alerts = self.replayed.fresh(alerts)
        try:
            queued = self.store.commit_batch(positions, alerts, notified=self.unstored)
        except StoreError as error:
            self.store_failed(str(error))
            queued = 0
            if alerts:
                self.deliverer.send_unstored(alerts)
                self.unstored = [*self.unstored, *alerts][-UNSTORED_MAX:]
        else:
            self.unstored = []
        for alert in alerts:
            log.warning("alert %s %s: %s", alert.severity.label, alert.rule, alert.summary)
        if queued:
            self.deliverer.kick()

    def store_failed(self, error: str) -> None:
        """Counts a store failure; logs it at most once a minute while it lasts."""
        self.stats.store_errors += 1
        last, count = self._store_errors_logged
        now = time.monotonic()
        if last and now - last < STORE_ERROR_LOG_EVERY:
            return
        since = self.stats.store_errors - count - 1
        more = f" ({since} more failure(s) since the last report)" if since > 0 else ""
        log.error("state store: %s; detection and notifications go on%s", error, more)
        self._store_errors_logged = (now, self.stats.store_errors)

    def _count_delivery(self, result: str) -> None:
        """Called from the delivery worker's thread, the only writer of these counters."""
        if result == "given_up":
            self.stats.notifications_given_up += 1
        else:
            self.stats.notifications[result] = self.stats.notifications.get(result, 0) + 1

    def collect_findings(self) -> None:
        """Alerts the directory supervisor found since the last look."""
        found = self.supervisor.take()
        if found:
            self.pipeline.count_alerts(found)
            self.commit({}, found)
        actions = self.supervisor.take_actions()
        if actions:
            try:
                self.store.record_actions(actions)
            except StoreError as error:
                self.store_failed(str(error))

    def snapshot(self, *, force: bool = False) -> None:
        """Saves the rules' windows with the positions they stand for.

        Its cost grows with the keys the rules track (100k addresses: tenths of a second),
        so the next one waits at least SNAPSHOT_BUDGET times what this one cost: the daemon
        spends at most ~2 % of its time there. A restart re-reads the lines since.
        """
        now = self.clock()
        if not force and now - self._last_snapshot < self._snapshot_every:
            return
        self._last_snapshot = now
        began = time.perf_counter()
        self._save_snapshot(now)
        cost = time.perf_counter() - began
        self._snapshot_every = max(SNAPSHOT_EVERY, min(SNAPSHOT_MAX, cost * SNAPSHOT_BUDGET))

    def _save_snapshot(self, now: float) -> None:
        # The dump makes hundreds of thousands of small lists that live until encoded: each
        # would-be cyclic collection on the way walks the whole rule state again (100k keys:
        # 1.5 s with the collector on, 0.3 s without). Reference counting frees them after.
        # The JSON is assembled rule by rule, so that one rule's dump is freed before the
        # next is made: the peak is the largest rule's, not all of them (100k keys in each
        # rule: 48 MiB instead of 110). Same document as json.dumps of the whole.
        gc.disable()
        try:
            rules = ",".join(
                f"{_compact(rule.name)}:{_compact(rule.dump())}" for rule in self.pipeline.rules
            )
            positions = _compact(self.sources.positions())
            incidents = _compact(self.pipeline.incidents.dump())
            blob = (
                f'{{"saved_at":{_compact(now)},"rules":{{{rules}}},'
                f'"incidents":{incidents},"positions":{positions}}}'
            )
        finally:
            gc.enable()
        try:
            self.store.save_rule_state(blob.encode())
        except StoreError as error:
            self.store_failed(str(error))

    def close_idle(self) -> None:
        """Commits the closing records of incidents without an event for their window (by
        event time, or by the wall clock when their log went quiet)."""
        now = time.monotonic()
        if now < self._next_close:
            return
        self._next_close = now + CLOSE_EVERY
        closed = self.pipeline.close_idle(self.clock())
        if closed:
            self.commit({}, closed)

    def check_silence(self) -> None:
        now = self.clock()
        for runner in self.sources.runners:
            self.silence.update(
                runner.position_key,
                last_line=runner.last_line_wall,
                missing=runner.reader.missing,
                now=now,
                server=runner.server,
            )
        alerts = self.silence.check(now)
        if alerts:
            self.pipeline.count_alerts(alerts)
            self.commit({}, alerts)

    def status(self) -> str:
        sources = len(self.sources.runners)
        return f"following {sources} source(s), {self.deliverer.queue_size} notification(s) queued"
