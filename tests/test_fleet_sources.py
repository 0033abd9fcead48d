"""`sentinel run` on a pattern source: a file per server, each with its own position,
new files followed as they appear, vanished ones reported per server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemonproc import Sentinel, failed_login
from tests.realservers.proc import wait_until
from tests.receivers import HttpReceiver


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as http:
        yield http


def server_log(root: Path, server: str) -> Path:
    root.mkdir(mode=0o755, exist_ok=True)
    log = root / server / "vsftpd.log"
    log.parent.mkdir(mode=0o755, exist_ok=True)
    log.touch(mode=0o644)
    return log


def append(log: Path, lines: list[str]) -> None:
    with log.open("a") as out:
        out.writelines(line + "\n" for line in lines)


def history(daemon: Sentinel) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "alerts", "--json", "-c", str(daemon.config_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_files_of_a_pattern_each_resume_where_they_stopped(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    root = tmp_path / "remote"
    logs = {name: server_log(root, name) for name in ("srv1", "srv2")}
    append(logs["srv1"], [failed_login("198.51.100.1")] * 3)
    append(logs["srv2"], [failed_login("198.51.100.2")] * 5)
    workdir = tmp_path / "sentinel"
    workdir.mkdir(mode=0o700)
    config = {
        "fleet": {"servers": ["srv1", "srv2", "srv3"]},
        "sources": [{"path": f"{root}/{{server}}/vsftpd.log", "format": "vsftpd"}],
        "rules": {"brute_force": {"max_failures": 6}},
        "notify": {"targets": [{"url": receiver.apprise_url()}]},
    }
    daemon = Sentinel(workdir, config)
    try:
        daemon.start()
        for server, count in (("srv1", 3), ("srv2", 5)):
            daemon.wait_metric("sentinel_log_lines_total", count, source="vsftpd", server=server)
        assert daemon.stop() == 0
        append(logs["srv1"], [failed_login("198.51.100.1")])
        daemon.start()
        # only the line written while it was down is read again, from srv1's own position
        daemon.wait_metric("sentinel_log_lines_total", 1, source="vsftpd", server="srv1")
        assert daemon.metric("sentinel_log_lines_total", source="vsftpd", server="srv2") == 0
        # a server that appears later is followed from its first line
        append(server_log(root, "srv3"), [failed_login("198.51.100.1")] * 2)
        (notice,) = receiver.wait_for(1, timeout=10)  # 4 on srv1 and 2 on srv3: 6
        assert "brute_force on srv1" in notice.json()["title"]  # its first event's server
        daemon.wait_metric("sentinel_log_lines_total", 2, source="vsftpd", server="srv3")
    finally:
        assert daemon.stop() == 0
    (alert,) = history(daemon)
    assert alert["servers"] == ["srv1", "srv3"] and alert["ip"] == "198.51.100.1"


def test_a_vanished_servers_log_is_reported_naming_it(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    root = tmp_path / "remote"
    logs = [server_log(root, name) for name in ("srv1", "srv2")]
    workdir = tmp_path / "sentinel"
    workdir.mkdir(mode=0o700)
    config = {
        "sources": [{"path": f"{root}/{{server}}/vsftpd.log", "format": "vsftpd"}],
        "rules": {"source_silent": {"after": "1s"}},
        "notify": {"targets": [{"url": receiver.apprise_url()}]},
    }
    daemon = Sentinel(workdir, config)
    try:
        daemon.start()
        logs[1].unlink()
        logs[1].parent.rmdir()

        def vanished() -> list[dict[str, Any]]:
            return [a for a in history(daemon) if a["details"].get("vanished")]

        wait_until("srv2 reported vanished", lambda: len(vanished()) == 1, timeout=20)
    finally:
        assert daemon.stop() == 0
    (alert,) = vanished()
    assert alert["rule"] == "source_silent" and alert["server"] == "srv2"
    assert "srv2" in alert["summary"]
