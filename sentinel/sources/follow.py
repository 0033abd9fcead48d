"""Follows one log file like `tail -F`, through rotations, from a saved position.

One `Follower` per path, driven synchronously from one thread: `read_batch` returns the
complete lines that arrived (bytes, newline removed) and the `Position` right after them,
which the daemon stores once the lines are processed and gives back on restart.

Rotations handled inside `read_batch`:
- rename + create: the old file (still open) is read to its end, then the files written
  after it (rotated siblings newer than it, then the current file) from offset 0;
- copytruncate: the file shrank or its first line changed: the rest of what we had not
  read is taken from the copy (the newest sibling with our head), then the file from 0.
  Lines written between logrotate's copy and its truncate are lost by copytruncate itself
  (and a writer without O_APPEND goes on at its old offset, leaving NULs before it);
- deleted and recreated, missing (reported, waited for), replaced in place (head differs);
- rotated while sentinel was down: the saved inode is looked up among rotated siblings.
Errors (permission, directory, I/O) are reported in `status`/`error`, never raised.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sentinel.sources import rotation
from sentinel.sources.rotation import FileId

log = logging.getLogger("sentinel.follow")
MAX_LINE = 1 << 20  # longer lines are cut to this and their rest skipped: bounded memory
BATCH_BYTES = 1 << 20
ROTATE_GRACE = 1.0  # seconds an old file must stay quiet before we leave it for an empty new one
Status = Literal["ok", "missing", "error"]


@dataclass(frozen=True, slots=True)
class Position:
    """Where to resume: the file (inode, device, first-line fingerprint) and the offset."""

    inode: int
    device: int
    offset: int
    head: str

    @classmethod
    def from_saved(cls, saved: object) -> Position | None:
        """A position from what the store gave back (a dict), None if it is not one."""
        if not isinstance(saved, Mapping):
            return None
        try:
            inode, device, offset = (saved[k] for k in ("inode", "device", "offset"))
            head = saved["head"]
        except KeyError:
            return None
        numbers = (inode, device, offset)
        if not all(type(n) is int and n >= 0 for n in numbers) or not isinstance(head, str):
            return None
        return cls(inode, device, offset, head)


@dataclass(frozen=True, slots=True)
class Batch:
    """Lines read by one call, and the position right after the last of them.

    `position` is None until a file was opened. `more` says another call would return
    something at once (the batch was full, or a rotation was just crossed).
    """

    lines: list[bytes]
    position: Position | None
    more: bool = False


@dataclass(slots=True)
class FollowCounters:
    """What the caller may export as metrics."""

    rotations: int = 0
    truncations: int = 0
    cut_lines: int = 0  # lines longer than max_line, cut
    skipped_bytes: int = 0  # the rest of those lines
    errors: int = 0


@dataclass(slots=True)
class _Open:
    """The file we read: its fd, identity, head, and the offsets inside it."""

    fd: int
    file_id: FileId
    head: str
    offset: int  # after the last line handed out (or skipped)
    buf: bytes = b""  # bytes after `offset` read ahead, without a newline yet
    skipping: bool = False  # inside the rest of a cut line
    grown_at: float = float("-inf")

    @property
    def read_at(self) -> int:
        return self.offset + len(self.buf)


class Follower:
    """Follows `path`; see the module docstring. Not thread-safe: one thread drives it.

    `position` is the saved one (None on a first start, which begins at `offset` if given,
    else at the end or the beginning of the current file as `start` says).
    """

    def __init__(
        self,
        path: Path,
        position: Position | None = None,
        *,
        start: Literal["end", "beginning"] = "end",
        offset: int | None = None,
        max_line: int = MAX_LINE,
        rotate_grace: float = ROTATE_GRACE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.position = position
        self.start = start
        self.offset = offset
        self.max_line = max_line
        self.rotate_grace = rotate_grace
        self.clock = clock
        self.status: Status = "ok"
        self.error: str | None = None
        self.counters = FollowCounters()
        self._file: _Open | None = None
        self._started = False

    # -- the public surface ------------------------------------------------------------

    def read_batch(self, max_bytes: int = BATCH_BYTES) -> Batch:
        """Complete lines that arrived, up to about `max_bytes`; never raises OSError."""
        for _ in range(4):  # a rotation crossed is followed by a read of the next file
            try:
                lines, more = self._step(max_bytes)
            except OSError as error:
                self._fail(error)
                return Batch([], self.current_position())
            if lines or not more:
                return Batch(lines, self.current_position(), more)
        return Batch([], self.current_position(), True)

    def launch(self) -> None:
        """Opens the file now, pinning its inode: lines written after the daemon says it is
        ready must not depend on when the first read happens (a rotation could come first)."""
        if self._file is None:
            try:
                self._open_first()
            except OSError as error:
                self._fail(error)

    def read(self) -> tuple[list[bytes], Position | None, bool]:
        """The runner's LineReader protocol: (lines, position after them, more pending)."""
        batch = self.read_batch()
        return batch.lines, batch.position, batch.more

    @property
    def missing(self) -> bool:
        """The path does not exist (source_silent calls that "vanished")."""
        return self.status == "missing"

    def current_position(self) -> Position | None:
        f = self._file
        if f is None:
            return self.position
        return Position(f.file_id.inode, f.file_id.device, f.offset, f.head)

    def close(self) -> None:
        if self._file is not None:
            # where it stopped, for the snapshot taken after the sources stop
            self.position = self.current_position()
            os.close(self._file.fd)
            self._file = None

    # -- one step: open, read, or move on ----------------------------------------------

    def _step(self, max_bytes: int) -> tuple[list[bytes], bool]:
        f = self._file
        if f is None:
            return [], self._open_first()
        st = os.fstat(f.fd)
        if st.st_size < f.read_at:
            return [], self._truncated(f)
        # data handed to _split never exceeds max_line, so no complete line in it can
        want = min(max_bytes, st.st_size - f.read_at, self.max_line - len(f.buf))
        if want > 0:
            chunk = os.pread(f.fd, want, f.read_at)
            if f.head and rotation.head_of(f.fd) != f.head:
                return [], self._truncated(f)  # rewritten in place: the chunk is not ours
            if self.status == "error":
                self.status, self.error = "ok", None
            f.grown_at = self.clock()
            lines = self._split(f, chunk)
            if not f.head:
                f.head = rotation.head_of(f.fd)
            return lines, f.read_at < st.st_size or not self._is_current(f)
        return self._at_end(f)

    def _is_current(self, f: _Open) -> bool:
        """Still the file at `path`: else a rotation waits to be crossed."""
        try:
            return FileId.of(self.path.stat()) == f.file_id
        except OSError:
            return True  # missing: nothing to move on to yet

    def _split(self, f: _Open, chunk: bytes) -> list[bytes]:
        if f.skipping:
            cut = chunk.find(b"\n")
            skipped = len(chunk) if cut < 0 else cut + 1
            self.counters.skipped_bytes += len(chunk) if cut < 0 else cut
            f.offset += skipped
            if cut < 0:
                return []
            f.skipping = False
            chunk = chunk[skipped:]
        data = f.buf + chunk if f.buf else chunk
        parts = data.split(b"\n")
        f.buf = parts.pop()
        f.offset += len(data) - len(f.buf)
        if len(f.buf) >= self.max_line:  # no newline in max_line bytes: cut, skip the rest
            parts.append(f.buf)
            self.counters.cut_lines += 1
            f.offset += len(f.buf)
            f.buf, f.skipping = b"", True
        return parts

    # -- opening ------------------------------------------------------------------------

    def _open_path(self) -> tuple[int, os.stat_result] | None:
        """An fd on the current file, or None (status says why)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.status, self.error = "missing", None
            self._started = True  # a file that appears later is read from its start
            return None
        try:
            st = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            self._started = True
            self._set_error(f"{self.path} is {kind}")
            return None
        self.status, self.error = "ok", None
        return fd, st

    def _open_first(self) -> bool:
        """Opens where this follower starts: saved position, offset, end or beginning."""
        if self.position is not None and not self._started:
            return self._resume(self.position)
        opened = self._open_path()
        if opened is None:
            return False
        fd, st = opened
        start = 0
        if not self._started:
            if self.offset is not None:
                start = min(self.offset, st.st_size)
            elif self.start == "end":
                start = last_line_end(fd, st.st_size)
        self._started = True
        self._adopt(fd, st, start, grown_at=self.clock())
        return True

    def _adopt(self, fd: int, st: os.stat_result, offset: int, *, grown_at: float) -> None:
        self.close()
        self._started = True
        self._file = _Open(fd, FileId.of(st), rotation.head_of(fd), offset, grown_at=grown_at)

    def _resume(self, saved: Position) -> bool:
        """Finds the saved file: the current one, or a rotated sibling (inode and head)."""
        want = FileId(saved.inode, saved.device)
        opened = self._open_path()
        if opened is not None:
            fd, st = opened
            same = FileId.of(st) == want and rotation.head_matches(saved.head, rotation.head_of(fd))
            if same and st.st_size >= saved.offset:
                self._adopt(fd, st, saved.offset, grown_at=self.clock())
                return True
            os.close(fd)
        found = rotation.find_rotated(self.path, want, saved.head, saved.offset)
        if found is not None:
            self._adopt(found, os.fstat(found), saved.offset, grown_at=float("-inf"))
            log.info("%s: resuming in a rotated file at offset %d", self.path, saved.offset)
            return True
        if opened is None and self.status == "error":
            return False  # unreadable for now: try the saved position again later
        self._started = True
        self._note_lost(saved)
        return self._open_first()

    def _note_lost(self, saved: Position) -> None:
        compressed = rotation.compressed_siblings(self.path)
        why = f"; {len(compressed)} compressed siblings cannot be searched" if compressed else ""
        log.warning(
            "%s: the file of the saved position (inode %d, offset %d) is gone%s;"
            " reading the current file from its start",
            self.path,
            saved.inode,
            saved.offset,
            why,
        )

    # -- at the end of our file: rotation, deletion, or just nothing new ---------------

    def _at_end(self, f: _Open) -> tuple[list[bytes], bool]:
        try:
            current = FileId.of(self.path.stat())
        except FileNotFoundError:
            self.status = "missing"
            current = None
        if current is not None and self.status == "missing":
            self.status = "ok"
        if current == f.file_id:
            return [], False
        nxt = rotation.successor(self.path, f.file_id)
        if nxt is None:
            return [], False
        if nxt[0] == self.path and not self._may_leave(f, nxt[0]):
            return [], False
        if f.buf and not f.skipping:
            tail, f.buf = f.buf, b""  # the old file is finished: its last line will not end
            f.offset += len(tail)
            return [tail], True
        return [], self._switch(nxt)

    def _may_leave(self, f: _Open, newest: Path) -> bool:
        """Leave a rotated file for the current one once it has data or the old is quiet:
        a writer that has not reopened yet may still append to the old file."""
        if self.clock() - f.grown_at >= self.rotate_grace:
            return True
        try:
            return newest.stat().st_size > 0
        except OSError:
            return False

    def _switch(self, nxt: tuple[Path, FileId]) -> bool:
        path, want = nxt
        fd = rotation.open_matching(path, want, "", 0)
        if fd is None:
            return True  # renamed again meanwhile: look again at once
        st = os.fstat(fd)
        newest = path == self.path
        self._adopt(fd, st, 0, grown_at=self.clock() if newest else float("-inf"))
        self.counters.rotations += 1
        log.info("%s: rotated, now reading %s", self.path, path.name)
        return True

    def _truncated(self, f: _Open) -> bool:
        """Shrunk or rewritten: finish from the copy if there is one, then from 0."""
        self.counters.truncations += 1
        copy = rotation.find_copy(self.path, f.head, f.offset) if f.head else None
        if copy is not None:
            log.info("%s: truncated; reading the rest from its copy", self.path)
            self._adopt(copy, os.fstat(copy), f.offset, grown_at=float("-inf"))
            return True
        log.info("%s: truncated; reading it again from the start", self.path)
        fd = os.dup(f.fd)
        self._adopt(fd, os.fstat(fd), 0, grown_at=self.clock())
        return True

    def _fail(self, error: OSError) -> None:
        self._set_error(f"{self.path}: {error.strerror or error}")

    def _set_error(self, message: str) -> None:
        if message != self.error:
            log.warning("cannot read %s", message)
        self.counters.errors += 1
        self.status, self.error = "error", message


def last_line_end(fd: int, size: int) -> int:
    """The offset after the last newline before `size` (0 if none): where `start="end"`
    begins, so that a line being written is read whole once it ends."""
    block = 1 << 16
    end = size
    while end > 0:
        begin = max(0, end - block)
        data = os.pread(fd, end - begin, begin)
        cut = data.rfind(b"\n")
        if cut >= 0:
            return begin + cut + 1
        end = begin
    return 0
