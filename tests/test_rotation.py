"""Rotations on real files: rename + create, copytruncate, delete + recreate, replaced in
place, and rotations while sentinel was down. Numbered lines prove each line comes once."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sentinel.sources import rotation
from sentinel.sources.follow import Follower, Position
from sentinel.sources.wakeup import Wakeup
from tests.test_follow import drain

DEADLINE = 20.0


def line(i: int) -> bytes:
    return b"%08d the quick brown fox jumps over the lazy dog" % i


LINE = len(line(0)) + 1


def write_lines(fd: int, numbers: range) -> None:
    os.write(fd, b"".join(line(i) + b"\n" for i in numbers))


def open_log(path: Path) -> int:
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)


def shift(path: Path, keep: int = 50) -> None:
    """logrotate's renames: log.N -> log.N+1, oldest first."""
    for n in range(keep, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.rename(path.with_name(f"{path.name}.{n + 1}"))


def rename_create(path: Path, fd: int) -> int:
    shift(path)
    path.rename(path.with_name(path.name + ".1"))
    os.close(fd)
    return open_log(path)


def copytruncate(path: Path, fd: int) -> int:
    shift(path)
    shutil.copyfile(path, path.with_name(path.name + ".1"))
    os.truncate(path, 0)
    return fd


def delete_recreate(path: Path, fd: int) -> int:
    path.unlink()
    os.close(fd)
    return open_log(path)


Rotate = Callable[[Path, int], int]


class Writer:
    """A thread writing numbered lines at a few thousand a second, rotating every `every`."""

    def __init__(
        self,
        path: Path,
        total: int,
        every: int,
        rotate: Rotate,
        before_rotate: Callable[[int], None] | None = None,
    ) -> None:
        self.path, self.total, self.every, self.rotate = path, total, every, rotate
        self.before_rotate = before_rotate
        self.stop = threading.Event()
        self.rotations = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-writer")

    def _run(self) -> None:
        try:
            fd = open_log(self.path)
            for i in range(self.total):
                if self.stop.is_set():
                    break
                write_lines(fd, range(i, i + 1))
                if (i + 1) % self.every == 0 and i + 1 < self.total:
                    if self.before_rotate is not None:
                        self.before_rotate(i + 1)
                    fd = self.rotate(self.path, fd)
                    self.rotations += 1
                if i % 10 == 0:
                    self.stop.wait(0.002)  # pacing: about 3,000 lines a second
            os.close(fd)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


def follow_while_writing(
    tmp_path: Path, rotate: Rotate, *, total: int = 6000, every: int = 500, sync: bool = False
) -> tuple[list[bytes], Writer, Follower]:
    log = tmp_path / "app.log"
    log.touch()
    follower = Follower(log, None, start="beginning")
    got: list[bytes] = []

    def caught_up(n: int) -> None:
        # deleting a file nobody opened yet loses it by nature: the writer waits for us
        deadline = time.monotonic() + DEADLINE
        while len(got) < n and time.monotonic() < deadline:
            writer.stop.wait(0.001)

    writer = Writer(log, total, every, rotate, caught_up if sync else None)
    wake = threading.Event()
    wakeup = Wakeup([log], wake)
    wakeup.start()
    writer.thread.start()
    try:
        deadline = time.monotonic() + DEADLINE
        while len(got) < total and time.monotonic() < deadline:
            got.extend(drain(follower))
            wake.wait(0.05)
            wake.clear()
    finally:
        writer.stop.set()
        writer.thread.join()
        wakeup.stop()
    got.extend(drain(follower))
    follower.close()
    assert writer.error is None
    return got, writer, follower


def test_rename_create_under_load_delivers_every_line_once(tmp_path: Path) -> None:
    got, writer, follower = follow_while_writing(tmp_path, rename_create)
    assert writer.rotations == 11
    assert got == [line(i) for i in range(6000)]
    assert follower.counters.rotations == 11


def test_copytruncate_under_load_delivers_every_line_once(tmp_path: Path) -> None:
    got, writer, follower = follow_while_writing(tmp_path, copytruncate)
    assert writer.rotations == 11
    assert got == [line(i) for i in range(6000)]
    assert follower.counters.truncations >= 1


def test_delete_recreate_under_load_delivers_every_line_once(tmp_path: Path) -> None:
    got, writer, _ = follow_while_writing(tmp_path, delete_recreate, sync=True)
    assert writer.rotations == 11
    assert got == [line(i) for i in range(6000)]


def test_old_file_written_after_rename_is_finished_first(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    old = open_log(log)
    write_lines(old, range(10))
    follower = Follower(log, None, start="beginning", rotate_grace=3600)
    assert drain(follower) == [line(i) for i in range(10)]
    log.rename(tmp_path / "app.log.1")  # logrotate: rename, create, then HUP the writer
    log.touch()
    write_lines(old, range(10, 15))  # the writer has not reopened yet
    os.write(old, b"unfinished")
    assert drain(follower) == [line(i) for i in range(10, 15)]
    os.close(old)
    new = open_log(log)
    write_lines(new, range(15, 20))
    os.close(new)
    # the old file's last line will never end: it is delivered as it is, then the new file
    assert drain(follower) == [b"unfinished"] + [line(i) for i in range(15, 20)]
    follower.close()


def test_copytruncate_recovers_lines_written_before_the_copy(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    fd = open_log(log)
    write_lines(fd, range(10))
    follower = Follower(log, None, start="beginning")
    assert drain(follower) == [line(i) for i in range(10)]
    write_lines(fd, range(10, 15))  # not read yet when logrotate copies
    copytruncate(log, fd)
    write_lines(fd, range(15, 40))  # more than we had read: only the head shows the change
    os.close(fd)
    assert drain(follower) == [line(i) for i in range(10, 40)]
    assert follower.counters.truncations == 1
    follower.close()


def test_truncation_without_a_copy_starts_again_at_zero(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    fd = open_log(log)
    write_lines(fd, range(10))
    follower = Follower(log, None, start="beginning")
    assert drain(follower) == [line(i) for i in range(10)]
    os.truncate(log, 0)
    assert drain(follower) == []
    write_lines(fd, range(10, 12))
    os.close(fd)
    assert drain(follower) == [line(10), line(11)]
    follower.close()


def test_same_inode_other_content_is_read_from_zero(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line(i) + b"\n" for i in range(5)))
    follower = Follower(log, None, start="beginning")
    drain(follower)
    inode = log.stat().st_ino
    replacement = [b"replaced %d" % i + b"-" * 60 for i in range(20)]
    with log.open("r+b") as f:  # rewritten in place, longer than what we had read
        f.write(b"".join(x + b"\n" for x in replacement))
    assert log.stat().st_ino == inode
    assert drain(follower) == replacement
    follower.close()


def saved_after(follower: Follower) -> Position:
    position = follower.current_position()
    follower.close()
    assert position is not None
    return position


@pytest.mark.parametrize("style", ["numbered", "dated"])
def test_rotated_while_down_resumes_in_the_rotated_file(tmp_path: Path, style: str) -> None:
    log = tmp_path / "app.log"
    fd = open_log(log)
    write_lines(fd, range(100))
    first = Follower(log, None, start="beginning")
    assert first.read_batch(max_bytes=30 * LINE).lines == [line(i) for i in range(30)]
    saved = saved_after(first)
    write_lines(fd, range(100, 120))
    n = 100
    for r in range(4):  # four rotations while sentinel is down
        if style == "numbered":
            shift(log)
            log.rename(tmp_path / "app.log.1")
        else:
            log.rename(tmp_path / f"app.log-202601{r + 10:02d}")
        os.close(fd)
        fd = open_log(log)
        write_lines(fd, range(n + 20, n + 70))
        n += 50
    os.close(fd)
    second = Follower(log, saved)
    assert drain(second) == [line(i) for i in range(30, n + 20)]
    assert second.counters.rotations == 4
    second.close()


def test_copytruncated_while_down_resumes_in_the_copy(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    fd = open_log(log)
    write_lines(fd, range(50))
    first = Follower(log, None, start="beginning")
    assert first.read_batch(max_bytes=20 * LINE).lines == [line(i) for i in range(20)]
    saved = saved_after(first)
    copytruncate(log, fd)
    write_lines(fd, range(50, 120))  # past the saved offset: same inode, other head
    os.close(fd)
    second = Follower(log, saved)
    assert drain(second) == [line(i) for i in range(20, 120)]
    second.close()


def test_saved_file_only_compressed_reads_current_from_zero(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line(i) + b"\n" for i in range(10)))
    first = Follower(log, None, start="beginning")
    drain(first)
    saved = saved_after(first)
    log.rename(tmp_path / "app.log.1.gz")  # stands in for rotate + compress
    log.write_bytes(line(10) + b"\n")
    with caplog.at_level(logging.WARNING, logger="sentinel.follow"):
        second = Follower(log, saved)
        assert drain(second) == [line(10)]
    assert "1 compressed siblings cannot be searched" in caplog.text
    second.close()


def test_resume_while_the_file_is_missing_waits_for_it(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(line(0) + b"\n")
    first = Follower(log, None, start="beginning")
    drain(first)
    saved = saved_after(first)
    log.unlink()
    second = Follower(log, saved)
    assert drain(second) == []
    assert second.missing
    log.write_bytes(line(1) + b"\n")
    assert drain(second) == [line(1)]
    second.close()


def test_siblings_are_ordered_oldest_first_and_compressed_ones_skipped(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    names = ["x.log.1", "x.log.2", "x.log.10", "x.log.3.gz", "x.log.bak", "x.logger", "y.log.1"]
    for name in [*names, "x.log"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in rotation.rotated_siblings(log)] == ["x.log.10", "x.log.2", "x.log.1"]
    assert [p.name for p in rotation.compressed_siblings(log)] == ["x.log.3.gz"]
    dated = tmp_path / "d.log"
    for name in ["d.log-20260102", "d.log-20251231", "d.log-2026010207", "d.log-20260102.1"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in rotation.rotated_siblings(dated)] == [
        "d.log-20251231",
        "d.log-20260102",
        "d.log-20260102.1",
        "d.log-2026010207",
    ]


def test_head_is_stable_as_the_file_grows(tmp_path: Path) -> None:
    log = tmp_path / "h.log"
    log.write_bytes(b"partial")
    fd = os.open(log, os.O_RDONLY)
    try:
        assert rotation.head_of(fd) == ""
        append = log.open("ab")
        append.write(b" first line\n")
        append.flush()
        head = rotation.head_of(fd)
        append.write(b"second\n" * 500)
        append.close()
        assert head != ""
        assert rotation.head_of(fd) == head
    finally:
        os.close(fd)
