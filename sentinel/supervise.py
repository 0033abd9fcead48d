"""The daemon's watch over the exchange directories and server configurations.

A thread of its own: full audits on start and every `FULL_SCAN_EVERY`, the watcher's
settled files in between (inspected within seconds of an upload), posture checks of the
server configurations. Findings go to the main thread through `outbox` (the main thread
alone writes the state store); figures go straight to the metrics' DirectoryStats.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sentinel.alerts import Alert
from sentinel.config.model import Config, DirectoryConfig
from sentinel.events import Event
from sentinel.files.audit import DirectoryAuditor, DirectoryReport
from sentinel.files.inspect import InspectionCache
from sentinel.files.posture import posture_alerts
from sentinel.files.stale import downloaded_still_present
from sentinel.sinks.metrics import DirectoryStats
from sentinel.sources.watch import DirectoryWatcher

log = logging.getLogger("sentinel.directories")
FULL_SCAN_EVERY = 600.0  # seconds between two full audits of every directory
RESCAN_AFTER_FINDING = 60.0  # a finding from the watcher brings the next full audit this close
SETTLED_QUIET = 3.0  # seconds without change before an upload not closed cleanly is read
DOWNLOADS_KEPT = 100_000  # recent downloads remembered for delete_after_download


class Supervisor:
    """One lifecycle: start(), stop() joins its thread and the watcher's."""

    def __init__(
        self,
        config: Config,
        figures: dict[str, DirectoryStats],
        wake: threading.Event,
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.figures = figures
        self.wake = wake
        self.clock = clock
        self.outbox: queue.SimpleQueue[Alert] = queue.SimpleQueue()
        self.actions: queue.SimpleQueue[dict[str, object]] = queue.SimpleQueue()
        cache = InspectionCache()
        rules = config.rules
        self.full = DirectoryAuditor(config.server_name, rules, cache)
        # the watcher only hands over files that were closed or stayed unchanged a while
        self.quick = DirectoryAuditor(config.server_name, rules, cache, settle=0.0)
        self._settled: queue.SimpleQueue[tuple[DirectoryConfig, list[str]]] = queue.SimpleQueue()
        self.downloads: deque[tuple[str, str | None, datetime]] = deque(maxlen=DOWNLOADS_KEPT)
        self.track_downloads = any(d.delete_after_download for d in config.directories)
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sentinel-directories")
        self.watcher: DirectoryWatcher | None = None  # made in start(): watchdog starts a
        # thread as soon as its observer exists

    @property
    def active(self) -> bool:
        return bool(self.config.directories or self.config.server_configs)

    def start(self) -> None:
        if not self.active:
            return
        self._thread.start()
        if self.config.directories:
            self.watcher = DirectoryWatcher(
                self.config.directories, self._on_settled, quiet=SETTLED_QUIET
            )
            self.watcher.start()

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if not self._thread.is_alive():
            return  # never started
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.join()
        self._thread.join()

    def note_download(self, event: Event) -> None:
        """Called by the main thread for each download; deque appends are thread-safe."""
        if event.path is not None:
            self.downloads.append((event.path, event.user, event.ts))

    def _on_settled(self, directory: DirectoryConfig, rels: list[str]) -> None:
        self._settled.put((directory, rels))
        self._kick.set()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), self.config.timezone)

    def _run(self) -> None:
        next_full = 0.0
        while not self._stop.is_set():
            if self.clock() >= next_full:
                self._full_round()
                next_full = self.clock() + FULL_SCAN_EVERY
            while not self._settled.empty() and not self._stop.is_set():
                directory, rels = self._settled.get()
                report = self.quick.audit_paths(directory, rels, self._now())
                self._report(report, full=False)
                if report.alerts:  # the gauges come from full audits: refresh them soon
                    next_full = min(next_full, self.clock() + RESCAN_AFTER_FINDING)
            self._kick.wait(min(FULL_SCAN_EVERY, max(0.1, next_full - self.clock())))
            self._kick.clear()

    def _full_round(self) -> None:
        for directory in self.config.directories:
            if self._stop.is_set():
                return
            now = self._now()
            keep_facts = directory.delete_after_download is not None
            try:
                report = self.full.audit(directory, now, keep_facts=keep_facts)
            except OSError as error:
                log.error("cannot audit %s: %s", directory.path, error)
                continue
            self._report(report, full=True)
            if keep_facts:
                left = downloaded_still_present(
                    server=self.config.server_name,
                    directory=directory,
                    downloads=list(self.downloads),
                    facts=report.facts,
                    now=now,
                    settings=self.config.rules["stale_file"],
                )
                self._send([left] if left else [])
        settings = self.config.rules["insecure_server_config"]
        for check in self.config.server_configs:
            self._send(posture_alerts(self.config.server_name, check, self._now(), settings))

    def _report(self, report: DirectoryReport, *, full: bool) -> None:
        if full:
            figures = report.figures
            self.figures[report.directory] = DirectoryStats(
                stale_files=figures.stale_files,
                oldest_file_age_seconds=figures.oldest_file_age_seconds,
                personal_data_files=figures.personal_data_files,
            )
        for action in report.actions:
            record = action.to_dict()
            log.warning("directory action: %s", record)
            if action.done:
                self.actions.put(record)
        self._send(list(report.alerts))

    def _send(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self.outbox.put(alert)
        if alerts:
            self.wake.set()

    def take(self) -> list[Alert]:
        """The findings waiting for the main thread."""
        return _drain(self.outbox)

    def take_actions(self) -> list[dict[str, object]]:
        """Quarantines and deletions done, for the main thread to record in the store."""
        return _drain(self.actions)


T = TypeVar("T")


def _drain(waiting: queue.SimpleQueue[T]) -> list[T]:
    found = []
    while not waiting.empty():
        found.append(waiting.get())
    return found
