"""`sentinel replay` on logs real servers wrote: every scripted incident exactly once.

The scenario (tests/realservers/scenario.py) played against real vsftpd, ProFTPD, Pure-FTPd
and OpenSSH produced the captured logs; each `<server>.expected.json` lists its incidents.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sentinel.config.model import Config
from sentinel.parsers import PARSERS, ParseContext, detect_format
from sentinel.pipeline import Pipeline
from tests.modules import modules_loaded
from tests.realservers import accounts, scenario
from tests.realservers.handle import RunningServer
from tests.realservers.proc import wait_for_line
from tests.realservers.proftpd import proftpd_syslog
from tests.realservers.vsftpd import vsftpd

SAMPLES = Path(__file__).parent / "samples"
CAPTURED = SAMPLES / "captured"
SCENARIO = SAMPLES / "scenario"


def replay(*files: Path, fmt: str = "auto", extra: tuple[str, ...] = ()) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "replay", "--json", "--format", fmt, *extra]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        check=True,
    )
    assert mozilla_free(done.stdout + done.stderr)
    return [json.loads(line) for line in done.stdout.splitlines()]


def mozilla_free(text: str) -> bool:
    """The anonymous "password" the servers logged never comes out of sentinel."""
    return accounts.ANON_PASSWORD not in text


def assert_incidents(alerts: list[dict[str, object]], expected: list[dict[str, str]]) -> None:
    """Each expected incident exactly once, nothing else."""
    remaining = list(alerts)
    for incident in expected:
        matches = [a for a in remaining if all(a.get(k) == v for k, v in incident.items())]
        assert len(matches) == 1, f"{incident}: {len(matches)} alerts in {alerts}"
        remaining.remove(matches[0])
    assert remaining == [], f"unexpected alerts: {remaining}"


def expected(server: str) -> list[dict[str, str]]:
    loaded: list[dict[str, str]] = json.loads((SCENARIO / f"{server}.expected.json").read_text())
    return loaded


FTP_ONLY_TRANSFERS = [  # what a transfer log alone shows: who fetched what
    {"rule": "anonymous_access", "ip": "127.0.0.9"},
    {"rule": "bulk_download", "user": "labsync", "ip": "127.0.0.4"},
]


@pytest.mark.parametrize(
    ("files", "server"),
    [
        (["scenario/vsftpd.log"], "vsftpd"),
        (["scenario/pureftpd.log"], "pureftpd"),
        (["scenario/openssh.log"], "openssh"),
        (["captured/vsftpd/vsftpd.log"], "vsftpd"),
        # vsftpd's dual log and its PAM lines describe the same acts: counted once
        (
            ["captured/vsftpd/vsftpd.log", "captured/vsftpd/xferlog", "captured/vsftpd/auth.log"],
            "vsftpd",
        ),
        (["captured/vsftpd/vsftpd.log", "captured/vsftpd/auth.rfc3339.log"], "vsftpd"),
        (["captured/proftpd/proftpd.log", "captured/proftpd/xferlog"], "proftpd"),
        (["captured/pureftpd/syslog.log"], "pureftpd"),
        (["captured/pureftpd/syslog.rfc3339.log", "captured/pureftpd/xferlog"], "pureftpd"),
        (["captured/openssh/auth.log"], "openssh"),
        (["captured/openssh/auth.rfc3339.log"], "openssh"),
        # ProFTPD's SystemLog with the auth.log of its PAM: each failure counted once
        (
            [
                "captured/proftpd-pam/proftpd.log",
                "captured/proftpd-pam/xferlog",
                "captured/proftpd-pam/auth.log",
            ],
            "proftpd",
        ),
    ],
)
def test_real_logs_give_each_incident_once(files: list[str], server: str) -> None:
    assert_incidents(replay(*(SAMPLES / f for f in files)), expected(server))


def test_proftpd_pam_lines_alone_give_the_brute_force() -> None:
    """An auth.log whose FTP lines are ProFTPD's PAM lines only, read with `--format auto`.

    ProFTPD never asks PAM about an account that does not exist (mod_auth.c `setup_env`
    looks it up first and tells only its own log): of the spraying, PAM saw 3 user names.
    """
    brute = {"rule": "brute_force", "user": "alice", "ip": "127.0.0.7"}
    for log in ("auth.log", "auth.rfc3339.log"):
        alerts = replay(CAPTURED / "proftpd-pam" / log)
        assert_incidents(alerts, [brute])
        # every PAM failure read: the 12 brute-force tries and 3 of the 6 sprayed names
        assert login_failures(CAPTURED / "proftpd-pam" / log) == (scenario.BRUTE[2] + 3, 0)


def login_failures(path: Path) -> tuple[int, int]:
    """(failed logins counted, lines set aside as the same attempt) of one file, auto format."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fmt = detect_format(lines)
    assert fmt is not None
    pipeline = Pipeline(Config(server_name="t", timezone=UTC))
    stats = pipeline.stats_for(fmt)
    ctx = ParseContext(fmt, UTC, datetime(2026, 12, 31, tzinfo=UTC))
    for line in lines:
        pipeline.process_raw(line.encode(), PARSERS[fmt], ctx, stats)
    return stats.logins.get(("failure", "false"), 0), stats.duplicates


@pytest.mark.parametrize(
    ("log", "counted", "paired"),
    [
        # vsftpd with syslog_enable=YES: PAM's line, then vsftpd's FAIL LOGIN, 3 times
        ("vsftpd-syslog/auth.log", 3, 3),
        # ProFTPD through syslog: 4 wrong passwords (PAM + ProFTPD each), no such user, root
        ("proftpd-syslog/auth.log", 6, 4),
        ("proftpd-syslog/auth.rfc3339.log", 6, 4),
    ],
)
def test_pam_and_daemon_lines_in_one_file_count_once(log: str, counted: int, paired: int) -> None:
    assert login_failures(CAPTURED / log) == (counted, paired)


@pytest.mark.parametrize("server", ["vsftpd", "proftpd", "pureftpd"])
def test_transfer_logs_alone(server: str) -> None:
    alerts = replay(CAPTURED / server / "xferlog")
    assert_incidents(alerts, FTP_ONLY_TRANSFERS)


def test_gzip_and_order_of_files(tmp_path: Path) -> None:
    source = CAPTURED / "vsftpd" / "vsftpd.log"
    lines = source.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    older = tmp_path / "vsftpd.log.1.gz"
    with gzip.open(older, "wb") as out:
        out.writelines(lines[:half])
    newer = tmp_path / "vsftpd.log"
    newer.write_bytes(b"".join(lines[half:]))
    assert_incidents(replay(older, newer), expected("vsftpd"))


def test_human_output_is_a_table(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "replay", str(SCENARIO / "vsftpd.log")],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = done.stdout.splitlines()
    assert rows[0].split() == ["LAST", "SEEN", "SEVERITY", "STATUS", "RULE", "SUMMARY"]
    assert len(rows) == 1 + len(expected("vsftpd"))
    # the final figures: the whole download, not the 101 files that crossed the threshold
    assert any(
        "CRITICAL  open    bulk_download" in row and "labsync downloaded 105 files" in row
        for row in rows
    )
    assert "165 lines" in done.stderr


def test_unknown_format_and_missing_file_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.log"
    junk.write_text("hello\nworld\n")
    for target in (junk, tmp_path / "missing.log"):
        done = subprocess.run(
            [sys.executable, "-m", "sentinel", "replay", str(target)],
            check=False,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1
        assert str(target) in done.stderr


def test_garbage_lines_are_counted_never_fatal(tmp_path: Path) -> None:
    log = tmp_path / "vsftpd.log"
    real = (SCENARIO / "vsftpd.log").read_bytes()
    garbage = b"\xff\xfe\x00 not a line\n" + b"x" * 200_000 + b"\n" + b"\x1b[2J\n"
    log.write_bytes(real[:2000].rsplit(b"\n", 1)[0] + b"\n" + garbage + real)
    alerts = replay(log, fmt="vsftpd")
    assert_incidents(alerts, expected("vsftpd"))


def test_live_vsftpd_then_replay_what_it_wrote(vsftpd_server: RunningServer) -> None:
    incidents = scenario.run(vsftpd_server)
    vsftpd_server.wait_idle()
    assert_incidents(replay(vsftpd_server.main_log_path), incidents)


def test_replay_imports_no_daemon_machinery() -> None:
    """Start-up counts in a replay: no notifier, no metrics, no watcher, no store."""
    loaded = modules_loaded("replay", "--json", str(SAMPLES / "vsftpd.log"))
    assert "sentinel.pipeline" in loaded
    assert not loaded & {"apprise", "prometheus_client", "watchdog", "sqlite3"}


@pytest.mark.servers
def test_live_vsftpd_through_syslog_counts_each_failure_once(tmp_path: Path) -> None:
    """vsftpd with syslog_enable=YES: PAM's line and vsftpd's own land in one file."""
    with vsftpd(tmp_path, "syslog_enable=YES\n") as server:
        assert not server.try_login("127.0.0.7", "alice", "wrong")
        assert not server.try_login("127.0.0.7", "mallory", "wrong")
        log = server.logs["auth.log"]
        wait_for_line(log, '[mallory] FAIL LOGIN: Client "127.0.0.7"')
    assert wait_for_line(log, "pam_unix(vsftpd:auth): authentication failure;")
    assert login_failures(log) == (2, 2)
    assert_incidents(replay(log), [])  # read as auth.log; two failures make no incident


@pytest.mark.servers
def test_live_proftpd_through_syslog_counts_each_attempt_once(tmp_path: Path) -> None:
    """ProFTPD without SystemLog: its lines beside PAM's; the root refusal is an attempt."""
    with proftpd_syslog(tmp_path, systemlog=False) as server:
        assert not server.try_login("127.0.0.7", "alice", "wrong")
        assert not server.try_login("127.0.0.7", "root", "wrong")
        log = server.logs["auth.log"]
        wait_for_line(log, "SECURITY VIOLATION: Root login attempted")
        wait_for_line(log, "USER alice (Login failed): Incorrect password")
    assert login_failures(log) == (2, 1)
