"""Watches supervised trees with watchdog; reports files once their upload is over.

A file is settled when the writer closed it (inotify close_write) or when its size and
mtime stayed unchanged for `quiet` seconds. Symlinks and paths outside a tree are ignored.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from watchdog.events import FileClosedEvent, FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from sentinel.config.model import DirectoryConfig

OnSettled = Callable[[DirectoryConfig, list[str]], None]
MAX_PENDING = 100_000  # files waiting to settle; past that the periodic full scan catches up


@dataclass(slots=True)
class _Pending:
    size: int
    mtime_ns: int
    changed: float  # monotonic time of the last change seen


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: DirectoryWatcher, index: int) -> None:
        self.watcher = watcher
        self.index = index

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in ("created", "modified", "closed", "moved"):
            return
        path = event.dest_path if event.event_type == "moved" else event.src_path
        path = path.decode() if isinstance(path, bytes) else path
        self.watcher.touch(self.index, path, closed=isinstance(event, FileClosedEvent))


class DirectoryWatcher:
    """One lifecycle: start, stop, join. State: at most `MAX_PENDING` unsettled files."""

    def __init__(
        self,
        directories: Sequence[DirectoryConfig],
        on_settled: OnSettled,
        *,
        quiet: float = 5.0,
        poll: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directories = list(directories)
        self.on_settled = on_settled
        self.quiet = quiet
        self.poll = poll
        self.clock = clock
        self._pending: dict[tuple[int, str], _Pending] = {}
        self._closed: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._observer = Observer()
        self._thread = threading.Thread(target=self._run, name="sentinel-watch", daemon=True)
        self.dropped = 0

    def start(self) -> None:
        for index, directory in enumerate(self.directories):
            self._observer.schedule(_Handler(self, index), str(directory.path), recursive=True)
        self._observer.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._observer.stop()

    def join(self, timeout: float | None = None) -> None:
        self._observer.join(timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def touch(self, index: int, path: str, *, closed: bool = False) -> None:
        """Notes a change to `path` (called from the observer's thread)."""
        root = str(self.directories[index].path)
        rel = os.path.relpath(path, root)
        if rel == ".." or rel.startswith("../"):
            return
        key = (index, rel.replace(os.sep, "/"))
        with self._lock:
            if closed:
                self._closed.add(key)
            elif key not in self._pending and len(self._pending) >= MAX_PENDING:
                self.dropped += 1
                return
            self._pending[key] = _Pending(-1, -1, self.clock())

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            self.check()

    def check(self) -> None:
        """Moves settled files to the callback, grouped by directory."""
        ready: dict[int, list[str]] = {}
        with self._lock:
            items = list(self._pending.items())
        now = self.clock()
        for key, pending in items:
            state = self._state(key)
            with self._lock:
                if state is None:
                    self._pending.pop(key, None)
                    self._closed.discard(key)
                elif key in self._closed or (
                    (state == (pending.size, pending.mtime_ns))
                    and now - pending.changed >= self.quiet
                ):
                    self._pending.pop(key, None)
                    self._closed.discard(key)
                    ready.setdefault(key[0], []).append(key[1])
                elif state != (pending.size, pending.mtime_ns):
                    self._pending[key] = _Pending(state[0], state[1], now)
        for index, rels in ready.items():
            self.on_settled(self.directories[index], sorted(rels))

    def _state(self, key: tuple[int, str]) -> tuple[int, int] | None:
        """(size, mtime) of a regular file, never through a link; None otherwise."""
        try:
            st = os.lstat(self.directories[key[0]].path / key[1])
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None
