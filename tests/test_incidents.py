"""Incidents over their whole life: the extent replay reports on the captured logs, the
records the tracker makes (open, update, closed), its caps, and what the store routes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sentinel.alerts import Alert
from sentinel.config.model import Config, NotifyConfig, NotifyTarget
from sentinel.events import Direction, Event, Kind
from sentinel.extent import CAP
from sentinel.incidents import IncidentTracker
from sentinel.pipeline import Pipeline
from sentinel.rules.registry import build_log_rules
from sentinel.sinks.store import Store
from tests.realservers import accounts, scenario

SAMPLES = Path(__file__).parent / "samples"
T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
BULK_BYTES = 625  # the 105 export files of tests/realservers/accounts.py, as the logs show

# What the scenario did (tests/realservers/scenario.py), as each log shows it whole.
ANONYMOUS = {"ip": scenario.ANON, "count": 2, "files_total": 1, "bytes": 20}
BULK = {
    "user": scenario.BULK[0],
    "ip": scenario.BULK[1],
    "count": accounts.BULK_FILES,
    "files_total": accounts.BULK_FILES,
    "bytes": BULK_BYTES,
}
SHARED = {"user": scenario.SHARED[0], "ips": list(scenario.SHARED[1]), "count": 2}
BRUTE = {"user": scenario.BRUTE[0], "ip": scenario.BRUTE[1], "count": scenario.BRUTE[2]}
SPRAY = {"ip": scenario.SPRAY[0], "count": len(scenario.SPRAY[1]), "users_total": 6}
LOGINS = {"shared_account": SHARED, "brute_force": BRUTE, "password_spray": SPRAY}
EVERYTHING = {"anonymous_access": ANONYMOUS, "bulk_download": BULK, **LOGINS}


def replay(*files: Path, extra: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "replay", "--json", *extra, *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert accounts.ANON_PASSWORD not in done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize(
    ("files", "incidents"),
    [
        (["scenario/vsftpd.log"], EVERYTHING),
        (["scenario/pureftpd.log"], EVERYTHING),
        (["scenario/openssh.log"], {"bulk_download": BULK, **LOGINS}),
        # ProFTPD logs its transfers in its xferlog only
        (["scenario/proftpd.log"], {"anonymous_access": {"ip": scenario.ANON}, **LOGINS}),
        (["captured/proftpd/proftpd.log", "captured/proftpd/xferlog"], EVERYTHING),
    ],
)
def test_replay_reports_each_incident_once_with_its_whole_extent(
    files: list[str], incidents: dict[str, dict[str, Any]]
) -> None:
    records = replay(*(SAMPLES / f for f in files))
    assert sorted(r["rule"] for r in records) == sorted(incidents)  # one record each
    for record in records:
        want = incidents[record["rule"]]
        assert {k: record.get(k) for k in want} == want, record
        # the log ends within the window: each goes on, with its figures so far
        assert record["status"] == "open"
    [bulk] = [r for r in records if r["rule"] == "bulk_download"] or [None]
    if bulk is not None:
        assert len(bulk["files"]) == CAP
        assert bulk["files"][0].endswith("export/rec000.csv")
        assert str(accounts.BULK_FILES) in bulk["summary"]


def test_replay_updates_shows_what_the_daemon_would_have_sent() -> None:
    records = replay(SAMPLES / "scenario" / "vsftpd.log", extra=("--updates",))
    anonymous = [r for r in records if r["rule"] == "anonymous_access"]
    assert [r["status"] for r in anonymous] == ["open", "update", "open"]
    opened, grown, final = anonymous
    assert final["count"] == 2
    assert "files" not in opened and opened["count"] == 1
    assert grown["files"] == ["/pub/welcome.txt"] and grown["details"]["change"] == "kind"
    assert {r["fingerprint"] for r in anonymous} == {opened["fingerprint"]}
    assert {r["first_seen"] for r in anonymous} == {opened["first_seen"]}
    bulk = [r for r in records if r["rule"] == "bulk_download"]
    assert [(r["status"], r["count"]) for r in bulk] == [("open", 101), ("open", 105)]


# -- the tracker, fed through the pipeline ---------------------------------------------


def config() -> Config:
    return Config(server_name="ftp-test", timezone=UTC)


def event(second: float, kind: Kind, **fields: Any) -> Event:
    return Event(ts=T0 + timedelta(seconds=second), kind=kind, source="vsftpd", **fields)


def fetch(second: float, n: int, user: str = "labsync", size: int = 100, **fields: Any) -> Event:
    return event(
        second,
        Kind.TRANSFER,
        user=user,
        ip=fields.pop("ip", "10.1.1.4"),
        path=f"/out/{n}.csv",
        nbytes=size,
        direction=Direction.DOWNLOAD,
        **fields,
    )


def feed(pipeline: Pipeline, events: list[Event]) -> list[Alert]:
    stats = pipeline.stats_for("vsftpd")
    records: list[Alert] = []
    for item in events:
        records += pipeline.process_event(item, stats)
    return records


def test_a_bulk_download_updates_at_ten_times_its_threshold_and_closes_after_its_window() -> None:
    pipeline = Pipeline(config())
    records = feed(pipeline, [fetch(n * 0.1, n) for n in range(1_500)])
    assert [(r.status, r.count) for r in records] == [("open", 101), ("update", 1000)]
    assert records[1].details["change"] == "size"
    # 10 min without a download of it, by event time: closed at the next expiry
    later = feed(pipeline, [event(2_000, Kind.LOGIN_SUCCESS, user="bob", ip="10.1.1.9")])
    [closed] = later
    assert (closed.status, closed.count, closed.files_total, closed.nbytes) == (
        "closed",
        1_500,
        1_500,
        150_000,
    )
    assert closed.files is not None and len(closed.files) == CAP
    assert closed.first_seen == T0 and closed.last_seen == T0 + timedelta(seconds=149.9)
    assert pipeline.incidents.open_counts()["bulk_download"] == 0
    assert pipeline.alert_counts == {("bulk_download", "critical"): 1}  # opened once


def test_addresses_and_users_are_capped_with_their_exact_totals() -> None:
    pipeline = Pipeline(config())
    failures = [
        event(n * 0.01, Kind.LOGIN_FAILURE, user=f"user{n}", ip="203.0.113.5") for n in range(300)
    ]
    feed(pipeline, failures)
    [spray, brute] = sorted(pipeline.finish(), key=lambda r: r.rule, reverse=True)
    assert (spray.rule, spray.count, spray.users_total) == ("password_spray", 300, 300)
    assert spray.users is not None and len(spray.users) == CAP
    assert (brute.rule, brute.count, brute.users_total) == ("brute_force", 300, 300)
    pipeline = Pipeline(config())
    logins = [
        event(n, Kind.LOGIN_SUCCESS, user="biolab", ip=f"10.2.{n // 250}.{n % 250}")
        for n in range(150)
    ]
    records = feed(pipeline, logins)
    assert [r.status for r in records] == ["open"] + ["update"] * 148  # each address it gains
    [final] = pipeline.finish()
    assert (final.count, final.ips_total) == (150, 150)
    assert final.ips is not None and len(final.ips) == CAP


def test_a_quiet_live_log_closes_its_incidents_by_the_wall_clock() -> None:
    wall = [1_000.0]
    pipeline = Pipeline(config(), clock=lambda: wall[0])
    opened = feed(
        pipeline, [event(0, Kind.LOGIN_SUCCESS, user="anonymous", ip="10.9.9.9", anonymous=True)]
    )
    assert [r.status for r in opened] == ["open"]
    wall[0] += 3_600  # the window (1 h) and a little more
    assert pipeline.close_idle(wall[0]) == []
    wall[0] += 3
    [closed] = pipeline.close_idle(wall[0])
    assert (closed.status, closed.fingerprint) == ("closed", opened[0].fingerprint)


def test_open_incidents_survive_a_dump_and_load() -> None:
    first = Pipeline(config())
    feed(first, [fetch(n * 0.1, n) for n in range(120)])
    saved = json.loads(json.dumps(first.incidents.dump()))
    second = Pipeline(config())
    second.load_state(json.loads(json.dumps(first.dump_state())))
    second.incidents.load(saved)
    records = feed(second, [fetch(12 + n * 0.1, 120 + n) for n in range(30)])
    assert records == []  # no new incident: the same one grows
    [final] = second.finish()
    assert (final.count, final.files_total, final.nbytes) == (150, 150, 15_000)
    assert final.first_seen == T0


def test_every_log_rule_takes_part_in_the_incident_contract() -> None:
    """The tracker needs the same few things of every rule (rules/base.py's contract)."""
    trusted = "networks: {trusted: [10.0.0.0/8]}\nrules: {off_hours: {enabled: true}}\n"
    from sentinel.config import parse_config

    rules = build_log_rules(parse_config(trusted, Path("sentinel.yaml")))
    assert {rule.name for rule in rules} == {
        "anonymous_access", "bulk_download", "brute_force", "brute_force_success",
        "password_spray", "shared_account", "untrusted_network", "off_hours",
    }  # fmt: skip
    tracker = IncidentTracker(rules)
    for rule in rules:
        assert rule.counts in ("events", "users", "ips")
        assert rule.keyed_by and set(rule.keyed_by) <= {"ip", "user"}
        assert rule.window > 0
    assert tracker.open_counts() == dict.fromkeys(tracker.tables, 0)


# -- what the store sends, and to whom --------------------------------------------------


def test_routing_statuses_and_cooldown(tmp_path: Path) -> None:
    pager = NotifyTarget("json://pager.example.org/hook")
    mail = NotifyTarget("mailto://ops:pw@mail.example.org")
    only_closed = NotifyTarget("json://archive.example.org/hook", statuses=frozenset({"closed"}))
    store = Store(tmp_path, NotifyConfig(targets=(pager, mail, only_closed)))
    pipeline = Pipeline(config())
    opening = feed(
        pipeline, [event(0, Kind.LOGIN_SUCCESS, user="anonymous", ip="10.9.9.9", anonymous=True)]
    )
    assert store.commit_batch({}, opening) == 2  # pager and mail
    grown = feed(
        pipeline,
        [
            event(
                1,
                Kind.TRANSFER,
                user="anonymous",
                ip="10.9.9.9",
                anonymous=True,
                path="/pub/a.csv",
                nbytes=5,
                direction=Direction.DOWNLOAD,
            )
        ],
    )
    assert [r.details.get("change") for r in grown] == ["kind"]
    assert store.commit_batch({}, grown) == 2  # an escalation in kind passes the cooldown
    size_update = dataclasses.replace(grown[0], details={"change": "size"})
    assert store.commit_batch({}, [size_update]) == 0  # one in size waits for the cooldown
    [closed] = pipeline.finish()  # the log ended: still open, then closed by hand
    closed = dataclasses.replace(closed, status="closed")
    assert store.commit_batch({}, [closed]) == 2  # mail and the archive, at once
    [incident] = store.list_incidents()
    assert (incident["status"], incident["files"]) == ("closed", ["/pub/a.csv"])
    assert [r["status"] for r in store.list_alerts()] == ["open", "update", "update", "closed"]
    store.close()


def test_alert_fields_keep_the_order_positional_constructors_rely_on() -> None:
    """make_alert, Alert.with_status and the tracker's records build an Alert positionally
    (23 keywords cost as much again as the alert): a field added, moved or renamed must be
    seen to them."""
    assert [field.name for field in dataclasses.fields(Alert)] == [
        "rule", "severity", "summary", "fingerprint", "first_seen", "last_seen", "server",
        "source", "user", "ip", "ips", "path", "count", "nbytes", "details", "status",
        "ips_total", "users", "users_total", "files", "files_total", "subject", "servers",
    ]  # fmt: skip


# Logins that open (and some that grow) off_hours and untrusted_network incidents, in the
# forms their alerts take: named or not, with or without an address, IPv4 or IPv6 (one
# address, or several of one /64 block), names that need neutralising or cutting, the same
# user again within the window, one event standing for several (a repeat notice).
OPENING_FORMS = [
    event(0, Kind.LOGIN_SUCCESS, user="bob", ip="198.51.100.7"),
    event(1, Kind.LOGIN_SUCCESS, user=None, ip="198.51.100.8"),
    event(2, Kind.LOGIN_SUCCESS, user="carol", ip=None),
    event(3, Kind.LOGIN_SUCCESS, user="dave", ip="2001:db8:1:2::7"),
    event(4, Kind.LOGIN_SUCCESS, user="erin", ip="2001:db8:9:9::1"),
    event(5, Kind.LOGIN_SUCCESS, user="erin", ip="2001:db8:9:9::2"),
    event(6, Kind.LOGIN_SUCCESS, user="eve\x1b[2J\r\nroot", ip="198.51.100.9"),
    event(7, Kind.LOGIN_SUCCESS, user="x" * 500, ip="198.51.100.10"),
    event(8, Kind.LOGIN_SUCCESS, user="bob", ip="198.51.100.11"),
    event(9, Kind.LOGIN_SUCCESS, user="frank", ip="203.0.113.5", times=3),
    event(4000, Kind.LOGIN_SUCCESS, user="grace", ip="203.0.113.6"),
    event(9000, Kind.LOGIN_SUCCESS, user="bob", ip="198.51.100.7"),
]


@pytest.mark.parametrize("progress", [False, True])
def test_an_incident_that_never_grew_closes_with_the_records_of_the_long_way(
    progress: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tracker closes an incident of a rule that `opens_as_record`, never grown, with its
    opening alert (`Alert.with_status`): the records are those it makes from the incident's
    extent otherwise, and fewer extents are made."""
    from sentinel import incidents
    from sentinel.config import parse_config

    made = {"extents": 0}
    opening_extent = incidents._opening_extent

    def counted(*args: Any) -> Any:
        made["extents"] += 1
        return opening_extent(*args)

    monkeypatch.setattr(incidents, "_opening_extent", counted)
    text = (
        "networks: {trusted: [10.0.0.0/8]}\n"
        "rules: {off_hours: {enabled: true, hours: 07:00-07:01}}\n"  # every login is off
    )
    runs, extents = [], []
    for short in (True, False):
        made["extents"] = 0
        pipeline = Pipeline(parse_config(text, "sentinel.yaml"), progress=progress)
        assert pipeline.incidents.opening_records == {"off_hours", "untrusted_network"}
        if not short:
            pipeline.incidents.opening_records = frozenset()  # every record the long way
        records = feed(pipeline, OPENING_FORMS) + pipeline.finish()
        runs.append([(r.to_dict(), r.subject) for r in records])
        extents.append(made["extents"])
    short_way, long_way = runs
    rules = {record["rule"] for record, _ in long_way}
    assert {"off_hours", "untrusted_network"} <= rules
    assert short_way == long_way
    # 10 incidents of each of the two rules and 2 of shared_account, each closed or still
    # open at the end; with --updates, each also opened
    assert len(long_way) == (44 if progress else 22)
    assert extents[0] < extents[1]  # the short way was taken
