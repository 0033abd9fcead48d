"""The state store on a real SQLite file: modes, atomic batches, cooldown, outbox, errors."""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sentinel.alerts import Severity
from sentinel.config.model import NotifyConfig, NotifyTarget
from sentinel.sinks.store import DB_NAME, Store, StoreError, target_key
from tests.receivers import sample_alert

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WARN = NotifyTarget("json://127.0.0.1:9/warn", Severity.WARNING)
CRIT = NotifyTarget("json://127.0.0.1:9/crit", Severity.CRITICAL)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class FilePosition:
    inode: int
    device: int
    offset: int
    head: bytes


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_dir_and_every_file_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state" / "sentinel"
    store = Store(state)
    store.commit_batch({"vsftpd": {"offset": 1}}, [sample_alert()])
    assert mode(state) == 0o700
    files = sorted(p.name for p in state.iterdir())
    assert files == [DB_NAME, DB_NAME + "-shm", DB_NAME + "-wal"]
    assert {p.name: mode(p) for p in state.iterdir()} == dict.fromkeys(files, 0o600)
    store.close()


def test_existing_loose_files_are_tightened(tmp_path: Path) -> None:
    Store(tmp_path).close()
    for path in tmp_path.iterdir():
        path.chmod(0o644)
    store = Store(tmp_path)
    assert all(mode(p) == 0o600 for p in tmp_path.iterdir())
    store.close()


def test_positions_survive_a_new_store(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_position("vsftpd", FilePosition(12, 34, 5678, b"\x00head\xff"))
    store.commit_batch({"journal": "s=abc;i=42"}, [])
    store.close()
    again = Store(tmp_path)
    saved = again.load_position("vsftpd")
    assert FilePosition(**saved) == FilePosition(12, 34, 5678, b"\x00head\xff")
    assert again.load_position("journal") == "s=abc;i=42"
    assert again.load_position("unknown") is None
    again.close()


def test_batch_is_all_or_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path, NotifyConfig(targets=(WARN,)))
    with pytest.raises(TypeError):
        store.commit_batch({"a": {"offset": 10}, "b": object()}, [sample_alert()], b"rules")
    assert store.load_position("a") is None
    assert store.list_alerts() == []
    assert store.outbox_size() == 0
    assert store.load_rule_state() is None
    queued = store.commit_batch({"a": {"offset": 10}}, [sample_alert()], b"rules")
    assert queued == 1
    assert store.load_position("a") == {"offset": 10}
    assert [a["user"] for a in store.list_alerts()] == ["labsync"]
    assert store.load_rule_state() == b"rules"
    store.close()


def test_min_severity_routes_per_target(tmp_path: Path) -> None:
    store = Store(tmp_path, NotifyConfig(targets=(WARN, CRIT)))
    assert store.commit_batch({}, [sample_alert("a", severity=Severity.INFO)]) == 0
    assert store.commit_batch({}, [sample_alert("b", severity=Severity.WARNING)]) == 1
    assert store.commit_batch({}, [sample_alert("c", severity=Severity.CRITICAL)]) == 2
    due = store.due(float("inf"))
    assert [(r.record["user"], r.target) for r in due] == [
        ("b", target_key(WARN)),
        ("c", target_key(WARN)),
        ("c", target_key(CRIT)),
    ]
    assert len(store.list_alerts()) == 3  # history keeps everything
    store.close()


def test_cooldown_by_event_time_spans_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path, NotifyConfig(targets=(WARN,)), clock=clock)
    assert store.commit_batch({}, [sample_alert(at=T0)]) == 1
    store.close()
    clock.now += 3600  # restarted an hour later, reading on where it stopped
    store = Store(tmp_path, NotifyConfig(targets=(WARN,)), clock=clock)
    assert store.commit_batch({}, [sample_alert(at=T0 + timedelta(minutes=10))]) == 0
    assert store.commit_batch({}, [sample_alert(at=T0 + timedelta(minutes=16))]) == 1
    assert len(store.list_alerts()) == 3
    store.close()


def test_cooldown_by_wall_clock_quiets_a_backfill(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path, NotifyConfig(targets=(WARN,)), clock=clock)
    backlog = [sample_alert(at=T0 + timedelta(minutes=20 * i)) for i in range(4)]
    assert store.commit_batch({}, backlog) == 1
    clock.now += 15 * 60
    assert store.commit_batch({}, [sample_alert(at=T0 + timedelta(hours=2))]) == 1
    assert store.commit_batch({}, [sample_alert("someone-else", at=T0)]) == 1
    store.close()


def test_list_alerts_since_event_time(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit_batch({}, [sample_alert(str(i), at=T0 + timedelta(hours=i)) for i in range(5)])
    assert [a["user"] for a in store.list_alerts(T0 + timedelta(hours=3))] == ["3", "4"]
    assert len(store.list_alerts()) == 5
    assert store.prune_history(max_rows=2) == 3
    assert [a["user"] for a in store.list_alerts()] == ["3", "4"]
    store.close()


def test_outbox_retry_and_give_up(tmp_path: Path) -> None:
    clock = Clock()
    store = Store(tmp_path, NotifyConfig(targets=(WARN,)), clock=clock)
    store.commit_batch({}, [sample_alert("a")])
    (row,) = store.due(clock.now)
    store.retry_later(row.id, clock.now + 30)
    assert store.due(clock.now) == []
    assert store.next_due() == clock.now + 30
    (again,) = store.due(clock.now + 30)
    assert again.attempts == 1
    clock.now += 60
    store.commit_batch({}, [sample_alert("b")])
    assert store.give_up(created_before=clock.now - 10) == 1
    assert [r.record["user"] for r in store.due(clock.now)] == ["b"]
    store.ack(store.due(clock.now)[0].id)
    assert store.outbox_size() == 0
    assert store.next_due() is None
    store.close()


def test_a_failing_target_is_probed_one_row_at_a_time(tmp_path: Path) -> None:
    clock = Clock()
    other = NotifyTarget("json://127.0.0.1:9/other")
    store = Store(tmp_path, NotifyConfig(targets=(WARN, other)), clock=clock)
    store.commit_batch({}, [sample_alert("a"), sample_alert("b"), sample_alert("c")])
    key = target_key(WARN)
    first, *_ = store.due(clock.now, target=key)
    store.retry_later(first.id, clock.now + 30, target=key)
    assert store.due(clock.now, target=key) == []  # every row of that target waits
    assert len(store.due(clock.now, target=target_key(other))) == 3  # the other does not
    assert store.next_due(target=key) == clock.now + 30
    clock.now += 30
    probe, *_ = store.due(clock.now, target=key)
    assert probe.id == first.id and probe.attempts == 1
    clock.now += 5  # the rows of this target were deferred further meanwhile, say
    store.retry_later(store.due(clock.now, target=key)[1].id, clock.now + 60)
    store.ack(probe.id, resume=key)  # the target answers: what waited is due now
    assert len(store.due(clock.now, target=key)) == 2
    store.close()


def test_files_deleted_while_another_connection_recreates_them(tmp_path: Path) -> None:
    """rm of the database, then of its -wal and -shm, while another thread's connection
    recreated them in between: both connections must end up on the same files."""
    notify = NotifyConfig(targets=(WARN,))
    writer, reader = Store(tmp_path, notify), Store(tmp_path, notify)
    (tmp_path / DB_NAME).unlink()
    assert reader.outbox_size() == 0  # recreates the database, its -wal and -shm
    for suffix in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink()
    # SQLite shares one WAL index per database among a process's connections: until the
    # reader lets go of the deleted one, the writer cannot open the new one (the daemon
    # counts that failure and notifies from memory); then both meet on the same files
    try:
        writer.commit_batch({}, [sample_alert("a")])
    except StoreError:
        assert reader.outbox_size() == 0  # the reader lets go of the deleted index
    assert writer.commit_batch({}, [sample_alert("b")]) == 1
    assert reader.outbox_size() >= 1
    assert [r.record["user"] for r in reader.due(2e9)] == [
        r.record["user"] for r in writer.due(2e9)
    ]
    writer.close()
    reader.close()


def test_deleted_database_is_recreated(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.commit_batch({"a": {"offset": 1}}, [sample_alert()])
    for path in list(tmp_path.iterdir()):
        path.unlink()
    store.commit_batch({"a": {"offset": 2}}, [])
    assert (tmp_path / DB_NAME).exists()
    assert mode(tmp_path / DB_NAME) == 0o600
    store.close()
    assert Store(tmp_path).load_position("a") == {"offset": 2}


def test_unusable_state_dir_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError):
        Store(blocker)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / DB_NAME).write_bytes(os.urandom(4096))
    with pytest.raises(StoreError):
        Store(corrupt)


def test_failures_after_opening_raise_store_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    (tmp_path / DB_NAME).unlink()
    (tmp_path / DB_NAME).mkdir()  # the path is taken: the store cannot come back
    with pytest.raises(StoreError):
        store.commit_batch({"a": {"offset": 1}}, [])
    with pytest.raises(StoreError):
        store.list_alerts()
    store.close()


def test_root_leaves_no_root_owned_files_behind(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "this check runs as root, as `sentinel alerts` by an admin does"
    Store(tmp_path).close()
    for path in [tmp_path, *tmp_path.iterdir()]:
        os.chown(path, 65534, 65534)  # the daemon's own user
    store = Store(tmp_path)  # root opens it: SQLite makes new -wal and -shm files
    store.commit_batch({"a": {"offset": 1}}, [])
    owners = {p.name: (p.stat().st_uid, p.stat().st_gid) for p in tmp_path.iterdir()}
    assert owners == dict.fromkeys([DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"], (65534, 65534))
    store.close()


def test_opening_the_store_leaves_other_threads_their_umask(tmp_path: Path) -> None:
    """The store makes its files private by their own mode, never through the process-wide
    umask: a thread creating directories meanwhile gets exactly what its umask says."""
    made = tmp_path / "made"
    made.mkdir(mode=0o755)
    stop = threading.Event()
    modes: list[int] = []

    def create() -> None:
        for i in range(5_000):  # bounded: stops when the store is done, or after 5,000
            if stop.is_set():
                return
            path = made / str(i)
            path.mkdir(mode=0o777)
            modes.append(mode(path))

    old = os.umask(0o022)  # this test's own process-wide setting, restored below
    try:
        worker = threading.Thread(target=create)
        worker.start()
        try:
            for i in range(40):  # opens, deletions and reopens (each creates the files)
                store = Store(tmp_path / f"state{i % 4}")
                for suffix in ("", "-wal", "-shm"):
                    assert mode(store.path.with_name(DB_NAME + suffix)) == 0o600
                store.close()
                if i % 2:
                    for suffix in ("", "-wal", "-shm"):
                        store.path.with_name(DB_NAME + suffix).unlink(missing_ok=True)
        finally:
            stop.set()
            worker.join()
    finally:
        os.umask(old)
    assert modes and set(modes) == {0o755}


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_new_store_files_are_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        store = Store(tmp_path / "state")
        store.save_position("vsftpd", {"offset": 1})
        paths = [store.path.with_name(DB_NAME + s) for s in ("", "-wal", "-shm")]
        assert [mode(p) for p in paths] == [0o600] * 3
        assert mode(tmp_path / "state") == 0o700
        store.close()
    finally:
        os.umask(old)
