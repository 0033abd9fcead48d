"""The journal source against real journal files written by systemd-journal-remote."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from sentinel.sources.journal import JournalLine, JournalSource, entry_to_line

REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "0123456789abcdef0123456789abcdef"
# Messages as OpenSSH 9.2 writes them (same text as tests/samples/captured/openssh).
MESSAGES = [
    "Failed password for alice from 127.0.0.7 port 40022 ssh2",
    "Accepted password for alice from 127.0.0.2 port 40024 ssh2",
    "Failed password for invalid user mallory from 127.0.0.8 port 40026 ssh2",
]


def write_entries(journal: Path, entries: list[tuple[int, str, str]]) -> None:
    """Appends (epoch seconds, unit, message) entries to a real journal file."""
    export = []
    for i, (second, unit, message) in enumerate(entries):
        export.append(
            f"__CURSOR=c{i}\n__REALTIME_TIMESTAMP={second * 1_000_000}\n"
            f"__MONOTONIC_TIMESTAMP={second}\n_BOOT_ID={BOOT}\nMESSAGE={message}\n"
            f"SYSLOG_IDENTIFIER=sshd\n_PID={4000 + i}\n_SYSTEMD_UNIT={unit}\n_HOSTNAME=ftp1\n\n"
        )
    subprocess.run(
        [REMOTE, f"--output={journal}", "-"],
        input="".join(export).encode(),
        check=True,
        capture_output=True,
    )


def collect(source: JournalSource, count: int, timeout: float = 10.0) -> list[JournalLine]:
    got: list[JournalLine] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got.extend(source.read_batch())
        if source.wake is not None:
            source.wake.wait(0.1)
            source.wake.clear()
    return got


def test_entry_becomes_the_syslog_line_rsyslog_would_write() -> None:
    line = entry_to_line(
        {
            "__REALTIME_TIMESTAMP": "1763900000123456",
            "_HOSTNAME": "ftp1",
            "SYSLOG_IDENTIFIER": "sshd",
            "_PID": "4242",
            "MESSAGE": MESSAGES[0],
        }
    )
    assert line == (b"2025-11-23T12:13:20.123456+00:00 ftp1 sshd[4242]: " + MESSAGES[0].encode())
    assert entry_to_line({"MESSAGE": [102, 255, 10, 111]}) is not None
    assert entry_to_line({"__REALTIME_TIMESTAMP": "1"}) is None


def test_follows_a_unit_and_resumes_after_its_cursor(tmp_path: Path) -> None:
    journal = tmp_path / "system.journal"
    write_entries(
        journal,
        [(1763900000, "ssh.service", MESSAGES[0]), (1763900001, "cron.service", "CRON ran")],
    )
    wake = threading.Event()
    source = JournalSource("ssh.service", None, since="2000-01-01", files=[journal], wake=wake)
    source.start()
    try:
        first = collect(source, 1)
        write_entries(journal, [(1763900002, "ssh.service", MESSAGES[1])])
        second = collect(source, 1)
    finally:
        source.stop()
    assert [j.line.split(b": ", 1)[1].decode() for j in first + second] == MESSAGES[:2]
    cursor = source.cursor
    assert cursor is not None and cursor == second[-1].cursor

    write_entries(journal, [(1763900003, "ssh.service", MESSAGES[2])])
    resumed = JournalSource("ssh.service", cursor, files=[journal], wake=threading.Event())
    resumed.start()
    try:
        after = collect(resumed, 1)
        assert not collect(resumed, 1, timeout=0.5)  # nothing read twice
    finally:
        resumed.stop()
    assert [j.line.split(b": ", 1)[1].decode() for j in after] == [MESSAGES[2]]


def test_missing_journalctl_is_reported_not_raised(tmp_path: Path) -> None:
    source = JournalSource("ssh.service", None, files=[tmp_path / "none.journal"])
    source.command[0] = str(tmp_path / "no-such-journalctl")
    source.start()
    source.stop()
    assert source.error is not None and "journalctl" in source.error
