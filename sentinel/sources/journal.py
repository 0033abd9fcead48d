"""A systemd journal source: `journalctl --follow -o json` for hosts that keep sshd's logs there.

Each entry becomes the RFC 3339 syslog line rsyslog would have written for it, so the
syslog parsers read journal and file sources alike. The position is journald's cursor.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("sentinel.journal")
MAX_PENDING = 10_000  # entries read ahead of the pipeline; journalctl waits when full


@dataclass(frozen=True, slots=True)
class JournalLine:
    line: bytes
    cursor: str


def _text(value: Any) -> str:
    if isinstance(value, list):  # journald gives non-UTF-8 fields as byte arrays
        return bytes(v & 0xFF for v in value if isinstance(v, int)).decode(errors="replace")
    return str(value) if value is not None else ""


def entry_to_line(entry: dict[str, Any]) -> bytes | None:
    """`2026-11-22T11:46:07.123456+00:00 host prog[pid]: message`, or None without a message."""
    message = _text(entry.get("MESSAGE"))
    if not message:
        return None
    try:
        micros = int(entry.get("__REALTIME_TIMESTAMP", "0"))
    except ValueError:
        return None
    stamp = datetime.fromtimestamp(micros / 1e6, tz=UTC).isoformat(timespec="microseconds")
    host = _text(entry.get("_HOSTNAME")) or "localhost"
    ident = _text(entry.get("SYSLOG_IDENTIFIER")) or _text(entry.get("_COMM")) or "unknown"
    pid = _text(entry.get("SYSLOG_PID")) or _text(entry.get("_PID"))
    program = f"{ident}[{pid}]" if pid else ident
    return f"{stamp} {host} {program}: {message}".replace("\n", " ").encode()


def journalctl_command(
    unit: str, cursor: str | None, since: str, files: Sequence[Path] = ()
) -> list[str]:
    command = ["journalctl", "--follow", "--output=json", "--no-pager", "--all"]
    command.append(f"--unit={unit}")
    command.extend(f"--file={f}" for f in files)
    command.append(f"--after-cursor={cursor}" if cursor else f"--since={since}")
    return command


class JournalSource:
    """Runs journalctl in a reader thread; `read_batch` hands over what arrived.

    One lifecycle: start(), stop() terminates the journalctl it started and joins.
    """

    def __init__(
        self,
        unit: str,
        cursor: str | None,
        *,
        since: str = "-1h",
        files: Sequence[Path] = (),
        wake: threading.Event | None = None,
    ) -> None:
        self.command = journalctl_command(unit, cursor, since, files)
        self.cursor = cursor
        self.wake = wake
        self.error: str | None = None
        self._queue: queue.Queue[JournalLine] = queue.Queue(MAX_PENDING)
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        try:
            self._process = subprocess.Popen(
                self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except OSError as error:
            self.error = f"cannot run journalctl: {error.strerror}"
            log.error("%s", self.error)
            return
        self._thread = threading.Thread(
            target=self._read, args=(self._process.stdout,), name="journal-reader"
        )
        self._thread.start()

    def _read(self, stream: IO[bytes] | None) -> None:
        if stream is None:
            return
        for raw in stream:
            if self._stopping.is_set():
                return
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            line = entry_to_line(entry) if isinstance(entry, dict) else None
            cursor = entry.get("__CURSOR") if isinstance(entry, dict) else None
            if line is None or not isinstance(cursor, str):
                continue
            while not self._stopping.is_set():
                try:
                    self._queue.put(JournalLine(line, cursor), timeout=0.5)
                    break
                except queue.Full:
                    continue
            if self.wake is not None:
                self.wake.set()

    def read_batch(self, max_lines: int = 10_000) -> list[JournalLine]:
        batch: list[JournalLine] = []
        while len(batch) < max_lines:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            self.cursor = batch[-1].cursor
        return batch

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        self._stopping.set()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
        if self._thread is not None:
            self._thread.join()
