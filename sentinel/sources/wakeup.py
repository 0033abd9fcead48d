"""Wakes the daemon's loop when a followed log changes: inotify through watchdog, else polling.

The parent directory of each followed file is watched, not the file, so a file that does
not exist yet, a rename and a new file all wake the loop. Where a directory cannot be
watched (no inotify, watch limit reached, directory missing) its files are polled with
stat() every `poll_interval` seconds instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

log = logging.getLogger("sentinel.wakeup")
POLL_INTERVAL = 1.0
# what a log writer, logrotate or an admin does; opens and reads (ours included) are not
WAKING_EVENTS: list[type[FileSystemEvent]] = [
    FileModifiedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileClosedEvent,
]
Signature = tuple[int, int, int] | None


class _Handler(FileSystemEventHandler):
    """Sets `wake` for events on a followed name or its rotated siblings."""

    def __init__(self, names: frozenset[str], wake: threading.Event) -> None:
        self.names = names
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        for raw in (event.src_path, event.dest_path):
            name = Path(raw if isinstance(raw, str) else raw.decode(errors="replace")).name
            if name and any(name.startswith(followed) for followed in self.names):
                self.wake.set()
                return


class Wakeup:
    """One observer thread (inotify) and, when needed, one polling thread.

    Lifecycle: start() once, stop() stops and joins both.
    """

    def __init__(
        self,
        paths: Iterable[Path],
        wake: threading.Event,
        *,
        poll_interval: float = POLL_INTERVAL,
        inotify: bool = True,
    ) -> None:
        self.paths = sorted({Path(p).absolute() for p in paths})
        self.wake = wake
        self.poll_interval = poll_interval
        self.use_inotify = inotify
        self.polled: list[Path] = []  # files no inotify watch covers
        self._observer: BaseObserver | None = None
        self._poller: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        by_dir: dict[Path, set[str]] = {}
        for path in self.paths:
            by_dir.setdefault(path.parent, set()).add(path.name)
        unwatched = self._watch(by_dir) if self.use_inotify else list(by_dir)
        self.polled = [d / name for d in unwatched for name in sorted(by_dir[d])]
        if self.polled:
            # the first look is taken here, so a change right after start() is not missed
            seen = {path: _signature(path) for path in self.polled}
            self._poller = threading.Thread(
                target=self._poll, args=(seen,), name="wakeup-poll", daemon=True
            )
            self._poller.start()

    def _watch(self, by_dir: dict[Path, set[str]]) -> list[Path]:
        """Watches what inotify can; returns the directories left for polling."""
        try:
            from watchdog.observers.inotify import InotifyObserver

            observer = InotifyObserver()
        except (OSError, ImportError) as error:
            log.warning("inotify unavailable (%s): polling every %ss", error, self.poll_interval)
            return list(by_dir)
        observer.name = "wakeup-inotify"
        observer.start()
        self._observer = observer
        left = []
        for directory, names in by_dir.items():
            handler = _Handler(frozenset(names), self.wake)
            try:
                observer.schedule(handler, str(directory), event_filter=WAKING_EVENTS)
            except OSError as error:
                log.warning("cannot watch %s (%s): polling it", directory, error.strerror)
                left.append(directory)
        return left

    def _poll(self, seen: dict[Path, Signature]) -> None:
        while not self._stopping.wait(self.poll_interval):
            for path in self.polled:
                now = _signature(path)
                if now != seen[path]:
                    seen[path] = now
                    self.wake.set()

    @property
    def mode(self) -> str:
        """ "inotify", "polling" or "mixed": for the status line."""
        if self._observer is None:
            return "polling"
        return "mixed" if self.polled else "inotify"

    def stop(self) -> None:
        self._stopping.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        if self._poller is not None:
            self._poller.join()


def _signature(path: Path) -> Signature:
    """What changes when a file is written, replaced or truncated."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
