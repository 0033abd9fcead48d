"""Smoke tests of the real-server harness: each server starts, a client works, lines appear."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.realservers import accounts, scenario
from tests.realservers.handle import RunningServer
from tests.realservers.proc import wait_for_line
from tests.realservers.servers import STARTERS

pytestmark = pytest.mark.servers

SAMPLES = Path(__file__).parent / "samples"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d ")
TRADITIONAL = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")


def _download_report(server: RunningServer) -> None:
    with server.session("127.0.0.2", "alice") as alice:
        assert alice.download(accounts.DOCS[0]).startswith(b"quarterly report 1")


def test_vsftpd_logs_login_transfer_and_pam_failure(vsftpd_server: RunningServer) -> None:
    _download_report(vsftpd_server)
    assert not vsftpd_server.try_login("127.0.0.7", "alice", "wrong")
    logs = vsftpd_server.logs
    wait_for_line(logs["vsftpd.log"], '[alice] OK LOGIN: Client "127.0.0.2"')
    wait_for_line(logs["xferlog"], f"127.0.0.2 380 {accounts.home('alice')}/report-1.txt b _ o r")
    pam = "pam_unix(vsftpd:auth): authentication failure;"
    assert "rhost=127.0.0.7" in wait_for_line(logs["auth.log"], pam)
    assert TRADITIONAL.match(wait_for_line(logs["auth.log"], pam))
    assert RFC3339.match(wait_for_line(logs["auth.rfc3339.log"], pam))


def test_proftpd_logs_login_to_systemlog_and_transfer_to_xferlog(
    proftpd_server: RunningServer,
) -> None:
    _download_report(proftpd_server)
    logs = proftpd_server.logs
    wait_for_line(logs["proftpd.log"], "(127.0.0.2[127.0.0.2]): USER alice: Login successful.")
    wait_for_line(logs["xferlog"], f"127.0.0.2 380 {accounts.home('alice')}/report-1.txt b _ o r")


def test_pureftpd_logs_through_private_syslog(pureftpd_server: RunningServer) -> None:
    _download_report(pureftpd_server)
    logs = pureftpd_server.logs
    line = wait_for_line(logs["syslog.log"], "(?@127.0.0.2) [INFO] alice is now logged in")
    assert TRADITIONAL.match(line)
    assert RFC3339.match(wait_for_line(logs["syslog.rfc3339.log"], "alice is now logged in"))
    wait_for_line(logs["xferlog"], f"127.0.0.2 380 {accounts.home('alice')}/report-1.txt")


def test_sshd_logs_login_and_internal_sftp_transfer(sshd_server: RunningServer) -> None:
    _download_report(sshd_server)
    log = sshd_server.logs["auth.log"]
    wait_for_line(log, "Accepted password for alice from 127.0.0.2 port")
    wait_for_line(log, "internal-sftp[", timeout=1)
    wait_for_line(log, 'close "report-1.txt" bytes read 380 written 0')


def test_sshd_logs_invalid_user_failure(sshd_server: RunningServer) -> None:
    assert not sshd_server.try_login("127.0.0.8", accounts.MISSING_USERS[0], "x")
    line = wait_for_line(sshd_server.logs["auth.log"], "Invalid user mallory from 127.0.0.8")
    assert "sshd[" in line


@pytest.mark.parametrize("kind", sorted(STARTERS))
def test_captured_samples_match_the_scenario(kind: str) -> None:
    protocol = "sftp" if kind == "openssh" else "ftp"
    expected = json.loads((SAMPLES / "scenario" / f"{kind}.expected.json").read_text())
    assert expected == scenario.expected_incidents(protocol)
    main = (SAMPLES / "scenario" / f"{kind}.log").read_bytes()
    captured = {p.name: p.read_bytes() for p in (SAMPLES / "captured" / kind).iterdir()}
    assert main in captured.values()
    assert all(captured.values()), f"an empty capture in {kind}"
