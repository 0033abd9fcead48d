"""Faults: a full or vanished state store, a mail server down, SIGKILL with a full outbox.

The full disk is real: the daemon runs in a private mount namespace (`unshare --mount`)
whose state directory is a 2 MiB tmpfs; the test fills it through /proc/<pid>/root.
"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.realservers.proc import wait_until
from tests.receivers import HttpReceiver, SmtpReceiver
from tests.test_hostile import Daemon, brute_force_lines, daemons, new_daemon

__all__ = ["daemons"]  # the fixture, imported for pytest

TMPFS = 'mount -t tmpfs -o size=2m,mode=0700 sentinel-state "$0" && exec "$@"'


def attack(log: Path, ip: str) -> None:
    """Ten failed logins from `ip`: exactly brute_force's threshold."""
    with log.open("a") as out:
        out.writelines(line + "\n" for line in brute_force_lines(ip))


def stored_alerts(
    workdir: Path, state_dir: Path, namespace_of: int | None = None
) -> list[dict[str, Any]]:
    """`sentinel alerts --json` on `state_dir`, inside the mount namespace of process
    `namespace_of` if given (SQLite resolves /proc/<pid>/root to "/": no way through it)."""
    config = workdir / "alerts.yaml"
    config.write_text(yaml.safe_dump({"server_name": "ftp-test", "state_dir": str(state_dir)}))
    enter = [] if namespace_of is None else ["nsenter", f"--target={namespace_of}", "--mount"]
    done = subprocess.run(
        [*enter, sys.executable, "-m", "sentinel", "alerts", "--json", "-c", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def fill(path: Path) -> int:
    """Writes to `path` until the file system is full; returns the bytes written."""
    written = 0
    block = b"\0" * 65536
    with path.open("wb", buffering=0) as out:
        for _ in range(1024):  # 64 MiB at most: far more than the 2 MiB tmpfs
            try:
                written += out.write(block)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                # a last small write takes what a 64 KiB block could not
                try:
                    while out.write(b"\0" * 512):
                        written += 512
                except OSError:
                    pass
                return written
    raise AssertionError("the tmpfs never filled up")


@pytest.fixture
def chat() -> Iterator[HttpReceiver]:
    with HttpReceiver() as receiver:
        yield receiver


def chat_daemon(started: list[Daemon], tmp_path: Path, log: Path, chat: HttpReceiver) -> Daemon:
    """A daemon (not started) following `log` and notifying `chat`."""
    config = {
        "sources": [{"path": str(log), "format": "vsftpd"}],
        "notify": {"targets": [{"url": chat.apprise_url()}]},
    }
    return new_daemon(started, tmp_path, config)


def on_tmpfs(daemon: Daemon, options: str = "size=2m") -> Path:
    """Starts `daemon` with a tmpfs of its own (mount `options`) as its state directory;
    returns that directory as it is inside the daemon's mount namespace."""
    state = Path(daemon.config["state_dir"])
    state.mkdir(mode=0o700)
    mount = TMPFS.replace("size=2m,", f"{options},")
    daemon.wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(state)]
    daemon.start()
    return state


def on_small_tmpfs(
    started: list[Daemon], tmp_path: Path, log: Path, chat: HttpReceiver
) -> tuple[Daemon, Path]:
    """A daemon whose state directory is a 2 MiB tmpfs of its own; the directory as the
    test sees it (through /proc/<pid>/root)."""
    daemon = chat_daemon(started, tmp_path, log, chat)
    state = on_tmpfs(daemon)
    seen = Path(f"/proc/{daemon.pid}/root") / state.relative_to("/")
    assert (seen / "sentinel.db").exists() and not (state / "sentinel.db").exists()
    return daemon, seen


def test_full_disk_still_notifies_the_incident(
    tmp_path: Path, daemons: list[Daemon], chat: HttpReceiver
) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon, state = on_small_tmpfs(daemons, tmp_path, log, chat)
    fill(state / "filler")
    attack(log, "203.0.113.31")
    daemon.wait_metric("sentinel_alerts_total", 1, rule="brute_force", severity="warning")
    assert daemon.metric("sentinel_state_store_errors_total") > 0
    # the store cannot take the alert: people must still hear of it
    [posted] = chat.wait_for(1, timeout=10)
    assert "203.0.113.31" in posted.json()["title"]
    assert daemon.stop() == 0


def test_full_disk_is_reported_and_storing_resumes_when_space_returns(
    tmp_path: Path, daemons: list[Daemon], chat: HttpReceiver
) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon, state = on_small_tmpfs(daemons, tmp_path, log, chat)
    filler = state / "filler"
    fill(filler)
    attack(log, "203.0.113.41")
    daemon.wait_metric("sentinel_alerts_total", 1, rule="brute_force", severity="warning")
    wait_until("a store error", lambda: daemon.metric("sentinel_state_store_errors_total") > 0)
    wait_until("the error logged", lambda: "state store" in daemon.stderr())
    assert "database or disk is full" in daemon.stderr()
    assert daemon.alive()

    filler.unlink()
    errors = daemon.metric("sentinel_state_store_errors_total")
    attack(log, "203.0.113.42")
    daemon.wait_metric("sentinel_alerts_total", 2, rule="brute_force", severity="warning")
    wait_until(
        "the new alert notified",
        lambda: any("203.0.113.42" in r.json()["title"] for r in chat.received()),
    )
    inside = Path(daemon.config["state_dir"])
    ips = [a["ip"] for a in stored_alerts(tmp_path, inside, namespace_of=daemon.pid)]
    # the alert raised while the disk was full was notified then, and recorded now, once
    assert ips.count("203.0.113.41") == 1 and ips.count("203.0.113.42") == 1
    titles = [r.json()["title"] for r in chat.received()]
    assert sum("203.0.113.41" in t for t in titles) == 1
    assert daemon.metric("sentinel_state_store_errors_total") == errors  # no new failure
    assert daemon.stop() == 0


def test_read_only_state_directory_still_notifies_and_recovers(
    tmp_path: Path, daemons: list[Daemon], chat: HttpReceiver
) -> None:
    """The state directory is on a read-only file system when the daemon starts (root
    ignores permission bits; a read-only mount stops it too). Detection and notification
    go on; once the file system is writable again, the store opens and records."""
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = chat_daemon(daemons, tmp_path, log, chat)
    inside = on_tmpfs(daemon, "ro,size=2m")
    assert daemon.metric("sentinel_state_store_errors_total") > 0
    assert "read-only file system" in daemon.stderr().lower()
    attack(log, "203.0.113.71")
    [posted] = chat.wait_for(1, timeout=10)
    assert "203.0.113.71" in posted.json()["title"]

    remount = ["nsenter", f"--target={daemon.pid}", "--mount", "mount", "-o", "remount,rw"]
    subprocess.run([*remount, str(inside)], check=True)
    attack(log, "203.0.113.72")
    wait_until("both notified", lambda: len(chat.received()) == 2)
    wait_until(
        "both recorded",
        lambda: (
            {"203.0.113.71", "203.0.113.72"}
            <= {a["ip"] for a in stored_alerts(tmp_path, inside, namespace_of=daemon.pid)}
        ),
    )
    assert daemon.alive()
    assert daemon.stop() == 0
    assert len(chat.received()) == 2  # nothing sent twice once the store came back


def test_state_store_deleted_while_running_is_recreated(
    tmp_path: Path, daemons: list[Daemon], chat: HttpReceiver
) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = chat_daemon(daemons, tmp_path, log, chat)
    daemon.start()
    state = Path(daemon.config["state_dir"])
    attack(log, "203.0.113.51")
    chat.wait_for(1)
    for name in ("sentinel.db", "sentinel.db-wal", "sentinel.db-shm"):
        (state / name).unlink(missing_ok=True)
    attack(log, "203.0.113.52")
    chat.wait_for(2)
    wait_until("the outbox empty", lambda: daemon.metric("sentinel_notification_queue") == 0)
    assert daemon.stop() == 0
    assert [a["ip"] for a in stored_alerts(tmp_path, state)] == ["203.0.113.52"]
    assert (state / "sentinel.db").stat().st_mode & 0o777 == 0o600
    assert len(chat.received()) == 2


def test_mail_server_down_then_up_gets_the_alert_once(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    mail = SmtpReceiver()  # not started yet: its port refuses connections
    config = {
        "sources": [{"path": str(log), "format": "vsftpd"}],
        "notify": {"targets": [{"url": mail.apprise_url()}]},
    }
    daemon = new_daemon(daemons, tmp_path, config)
    daemon.start()
    attack(log, "203.0.113.61")
    wait_until(
        "a failed delivery",
        lambda: daemon.metric("sentinel_notifications_total", result="failed") > 0,
    )
    assert daemon.metric("sentinel_notification_queue") == 1
    with mail:
        [message] = mail.wait_for(1, timeout=15)
        wait_until("the outbox empty", lambda: daemon.metric("sentinel_notification_queue") == 0)
        assert daemon.stop() == 0
        assert len(mail.messages()) == 1
    assert "203.0.113.61" in str(message["Subject"])


def delivered(chat: HttpReceiver, ips: list[str]) -> Counter[str]:
    """How many POSTs named each address."""
    titles = [r.json()["title"] for r in chat.received()]
    return Counter(ip for ip in ips for title in titles if ip in title)


def test_sigkill_with_a_full_outbox_delivers_everything_after_restart(
    tmp_path: Path, daemons: list[Daemon], chat: HttpReceiver
) -> None:
    """Phase 1: SIGKILL while every notification waits (target down): none lost, none twice.
    Phase 2: SIGKILL right as deliveries flow: none lost, at most one twice (the one sent
    whose acknowledgement the kill prevented: the at-least-once window)."""
    log = tmp_path / "vsftpd.log"
    log.touch()
    config = {
        "sources": [{"path": str(log), "format": "vsftpd"}],
        "notify": {"targets": [{"url": chat.apprise_url()}]},
    }
    daemon = new_daemon(daemons, tmp_path, config)
    first = [f"203.0.113.{70 + n}" for n in range(5)]
    counts = kill_with_full_outbox(daemon, chat, log, first, in_flight=False)
    assert sum(counts.values()) == len(first), counts
    second = [f"203.0.113.{80 + n}" for n in range(5)]
    counts = kill_with_full_outbox(daemon, chat, log, second, in_flight=True)
    assert sum(counts.values()) <= len(second) + 1, counts


def kill_with_full_outbox(
    daemon: Daemon, chat: HttpReceiver, log: Path, ips: list[str], *, in_flight: bool
) -> Counter[str]:
    """Target down, one alert per address queued, SIGKILL (once deliveries resumed if
    `in_flight`), restart: every address delivered; the POSTs per address."""
    chat.stop()
    daemon.start()
    for ip in ips:
        attack(log, ip)
    daemon.wait_metric("sentinel_notification_queue", len(ips), timeout=10)
    wait_until(
        "failed deliveries",
        lambda: daemon.metric("sentinel_notifications_total", result="failed") > 0,
    )
    if in_flight:
        chat.start()
        wait_until("a delivery", lambda: bool(delivered(chat, ips)), 15)
    daemon.kill()
    if not in_flight:
        chat.start()
    daemon.start()
    wait_until("all delivered", lambda: set(delivered(chat, ips)) == set(ips), 20)
    wait_until("the outbox empty", lambda: daemon.metric("sentinel_notification_queue") == 0)
    assert daemon.stop() == 0
    return delivered(chat, ips)


def test_a_notify_socket_nobody_reads_never_stalls_detection(
    tmp_path: Path, daemons: list[Daemon], chat: HttpReceiver
) -> None:
    """systemd busy (or a supervisor that never reads): the notify socket's queue fills
    up (net.unix.max_dgram_qlen datagrams); detection must go on regardless."""
    log = tmp_path / "vsftpd.log"
    log.touch()
    config = {
        "sources": [{"path": str(log), "format": "vsftpd"}],
        "notify": {"targets": [{"url": chat.apprise_url()}]},
    }
    daemon = new_daemon(daemons, tmp_path, config)
    daemon.env = {"WATCHDOG_USEC": "100000"}  # a ping every 50 ms: the queue fills in 1 s
    daemon.start()  # reads READY=1, then nothing more
    queue_length = int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())
    # How full the queue is cannot be seen without draining it (ss shows neither the count
    # nor the bytes of a datagram queue): wait for twice the pings it holds.
    time.sleep(2 * (queue_length + 1) * 0.05)
    attack(log, "203.0.113.91")
    [posted] = chat.wait_for(1, timeout=10)
    assert "203.0.113.91" in posted.json()["title"]
    assert daemon.stop() == 0
