"""Follower on real files: lines, positions, partial and long lines, missing files, errors,
start options, wake-up latency and the backfill bisection."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sentinel.sources.backfill import first_offset_at
from sentinel.sources.follow import Batch, Follower, Position
from sentinel.sources.wakeup import Wakeup

DEADLINE = 10.0


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)


def drain(follower: Follower, max_bytes: int = 1 << 20) -> list[bytes]:
    """Everything readable now (bounded number of calls)."""
    lines: list[bytes] = []
    for _ in range(10_000):
        batch = follower.read_batch(max_bytes)
        lines.extend(batch.lines)
        if not batch.more:
            return lines
    raise AssertionError("read_batch kept saying more")


def test_reads_complete_lines_and_reports_position(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"one\ntwo\n")
    follower = Follower(log, None, start="beginning")
    batch = follower.read_batch()
    st = log.stat()
    assert batch.lines == [b"one", b"two"]
    assert batch.position is not None
    assert batch.position.offset == 8
    assert (batch.position.inode, batch.position.device) == (st.st_ino, st.st_dev)
    assert len(batch.position.head) == 40
    append(log, b"three\n")
    assert follower.read_batch().lines == [b"three"]
    assert follower.read_batch().lines == []
    follower.close()


def test_partial_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"whole\npart")
    follower = Follower(log, None, start="beginning")
    batch = follower.read_batch()
    assert batch.lines == [b"whole"]
    assert batch.position is not None
    assert batch.position.offset == 6  # not past the partial line
    append(log, b"ial")
    assert follower.read_batch().lines == []
    append(log, b" line\nnext")
    batch = follower.read_batch()
    assert batch.lines == [b"partial line"]
    assert batch.position is not None
    assert batch.position.offset == len(b"whole\npartial line\n")
    follower.close()


def test_small_batches_split_lines_anywhere(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    expected = [f"line {i} {'x' * (i % 37)}".encode() for i in range(2000)]
    log.write_bytes(b"".join(line + b"\n" for line in expected))
    follower = Follower(log, None, start="beginning")
    assert drain(follower, max_bytes=97) == expected
    follower.close()


def test_resume_from_saved_position_reads_each_line_once(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"a\nb\n")
    first = Follower(log, None, start="beginning")
    batch = first.read_batch()
    first.close()
    assert batch.position is not None
    saved = Position.from_saved(
        {
            "inode": batch.position.inode,
            "device": batch.position.device,
            "offset": batch.position.offset,
            "head": batch.position.head,
        }
    )
    assert saved == batch.position
    append(log, b"c\n")
    second = Follower(log, saved)
    assert drain(second) == [b"c"]
    second.close()


def test_position_from_saved_rejects_junk() -> None:
    assert Position.from_saved(None) is None
    assert Position.from_saved({"inode": 1}) is None
    assert Position.from_saved({"inode": -1, "device": 1, "offset": 0, "head": ""}) is None
    assert Position.from_saved({"inode": 1, "device": 1, "offset": "0", "head": ""}) is None


def test_start_end_skips_old_lines_but_waits_for_a_partial_one(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"old\nolder\nhalf")
    follower = Follower(log, None, start="end")
    assert drain(follower) == []
    append(log, b" done\nnew\n")
    assert drain(follower) == [b"half done", b"new"]
    follower.close()


def test_offset_option_starts_there(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"skip\nkeep\n")
    follower = Follower(log, None, offset=5)
    assert drain(follower) == [b"keep"]
    follower.close()


def test_long_line_is_cut_and_memory_stays_bounded(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"before\n")
    follower = Follower(log, None, start="beginning", max_line=1 << 20)
    assert drain(follower) == [b"before"]
    chunk = b"A" * (1 << 20)
    delivered: list[bytes] = []
    with log.open("ab") as f:
        for _ in range(50):  # a 50 MiB line with no newline, written as it grows
            f.write(chunk)
            f.flush()
            delivered.extend(drain(follower))
            assert follower._file is not None
            assert len(follower._file.buf) <= 1 << 20
        f.write(b"\nafter\n")
    delivered.extend(drain(follower))
    assert delivered == [chunk, b"after"]
    assert follower.counters.cut_lines == 1
    assert follower.counters.skipped_bytes == 49 * len(chunk)
    position = follower.current_position()
    assert position is not None
    assert position.offset == log.stat().st_size
    follower.close()


def test_long_complete_lines_inside_one_read_are_cut(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"x" * 5000 + b"\nshort\n" + b"y" * 3000 + b"\n")
    follower = Follower(log, None, start="beginning", max_line=1000)
    assert drain(follower, max_bytes=1 << 16) == [b"x" * 1000, b"short", b"y" * 1000]
    assert follower.counters.cut_lines == 2
    follower.close()


def test_missing_file_is_reported_then_read_from_its_start(tmp_path: Path) -> None:
    log = tmp_path / "later.log"
    follower = Follower(log, None, start="end")
    batch = follower.read_batch()
    assert batch == Batch([], None, False)
    assert follower.missing
    assert follower.status == "missing"
    log.write_bytes(b"first\nsecond\n")
    assert drain(follower) == [b"first", b"second"]
    assert not follower.missing
    log.unlink()
    assert drain(follower) == []
    assert follower.missing
    follower.close()


def test_directory_is_an_error_not_an_exception(tmp_path: Path) -> None:
    target = tmp_path / "dir.log"
    target.mkdir()
    follower = Follower(target, None)
    batch = follower.read_batch()
    assert batch.lines == []
    assert follower.status == "error"
    assert follower.error is not None
    assert "directory" in follower.error
    assert follower.counters.errors == 1
    target.rmdir()
    target.write_bytes(b"now a file\n")
    assert drain(follower) == [b"now a file"]
    status: str = follower.status  # re-read: the call above changed it
    assert status == "ok"
    assert follower.error is None
    follower.close()


def test_permission_denied_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "secret.log"
    log.write_bytes(b"private\n")
    log.chmod(0o600)
    tmp_path.chmod(0o755)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child drops root, which reads everything, and reports back
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            follower = Follower(log, None, start="beginning")
            batch = follower.read_batch()
            os.write(write_end, f"{follower.status}|{len(batch.lines)}|{follower.error}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        report = reader.read().decode()
    os.waitpid(pid, 0)
    status, count, error = report.split("|", 2)
    assert (status, count) == ("error", "0")
    assert "ermission denied" in error


def test_wakeup_latency_with_inotify(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    wake = threading.Event()
    wakeup = Wakeup([log], wake)
    wakeup.start()
    try:
        assert wakeup.mode == "inotify"
        follower = Follower(log, None)
        assert drain(follower) == []  # missing: the directory watch sees it appear
        latencies = []
        for i in range(20):
            wake.clear()
            line = f"line {i}".encode()
            began = time.monotonic()
            append(log, line + b"\n")
            assert wake.wait(DEADLINE)
            assert drain(follower) == [line]
            latencies.append(time.monotonic() - began)
        latencies.sort()
        assert latencies[len(latencies) // 2] < 0.05, latencies
        follower.close()
    finally:
        wakeup.stop()


def test_wakeup_polling_fallback(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    wake = threading.Event()
    wakeup = Wakeup([log], wake, inotify=False, poll_interval=0.02)
    wakeup.start()
    try:
        assert wakeup.mode == "polling"
        assert wakeup.polled == [log.absolute()]
        log.write_bytes(b"x\n")
        assert wake.wait(DEADLINE)
        wake.clear()
        append(log, b"y\n")
        assert wake.wait(DEADLINE)
    finally:
        wakeup.stop()


def test_wakeup_polls_a_directory_it_cannot_watch(tmp_path: Path) -> None:
    log = tmp_path / "not-yet" / "a.log"
    wake = threading.Event()
    wakeup = Wakeup([log, tmp_path / "b.log"], wake, poll_interval=0.02)
    wakeup.start()
    try:
        assert wakeup.mode == "mixed"
        assert wakeup.polled == [log.absolute()]
        log.parent.mkdir()
        log.write_bytes(b"x\n")
        assert wake.wait(DEADLINE)
    finally:
        wakeup.stop()


# -- backfill ------------------------------------------------------------------------------

BASE = datetime(2026, 3, 1, tzinfo=UTC)


def stamp_of(line: bytes) -> datetime | None:
    head = line[:19]
    if len(head) < 19 or not head[:4].isdigit():
        return None
    return datetime.strptime(head.decode(), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def timed_log(path: Path, count: int) -> list[tuple[int, datetime]]:
    """`count` timed lines one second apart, with untimed continuation lines among them."""
    starts = []
    offset = 0
    with path.open("wb") as f:
        for i in range(count):
            when = BASE + timedelta(seconds=i)
            line = f"{when:%Y-%m-%dT%H:%M:%S} event {i}\n".encode()
            starts.append((offset, when))
            f.write(line)
            offset += len(line)
            if i % 7 == 0:
                extra = b"    continuation without a time\n"
                f.write(extra)
                offset += len(extra)
    return starts


def test_backfill_finds_first_line_at_cutoff_with_few_probes(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    starts = timed_log(log, 200_000)
    calls = 0

    def counted(line: bytes) -> datetime | None:
        nonlocal calls
        calls += 1
        return stamp_of(line)

    for index in (0, 1, 7, 8, 99_999, 150_001, 199_999):
        calls = 0
        offset = first_offset_at(log, starts[index][1], counted)
        assert offset == starts[index][0]
        assert calls < 2000  # a linear scan would read up to 200,000 lines
        follower = Follower(log, None, offset=offset)
        first = follower.read_batch(4096).lines[0]
        assert first.endswith(f"event {index}".encode())
        follower.close()
    between = starts[500][1] + timedelta(milliseconds=500)
    assert first_offset_at(log, between, stamp_of) == starts[501][0]


def test_backfill_edges(tmp_path: Path) -> None:
    log = tmp_path / "small.log"
    starts = timed_log(log, 10)
    assert first_offset_at(log, BASE - timedelta(days=1), stamp_of) == 0
    end = log.stat().st_size
    assert first_offset_at(log, BASE + timedelta(days=1), stamp_of) == end
    append(log, b"2026-03-01T00:00:09 no newline yet")
    assert first_offset_at(log, BASE + timedelta(days=1), stamp_of) == end
    assert first_offset_at(log, starts[3][1], stamp_of) == starts[3][0]
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert first_offset_at(empty, BASE, stamp_of) == 0


@pytest.mark.parametrize("max_bytes", [1 << 20, 4096])
def test_read_matches_raw_split_on_a_large_file(tmp_path: Path, max_bytes: int) -> None:
    log = tmp_path / "large.log"
    lines = [f"{i:07d} some log text here".encode() for i in range(100_000)]
    log.write_bytes(b"\n".join(lines) + b"\n")
    follower = Follower(log, None, start="beginning")
    assert drain(follower, max_bytes) == lines
    follower.close()


def test_launch_pins_the_file_before_rotations_on_a_first_start(tmp_path: Path) -> None:
    """The daemon says READY after launch(): two rotations before its first read lose nothing."""
    log = tmp_path / "app.log"
    log.touch()
    follower = Follower(log, None, offset=0)
    follower.launch()
    sent = [f"line {i}".encode() for i in range(60)]
    for chunk in range(6):
        with log.open("ab") as out:
            out.writelines(line + b"\n" for line in sent[chunk * 10 : (chunk + 1) * 10])
        if chunk % 3 == 2:  # logrotate: shift .N, rename, create
            for number in sorted(
                (int(p.suffix[1:]) for p in tmp_path.glob("app.log.*")), reverse=True
            ):
                (tmp_path / f"app.log.{number}").rename(tmp_path / f"app.log.{number + 1}")
            log.rename(tmp_path / "app.log.1")
            log.touch()
    got: list[bytes] = []
    deadline = time.monotonic() + 5
    while len(got) < len(sent) and time.monotonic() < deadline:
        got.extend(follower.read_batch().lines)
    follower.close()
    assert got == sent
