"""A fleet's incidents through the tracker: every rule's incidents grow by the events of the
key its feed counted them under (blocks, per-server accounts), and every record of an
incident that spans servers lists them all."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sentinel.alerts import Alert
from sentinel.config import parse_config
from sentinel.events import Direction, Event, Kind
from sentinel.pipeline import Pipeline
from tests.daemonproc import failed_login

MONDAY = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)  # within working hours
SUNDAY_NIGHT = datetime(2026, 11, 22, 23, 0, 0, tzinfo=UTC)
BLOCK = "2001:db8:5:6"  # one client's /64
ATTACKER = "198.51.100.7"


def event(second: float, kind: Kind, *, at: datetime = MONDAY, **fields: Any) -> Event:
    return Event(ts=at + timedelta(seconds=second), kind=kind, source="vsftpd", **fields)


def login(second: float, user: str, ip: str, server: str = "srv1", **fields: Any) -> Event:
    return event(second, Kind.LOGIN_SUCCESS, user=user, ip=ip, server=server, **fields)


def failure(second: float, user: str, ip: str, server: str = "srv1") -> Event:
    return event(second, Kind.LOGIN_FAILURE, user=user, ip=ip, server=server)


def download(second: float, n: int) -> Event:
    return event(
        second,
        Kind.TRANSFER,
        user="dave",
        ip="198.51.100.30",
        path=f"/export/file-{n}.csv",
        nbytes=10,
        direction=Direction.DOWNLOAD,
        server="srv1",
    )


def final_records(events: list[Event], rule: str, *, shared: bool = False) -> list[Alert]:
    config = parse_config(
        "server_name: central\n"
        f"fleet: {{servers: [srv1, srv2, srv3], shared_accounts: {str(shared).lower()}}}\n"
        "networks: {trusted: [10.0.0.0/8]}\nrules: {off_hours: {enabled: true}}\n",
        "sentinel.yaml",
    )
    pipeline = Pipeline(config)
    stats = pipeline.stats_for("vsftpd")
    for item in events:
        pipeline.process_event(item, stats)
    return [record for record in pipeline.finish() if record.rule == rule]


# rule: the events, and the count its one incident ends with (every event after the opening
# grew it: an `adds` that named another key than the feed's would leave the opening's count)
CASES: dict[str, tuple[list[Event], int]] = {
    "anonymous_access": (
        [login(n, "anonymous", "198.51.100.20", anonymous=True) for n in range(3)],
        3,
    ),
    "untrusted_network": ([login(n, "bob", f"{BLOCK}::{n + 1:x}") for n in range(3)], 3),
    "off_hours": ([login(n, "bob", "10.1.1.5", at=SUNDAY_NIGHT) for n in range(3)], 3),
    "shared_account": ([login(n, "carol", f"10.2.0.{n + 1}") for n in range(4)], 4),
    "password_spray": ([failure(n, f"user{n}", f"{BLOCK}::{n + 1:x}") for n in range(8)], 8),
    "brute_force": ([failure(n, "root", f"{BLOCK}::{n + 1:x}") for n in range(15)], 15),
    "bulk_download": ([download(n * 0.1, n) for n in range(105)], 105),
    "brute_force_success": (
        [failure(n, "erin", f"{BLOCK}::{n + 1:x}") for n in range(5)]
        + [login(10, "erin", f"{BLOCK}::99")]
        + [failure(20 + n, "erin", f"{BLOCK}::{n + 50:x}") for n in range(3)],
        8,  # the 5 failures before the success and the 3 after
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_every_rule_grows_its_fleet_incident(rule: str) -> None:
    events, count = CASES[rule]
    (record,) = final_records(events, rule)
    assert record.count == count
    assert record.server == "srv1" and record.servers is None


def test_an_ipv6_block_incident_lists_its_addresses_and_network_to_the_end() -> None:
    events = [failure(n, "root", f"{BLOCK}::{n + 1:x}") for n in range(15)]
    (record,) = final_records(events, "brute_force")
    assert record.details["network"] == f"{BLOCK}::/64"
    assert record.ips == tuple(f"{BLOCK}::{n + 1:x}" for n in range(15))
    assert record.ip is None and record.ips_total == 15


def test_accounts_of_two_servers_are_two_incidents_unless_shared() -> None:
    night = [
        login(n, "bob", "10.1.1.5", server=f"srv{n % 2 + 1}", at=SUNDAY_NIGHT) for n in range(4)
    ]
    apart = final_records(night, "off_hours")
    assert sorted((r.server, r.count, r.servers) for r in apart) == [
        ("srv1", 2, None),
        ("srv2", 2, None),
    ]
    (shared,) = final_records(night, "off_hours", shared=True)
    assert (shared.server, shared.count, shared.servers) == ("srv1", 4, ("srv1", "srv2"))
    assert shared.summary.startswith("bob logged in")


def test_a_spread_brute_force_closes_as_one_incident_of_every_server(tmp_path: Path) -> None:
    """4 failures on each of 3 servers, none over the threshold alone: one incident, opened
    before srv3 took part, whose closing record lists the 3 servers and counts all 12."""
    root = tmp_path / "remote"
    moments = {  # srv2 first, then srv1 (the 6th failure opens), then srv3, then the rest
        "srv2": [0, 1, 2, 40],
        "srv1": [10, 11, 12, 41],
        "srv3": [20, 21, 22, 23],
    }
    for server, seconds in moments.items():
        log = root / server / "vsftpd.log"
        log.parent.mkdir(mode=0o755, parents=True)
        lines = [failed_login(ATTACKER, MONDAY + timedelta(seconds=s)) for s in seconds]
        if server == "srv1":  # an hour later, one failure elsewhere: the log goes on
            lines.append(failed_login("198.51.100.99", MONDAY + timedelta(hours=1)))
        log.write_text("".join(line + "\n" for line in lines))
        log.chmod(0o644)
    config = tmp_path / "sentinel.yaml"
    config.write_text(
        json.dumps(
            {
                "server_name": "central",
                "timezone": "UTC",
                "fleet": {"servers": ["srv1", "srv2", "srv3"]},
                "sources": [{"path": f"{root}/{{server}}/vsftpd.log", "format": "vsftpd"}],
                "rules": {"brute_force": {"max_failures": 6}},
            }
        )
    )
    files = sorted(str(p) for p in root.glob("*/vsftpd.log"))

    def replay(*extra: str) -> list[dict[str, Any]]:
        command = [sys.executable, "-m", "sentinel", "replay", "--json", "-c", str(config)]
        done = subprocess.run(
            [*command, *extra, *files],
            capture_output=True,
            text=True,
            check=True,
        )
        records = [json.loads(line) for line in done.stdout.splitlines()]
        return [r for r in records if r["rule"] == "brute_force"]

    (closed,) = replay()
    assert closed["status"] == "closed" and closed["count"] == 12
    assert closed["servers"] == ["srv1", "srv2", "srv3"]
    assert closed["server"] == "srv2"  # whose event came first
    assert closed["ip"] == ATTACKER
    life = replay("--updates")
    assert [r["status"] for r in life] == ["open", "closed"]
    assert len({r["fingerprint"] for r in life}) == 1
    assert life[0]["count"] == 6 and "srv3" not in life[0]["servers"]
    assert life[-1] == closed


def test_a_guessed_account_is_per_server_unless_shared() -> None:
    guesses = [failure(n, "erin", f"198.51.100.{n + 1}") for n in range(5)]  # on srv1
    elsewhere = [*guesses, login(10, "erin", "198.51.100.50", server="srv2")]
    assert final_records(elsewhere, "brute_force_success") == []
    (shared,) = final_records(elsewhere, "brute_force_success", shared=True)
    assert shared.details["variant"] == "account" and shared.servers == ("srv1", "srv2")
    assert shared.server == "srv1"  # the guesses came first
    (same,) = final_records([*guesses, login(10, "erin", "198.51.100.50")], "brute_force_success")
    assert same.summary.startswith("erin logged in after 5 failed logins")
    assert same.server == "srv1" and same.servers is None
