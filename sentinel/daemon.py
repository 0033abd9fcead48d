"""`sentinel run`'s main loop: read, detect, commit; signals; systemd notifications.

One main thread reads every source and runs the pipeline (so rules need no locks); the
other threads (metrics endpoint, delivery worker, wake-ups, journal readers) belong to
the Runtime, which starts and stops them. Positions and the alerts their lines raised
are committed together, so a crash loses no alert and repeats none.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from sentinel.config import Config, ConfigError, load_config
from sentinel.heap import settle
from sentinel.runtime import Runtime
from sentinel.systemd import Notifier

log = logging.getLogger("sentinel")
IDLE_WAIT = 1.0  # seconds between housekeeping rounds when no line arrives
SILENCE_EVERY = 5.0  # seconds between two checks of the sources' liveness


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        config_path: Path | None,
        clock: Callable[[], float] = time.time,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.clock = clock
        self.notifier = notifier or Notifier()
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()

    def request_stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def request_reload(self) -> None:
        self.reload_requested.set()
        self.wake.set()

    def install_signal_handlers(self) -> None:
        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.request_stop()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.request_reload()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def run(self) -> int:
        runtime = Runtime(self.config, wake=self.wake, clock=self.clock)
        runtime.start()
        settle()  # set up: the collector set for the lines (sentinel.heap)
        self.notifier.ready(runtime.status())
        log.info("sentinel running: %s", runtime.status())
        next_silence = next_ping = 0.0
        interval = self.notifier.watchdog_interval
        try:
            while not self.stopping.is_set():
                more = runtime.sources.drain(runtime.commit)
                runtime.close_idle()
                runtime.collect_findings()
                if self.reload_requested.is_set():
                    self.reload_requested.clear()
                    runtime = self._reload(runtime)
                now = time.monotonic()
                if now >= next_silence:
                    runtime.check_silence()
                    runtime.snapshot()
                    self.notifier.status(runtime.status())
                    next_silence = now + SILENCE_EVERY
                if interval is not None and now >= next_ping:
                    self.notifier.watchdog()
                    next_ping = now + interval
                if not more:
                    wait = IDLE_WAIT if interval is None else min(IDLE_WAIT, interval)
                    self.wake.wait(wait)
                    self.wake.clear()
        finally:
            self.notifier.stopping()
            runtime.stop()
            log.info("sentinel stopped")
        return 0

    def _reload(self, runtime: Runtime) -> Runtime:
        """A new configuration replaces the running one only when it is valid."""
        self.notifier.reloading()
        try:
            new = load_config(self.config_path)
        except ConfigError as error:
            log.error("configuration not reloaded, keeping the running one: %s", error)
            self.notifier.ready("reload refused: configuration invalid")
            return runtime
        runtime.stop()
        self.config = new
        fresh = Runtime(new, wake=self.wake, clock=self.clock, previous=runtime)
        fresh.start()
        settle()  # the old runtime back to the collector, the new one set aside
        log.info("configuration reloaded from %s", self.config_path)
        self.notifier.ready(fresh.status())
        return fresh
