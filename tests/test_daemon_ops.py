"""Operating `sentinel run`: systemd watchdog, silent sources, JSON logs, TLS metrics."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemonproc import Sentinel
from tests.receivers import HttpReceiver


@pytest.fixture
def cleanup() -> Iterator[list[Sentinel]]:
    started: list[Sentinel] = []
    yield started
    for daemon in started:
        daemon.close()


def test_watchdog_pings_when_systemd_asks(tmp_path: Path, cleanup: list[Sentinel]) -> None:
    daemon = Sentinel(tmp_path, {}, env={"WATCHDOG_USEC": "400000"})
    cleanup.append(daemon)
    daemon.start()
    for _ in range(3):  # pinged every 0.2 s: three in a row arrive well within 5 s
        daemon.wait_notify("WATCHDOG=1", timeout=5)
    assert daemon.stop() == 0


def test_silent_and_vanished_sources(tmp_path: Path, cleanup: list[Sentinel]) -> None:
    quiet, gone = tmp_path / "quiet.log", tmp_path / "gone.log"
    quiet.touch()
    gone.touch()
    with HttpReceiver() as receiver:
        daemon = Sentinel(
            tmp_path,
            {
                "sources": [
                    {"path": str(quiet), "format": "vsftpd", "name": "quiet"},
                    {"path": str(gone), "format": "openssh", "name": "gone"},
                ],
                "rules": {"source_silent": {"after": "3s"}},
                "notify": {"targets": [{"url": receiver.apprise_url()}]},
            },
        )
        cleanup.append(daemon)
        daemon.start()
        gone.unlink()
        posted = receiver.wait_for(2, timeout=20)
        titles = sorted(p.json()["title"] for p in posted)
        assert daemon.stop() == 0
    assert len(titles) == 2
    assert "source_silent" in titles[0] and "source_silent" in titles[1]
    assert any("gone" in t and "vanished" in t for t in titles)
    assert any("quiet" in t and "logged nothing" in t for t in titles)


def test_json_log_lines(tmp_path: Path, cleanup: list[Sentinel]) -> None:
    daemon = Sentinel(tmp_path, {}, options=("--log-format", "json"))
    cleanup.append(daemon)
    daemon.start()
    assert daemon.stop() == 0
    records = [json.loads(line) for line in daemon.stderr().splitlines()]
    assert {"ts", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"] == "sentinel stopped" for r in records)


def test_metrics_over_tls_with_basic_auth(tmp_path: Path, cleanup: list[Sentinel]) -> None:
    cert, key = tmp_path / "metrics.crt", tmp_path / "metrics.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    password = "correct horse battery staple"
    digest = hashlib.sha256(password.encode()).hexdigest()
    daemon = Sentinel(tmp_path, {})
    daemon.config["metrics"].update(
        {"tls_cert": str(cert), "tls_key": str(key), "basic_auth": {"prom": f"sha256:{digest}"}}
    )
    daemon.write_config(daemon.config)
    cleanup.append(daemon)
    daemon.start()
    context = ssl.create_default_context(cafile=str(cert))
    url = f"https://127.0.0.1:{daemon.port}/metrics"

    def get(user: str, secret: str) -> int:
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
        try:
            with urllib.request.urlopen(request, context=context, timeout=5) as response:  # noqa: S310 (https to loopback)
                assert b"sentinel_build_info" in response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    assert get("prom", password) == 200
    assert get("prom", "wrong") == 401
    with pytest.raises(OSError):  # plain HTTP to a TLS port
        urllib.request.urlopen(f"http://127.0.0.1:{daemon.port}/metrics", timeout=5)
    with socket.create_connection(("127.0.0.1", daemon.port)):  # a client that never speaks
        assert get("prom", password) == 200  # does not hold up the next scrape
    assert daemon.stop() == 0
