"""A fleet from one place: real rsyslogd senders forward to a real central rsyslogd, which
writes one file per host; one sentinel follows them all (`{server}` in the source's path).

Senders srv1..srv3 each run a real vsftpd logging through syslog; srv4 joins while sentinel
runs. sshd lines from IPv6 clients (which loopback cannot give) are written to a sender's
socket as syslog(3) would, in the form OpenSSH 9.2 wrote them in
tests/samples/captured/openssh/auth.log (`Failed password for USER from IP port N ssh2`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.daemonproc import Sentinel
from tests.realservers import scenario
from tests.realservers.fleetlog import AUTHPRIV, Central, Sender, central, sender, vsftpd_via
from tests.realservers.handle import RunningServer
from tests.realservers.proc import wait_until
from tests.receivers import HttpReceiver

ATTACKER = "127.0.0.7"  # fails 4 times on each of srv1..srv3: 12 failures, no server over 10
BLOCK = "2001:db8:1:2"  # 20 addresses of this /64 fail once each


def sentinel_config(root: Path, receiver: HttpReceiver, **fleet: Any) -> dict[str, Any]:
    return {
        "server_name": "central",
        "fleet": {"servers": ["srv1", "srv2", "srv3", "srv4"], **fleet},
        "sources": [{"path": f"{root}/{{server}}/auth.log", "format": "openssh", "name": "fleet"}],
        "rules": {"source_silent": {"after": "1h"}},
        "notify": {"cooldown": "0s", "targets": [{"url": receiver.apprise_url()}]},
    }


def run_json(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", *args], capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def incidents(records: list[dict[str, Any]]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    """What makes an incident the same one: rule, fingerprint, server(s)."""
    return {
        (r["rule"], r["fingerprint"], r["server"], tuple(r.get("servers", ())))
        for r in records
        if r["rule"] != "source_silent"
    }


def fail(server: RunningServer, times: int) -> None:
    for attempt in range(times):
        assert not server.try_login(ATTACKER, "alice", f"wrong-{attempt}")


class Fleet:
    """The central host and its senders, each with a vsftpd; `join` adds one."""

    def __init__(self, workdir: Path, stack: ExitStack) -> None:
        self.workdir = workdir
        self.stack = stack
        self.central: Central = stack.enter_context(central(workdir))
        self.senders: dict[str, Sender] = {}
        self.ftp: dict[str, RunningServer] = {}

    def join(self, host: str) -> RunningServer:
        where = self.workdir / host
        self.senders[host] = self.stack.enter_context(sender(where, host, self.central.port))
        self.ftp[host] = self.stack.enter_context(vsftpd_via(self.senders[host], where / "ftp"))
        return self.ftp[host]

    def lines(self, host: str, needle: str) -> int:
        path = self.central.file(host)
        return path.read_text().count(needle) if path.exists() else 0


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    with ExitStack() as stack:
        yield Fleet(tmp_path, stack)


def test_fleet_through_central_rsyslog(tmp_path: Path, fleet: Fleet) -> None:
    for host in ("srv1", "srv2", "srv3"):
        fleet.join(host)
    receiver = HttpReceiver()
    receiver.start()
    (tmp_path / "sentinel").mkdir(mode=0o700)
    daemon = Sentinel(tmp_path / "sentinel", sentinel_config(fleet.central.root, receiver))
    try:
        daemon.start()
        # the spread attack: 4 failures on each of three servers, at the same time
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(lambda h: fail(fleet.ftp[h], 4), ("srv1", "srv2", "srv3")))
        # alice works on two servers from two addresses: two people, two accounts
        for host, source in (("srv1", "127.0.0.2"), ("srv2", "127.0.0.3")):
            with fleet.ftp[host].session(source, "alice") as client:
                client.listing()
        for number in range(1, 21):
            fleet.senders["srv1"].log(
                AUTHPRIV,
                f"sshd[{4000 + number}]",
                f"Failed password for root from {BLOCK}::{number:x} port {40000 + number} ssh2",
            )
        (brute,) = [
            r.json() for r in receiver.wait_for(2, timeout=20) if "127.0.0.7" in r.json()["title"]
        ]
        assert "brute_force on srv" in brute["title"]

        # a fourth server joins while sentinel runs; its anonymous login alerts within 2 s
        new = fleet.join("srv4")
        before = len(receiver.received())
        with new.ftp(scenario.ANON, "anonymous") as anon:
            anon.listing()
            logged_in = time.monotonic()
        wait_until(
            "srv4's anonymous alert",
            lambda: any(
                "anonymous_access on srv4" in r.json()["title"] for r in receiver.received()
            ),
            timeout=10,
        )
        delay = time.monotonic() - logged_in
        assert delay < 2.0, f"the new server's alert took {delay:.2f} s"
        assert len(receiver.received()) == before + 1
        wait_until("every line read", lambda: fleet.lines("srv4", "OK LOGIN") == 1)
        wait_until(
            "outbox empty",
            lambda: (
                daemon.metric("sentinel_notification_queue") == 0
                and daemon.metric("sentinel_log_lines_total", source="fleet", server="srv4") >= 1
            ),
        )
        # counted per configured server; vsftpd's line and its PAM line are one failure
        failures = {"source": "fleet", "result": "failure", "anonymous": "false"}
        assert daemon.metric("sentinel_logins_total", server="srv2", **failures) == 4
        assert daemon.metric("sentinel_logins_total", server="srv1", **failures) == 4 + 20
    finally:
        assert daemon.stop() == 0
        receiver.stop()

    live = run_json("alerts", "--json", "-c", str(daemon.config_path))
    by_rule = {r["rule"]: r for r in live}
    assert sorted(r["rule"] for r in live) == ["anonymous_access", "brute_force", "brute_force"]
    spread = next(r for r in live if r["rule"] == "brute_force" and r.get("ip") == ATTACKER)
    assert spread["servers"] == ["srv1", "srv2", "srv3"]
    assert spread["count"] == 10
    block = next(r for r in live if r["rule"] == "brute_force" and r is not spread)
    assert block["details"]["network"] == f"{BLOCK}::/64"
    assert block["server"] == "srv1" and "servers" not in block
    assert block["ips"][:3] == [f"{BLOCK}::1", f"{BLOCK}::2", f"{BLOCK}::3"]
    assert f"{BLOCK}::/64" in block["summary"]
    assert by_rule["anonymous_access"]["server"] == "srv4"
    assert "shared_account" not in by_rule

    # replay of the per-host files: the same incidents
    files = sorted(str(p) for p in fleet.central.root.glob("*/auth.log"))
    assert len(files) == 4
    replayed = run_json("replay", "--json", "-c", str(daemon.config_path), *files)
    assert incidents(replayed) == incidents(live)

    # with one account base for the fleet, alice on two servers from two addresses is shared
    shared = tmp_path / "shared.yaml"
    config = sentinel_config(fleet.central.root, receiver, shared_accounts=True)
    shared.write_text(json.dumps(config))
    found = run_json("replay", "--json", "-c", str(shared), *files)
    (account,) = [r for r in found if r["rule"] == "shared_account"]
    assert account["user"] == "alice" and account["servers"] == ["srv1", "srv2"]
    assert sorted(account["ips"]) == ["127.0.0.2", "127.0.0.3"]
