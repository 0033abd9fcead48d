"""brute_force_success on logs real servers wrote: guesses then the right password, live.

sshd (paramiko) and vsftpd (ftplib) receive wrong passwords then the right one from
loopback addresses; `sentinel replay` of the captured log raises exactly one alert per
break-in, and none for a user who mistypes once and gets in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.realservers import accounts
from tests.realservers.handle import RunningServer
from tests.realservers.proc import wait_for_line

pytestmark = pytest.mark.servers

RULE = "brute_force_success"


def replay(*files: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "replay", "--json", *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for password in accounts.PASSWORDS.values():
        assert password not in done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def fail_in_parallel(server: RunningServer, attempts: list[tuple[str, str]]) -> None:
    """Wrong passwords, a few at a time (PAM delays each failure by about 2 s)."""
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        accepted = list(pool.map(lambda a: server.try_login(a[0], a[1], "wrong-pw"), attempts))
    assert not any(accepted), "a wrong password was accepted"


def mistype_then_login(server: RunningServer, source: str, user: str) -> None:
    assert not server.try_login(source, user, "typo")
    assert server.try_login(source, user, accounts.PASSWORDS[user])


def test_sshd_guesses_then_success_from_one_address(sshd_server: RunningServer) -> None:
    fail_in_parallel(sshd_server, [("127.0.0.7", "alice")] * 6)
    assert sshd_server.try_login("127.0.0.7", "alice", accounts.PASSWORDS["alice"])
    mistype_then_login(sshd_server, "127.0.0.3", "bob")
    log = sshd_server.logs["auth.log"]
    wait_for_line(log, "Failed password for alice from 127.0.0.7 port", count=6)
    wait_for_line(log, "Accepted password for alice from 127.0.0.7 port")
    wait_for_line(log, "Accepted password for bob from 127.0.0.3 port")

    [alert] = [a for a in replay(log) if a["rule"] == RULE]
    assert (alert["ip"], alert["user"], alert["severity"]) == ("127.0.0.7", "alice", "critical")
    details = alert["details"]
    assert isinstance(details, dict)
    assert (details["variant"], details["failures"]) == ("address", 6)
    assert details["users_tried"] == ["alice"]


def test_vsftpd_guesses_at_one_account_from_several_addresses(
    vsftpd_server: RunningServer,
) -> None:
    sources = [f"127.0.0.{n}" for n in range(11, 16)]
    fail_in_parallel(vsftpd_server, [(source, "alice") for source in sources])
    assert vsftpd_server.try_login("127.0.0.16", "alice", accounts.PASSWORDS["alice"])
    mistype_then_login(vsftpd_server, "127.0.0.3", "bob")
    log = vsftpd_server.logs["vsftpd.log"]
    wait_for_line(log, "[alice] FAIL LOGIN: Client", count=5)
    wait_for_line(log, '[alice] OK LOGIN: Client "127.0.0.16"')
    wait_for_line(log, '[bob] OK LOGIN: Client "127.0.0.3"')

    [alert] = [a for a in replay(log) if a["rule"] == RULE]
    assert (alert["ip"], alert["user"]) == ("127.0.0.16", "alice")
    details = alert["details"]
    assert isinstance(details, dict)
    assert (details["variant"], details["failures"]) == ("account", 5)
    assert sorted(details["failed_from"]) == sources


def test_a_typo_then_a_login_raises_nothing(sshd_server: RunningServer) -> None:
    mistype_then_login(sshd_server, "127.0.0.3", "bob")
    mistype_then_login(sshd_server, "127.0.0.2", "alice")
    log = sshd_server.logs["auth.log"]
    wait_for_line(log, "Accepted password for alice from 127.0.0.2 port")
    wait_for_line(log, "Failed password for bob from 127.0.0.3 port")
    assert replay(log) == []
