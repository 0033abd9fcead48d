"""`sentinel run` end to end: live servers, real notification endpoints, signals, crashes."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.daemonproc import Sentinel, download, failed_login
from tests.realservers import accounts, scenario
from tests.realservers.handle import RunningServer
from tests.realservers.proc import wait_until
from tests.receivers import Alertmanager, HttpReceiver, SmtpReceiver

Factory = Callable[[dict[str, Any]], Sentinel]


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[Factory]:
    started: list[Sentinel] = []

    def make(config: dict[str, Any]) -> Sentinel:
        workdir = tmp_path / f"sentinel{len(started)}"
        workdir.mkdir()
        daemon = Sentinel(workdir, config)
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        daemon.close()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as http:
        yield http


def logrotate(log: Path) -> None:
    """What logrotate does by default: shift log.N to log.N+1, rename log to log.1, create."""
    numbered = sorted(
        (int(p.name.rsplit(".", 1)[1]), p)
        for p in log.parent.glob(log.name + ".*")
        if p.name.rsplit(".", 1)[1].isdigit()
    )
    for number, path in reversed(numbered):
        path.rename(log.with_name(f"{log.name}.{number + 1}"))
    log.rename(log.with_name(log.name + ".1"))
    log.touch()


def append(log: Path, lines: list[str]) -> None:
    with log.open("a") as out:
        out.writelines(line + "\n" for line in lines)


def fields(posted: Any) -> dict[str, Any]:
    """The alert record an Apprise JSON notification carries, from its `key: value` body."""
    record: dict[str, Any] = {}
    for line in posted.json()["message"].splitlines()[2:]:
        key, _, value = line.partition(": ")
        try:
            record[key] = json.loads(value)
        except ValueError:
            record[key] = value
    return record


def test_anonymous_session_on_live_vsftpd_opens_grows_and_closes(
    tmp_path: Path, vsftpd_server: RunningServer, sentinel: Factory, receiver: HttpReceiver
) -> None:
    """The login is notified within 2 s, the first download within 2 s as an update naming
    the file, the end after the window with the final figures; Alertmanager resolves it."""
    with Alertmanager(tmp_path) as manager:
        daemon = sentinel(
            {
                "sources": [{"path": str(vsftpd_server.main_log_path), "format": "vsftpd"}],
                "rules": {"anonymous_access": {"window": "3s"}},
                "notify": {
                    "targets": [
                        {"url": receiver.apprise_url(), "statuses": ["open", "update", "closed"]},
                        {"url": manager.url},
                    ]
                },
            }
        )
        daemon.start()
        with vsftpd_server.ftp(scenario.ANON, "anonymous") as anon:
            logged_in = time.monotonic()
            receiver.wait_for(1, timeout=2.0)
            login_latency = time.monotonic() - logged_in
            began = time.monotonic()
            anon.download(accounts.ANON_FILE)
            receiver.wait_for(2, timeout=2.0)
            download_latency = time.monotonic() - began
            assert daemon.metric("sentinel_incidents_open", rule="anonymous_access") == 1
            path = "/" + accounts.ANON_FILE
            manager.wait_for(
                lambda found: any(path in a["annotations"]["summary"] for a in found), timeout=5
            )
        assert login_latency < 2.0
        assert download_latency < 2.0
        opened, grown = (fields(posted) for posted in receiver.received()[:2])
        assert (opened["status"], opened["rule"], opened["ip"]) == (
            "open",
            "anonymous_access",
            scenario.ANON,
        )
        assert "files" not in opened
        assert (grown["status"], grown["files"], grown["files_total"]) == ("update", [path], 1)
        assert grown["details"]["change"] == "kind"
        assert path in grown["summary"]
        vsftpd_server.wait_idle()
        receiver.wait_for(3, timeout=15)
        closed = fields(receiver.received()[2])
        size = (accounts.ANON_ROOT / accounts.ANON_FILE).stat().st_size
        assert closed["status"] == "closed"
        assert (closed["count"], closed["bytes"], closed["files"]) == (2, size, [path])
        assert closed["fingerprint"] == opened["fingerprint"]
        assert closed["first_seen"] == opened["first_seen"]
        # resolved: endsAt passed, Alertmanager no longer lists it among the active alerts
        manager.wait_for(
            lambda found: not any(a["labels"]["rule"] == "anonymous_access" for a in found),
            timeout=10,
        )
        for posted in receiver.received():
            assert accounts.ANON_PASSWORD not in posted.body.decode()
        labels = {"source": "vsftpd", "result": "success", "anonymous": "true"}
        assert daemon.metric("sentinel_logins_total", **labels) == 1
        labels = {"rule": "anonymous_access", "severity": "critical"}
        assert daemon.metric("sentinel_alerts_total", **labels) == 1
        assert daemon.metric("sentinel_incidents_open", rule="anonymous_access") == 0
        assert daemon.metric(
            "sentinel_transfer_bytes_total", source="vsftpd", direction="download"
        ) == (size)
        assert daemon.stop() == 0
        assert len(receiver.received()) == 3
        [incident] = [r for r in history(daemon) if r["rule"] == "anonymous_access"]
        assert (incident["status"], incident["files_total"]) == ("closed", 1)


def test_sigkill_in_the_middle_of_a_bulk_download_leaves_one_incident(
    vsftpd_server: RunningServer, sentinel: Factory, receiver: HttpReceiver
) -> None:
    """labsync downloads 105 files; sentinel is killed after the incident opened and
    restarted while the download goes on: one incident, whose final record counts all."""
    user, source = scenario.BULK
    daemon = sentinel(
        {
            "sources": [{"path": str(vsftpd_server.main_log_path), "format": "vsftpd"}],
            "rules": {"bulk_download": {"window": "4s", "max_files": 20}},
            "notify": {
                "targets": [{"url": receiver.apprise_url(), "statuses": ["open", "closed"]}]
            },
        }
    )
    daemon.start()
    names = [f"export/rec{i:03d}.csv" for i in range(accounts.BULK_FILES)]
    with vsftpd_server.ftp(source, user) as client:
        for name in names[:40]:
            client.download(name)
        receiver.wait_for(1, timeout=5)
        # delivered and acknowledged before the kill: a notification sent but not yet marked
        # done is sent again after a crash, by design (at least once)
        daemon.wait_metric("sentinel_notification_queue", 0)
        daemon.kill()
        for name in names[40:]:
            client.download(name)
        daemon.start()
    vsftpd_server.wait_idle()
    receiver.wait_for(2, timeout=20)
    records = [fields(posted) for posted in receiver.received()]
    assert [r["status"] for r in records] == ["open", "closed"]
    final = records[1]
    size = sum((accounts.home(user) / name).stat().st_size for name in names)
    assert (final["count"], final["files_total"], final["bytes"]) == (len(names), len(names), size)
    assert final["fingerprint"] == records[0]["fingerprint"]
    assert daemon.stop() == 0
    [incident] = [r for r in history(daemon) if r["rule"] == "bulk_download"]
    assert (incident["status"], incident["count"], incident["bytes"]) == ("closed", 105, size)
    assert len(incident["files"]) == 100  # the cap; files_total counts them all
    assert incident["files"][0].endswith("export/rec000.csv")


def history(daemon: Sentinel) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "alerts", "--json", "-c", str(daemon.config_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_rotations_and_sigkill_lose_no_line_and_repeat_no_alert(
    tmp_path: Path, sentinel: Factory, receiver: HttpReceiver
) -> None:
    """Incidents sit exactly at the threshold (10 failures) or one below (9): a line lost
    hides the first kind, a line read twice turns the second kind into an alert."""
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = sentinel(
        {
            "sources": [{"path": str(log), "format": "vsftpd"}],
            "notify": {"targets": [{"url": receiver.apprise_url()}]},
        }
    )
    daemon.start()
    base = datetime.now().astimezone()
    lines = [  # even hosts fail 10 times (an alert each), odd hosts 9 times (none)
        failed_login(f"198.51.100.{host}", base + timedelta(seconds=attempt))
        for attempt in range(10)
        for host in range(12)
        if attempt < 9 or host % 2 == 0
    ]
    chunks = [lines[i : i + 10] for i in range(0, len(lines), 10)]
    written = 0
    for number, chunk in enumerate(chunks):
        append(log, chunk)
        written += len(chunk)
        if number % 3 == 2:  # while sentinel may be mid-file
            logrotate(log)
        if number == 5:  # SIGKILL mid-incident, then a rotation while down
            daemon.wait_metric("sentinel_log_lines_total", written, source="vsftpd")
            daemon.kill()
            logrotate(log)
            daemon.start()
    expected = sorted(f"198.51.100.{host}" for host in range(0, 12, 2))
    receiver.wait_for(len(expected), timeout=30)  # a restart under load: awaited, not slept
    wait_until("outbox empty", lambda: daemon.metric("sentinel_notification_queue") == 0)
    assert daemon.metric("sentinel_log_rotations_total", source="vsftpd") >= 2
    assert daemon.stop() == 0
    assert sorted(a["ip"] for a in history(daemon)) == expected
    titles = [r.json()["title"] for r in receiver.received()]
    assert sorted(next(ip for ip in expected if ip in t) for t in titles) == expected


def brute_force(log: Path, ip: str) -> None:
    base = datetime.now().astimezone()
    append(log, [failed_login(ip, base + timedelta(seconds=i)) for i in range(10)])


def test_unreachable_receiver_delays_never_loses(
    tmp_path: Path, sentinel: Factory, receiver: HttpReceiver
) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    receiver.stop()
    daemon = sentinel(
        {
            "sources": [{"path": str(log), "format": "vsftpd"}],
            "notify": {"targets": [{"url": receiver.apprise_url()}]},
        }
    )
    daemon.start()
    for host in range(3):
        brute_force(log, f"192.0.2.{host}")
    daemon.wait_metric("sentinel_alerts_total", 3, rule="brute_force", severity="warning")
    wait_until(
        "a failed attempt",
        lambda: daemon.metric("sentinel_notifications_total", result="failed") > 0,
    )
    assert daemon.metric("sentinel_notification_queue") == 3
    assert daemon.stop() == 0  # the outbox outlives the process
    daemon.start()
    receiver.start()  # same port
    receiver.wait_for(3, timeout=30)
    wait_until("outbox empty", lambda: daemon.metric("sentinel_notification_queue") == 0, 30)
    assert daemon.stop() == 0
    titles = sorted(r.json()["title"] for r in receiver.received())
    assert len(titles) == 3
    assert all(f"192.0.2.{host}" in t for host, t in enumerate(titles))


def test_sighup_reloads_and_refuses_a_broken_file(tmp_path: Path, sentinel: Factory) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = sentinel({"sources": [{"path": str(log), "format": "vsftpd"}]})
    daemon.start()
    good = daemon.config_path.read_text()
    daemon.config_path.write_text(good + "rules: {brute_force: {max_failures: ten}}\n")
    daemon.signal(signal.SIGHUP)
    assert "refused" in daemon.wait_notify("STATUS=reload refused")
    brute_force(log, "192.0.2.50")  # the old configuration still runs
    daemon.wait_metric("sentinel_alerts_total", 1, rule="brute_force", severity="warning")
    assert "max_failures" in daemon.stderr()

    daemon.config_path.write_text(good + "rules: {brute_force: {max_failures: 3}}\n")
    daemon.signal(signal.SIGHUP)
    daemon.wait_notify("READY=1")
    base = datetime.now().astimezone()
    append(log, [failed_login("192.0.2.51", base + timedelta(seconds=i)) for i in range(3)])
    daemon.wait_metric("sentinel_alerts_total", 2, rule="brute_force", severity="warning")
    assert daemon.stop() == 0


def test_alertmanager_and_mail_receive_the_alert(tmp_path: Path, sentinel: Factory) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    manager = Alertmanager(tmp_path)
    manager.start()
    try:
        with SmtpReceiver() as mail:
            daemon = sentinel(
                {
                    "sources": [{"path": str(log), "format": "vsftpd"}],
                    "notify": {
                        "targets": [
                            {"url": manager.url, "min_severity": "warning"},
                            {"url": mail.apprise_url(), "min_severity": "warning"},
                        ]
                    },
                }
            )
            daemon.start()
            brute_force(log, "192.0.2.77")
            [message] = mail.wait_for(1)
            assert "brute_force" in str(message["Subject"])
            alerts = manager.wait_for(
                lambda found: any(a["labels"].get("alertname") == "brute_force" for a in found)
            )
            [alert] = [a for a in alerts if a["labels"]["alertname"] == "brute_force"]
            assert alert["labels"]["server"] == "ftp-test"
            assert "192.0.2.77" in alert["annotations"]["summary"]
            assert daemon.stop() == 0
    finally:
        manager.stop()


def test_upload_through_live_vsftpd_is_inspected_within_seconds(
    vsftpd_server: RunningServer, sentinel: Factory, receiver: HttpReceiver
) -> None:
    from tests.test_files_inspect import make_nir, spaced

    rng = random.Random(2021)
    outgoing = accounts.home("alice") / f"outgoing-{uuid.uuid4().hex[:8]}"
    outgoing.mkdir()
    shutil.chown(outgoing, "alice")
    try:
        daemon = sentinel(
            {
                "sources": [{"path": str(vsftpd_server.main_log_path), "format": "vsftpd"}],
                "directories": [{"path": str(outgoing), "inspect": True, "max_age": "7d"}],
                "notify": {"targets": [{"url": receiver.apprise_url()}]},
            }
        )
        daemon.start()
        nirs = [make_nir(rng) for _ in range(5)]
        export = "".join(f"DUPONT;Jean;{spaced(n)};glycemie 5.4\n" for n in nirs).encode()
        with vsftpd_server.session(scenario.BENIGN["alice"], "alice") as alice:
            began = time.monotonic()
            alice.upload(f"{outgoing.name}/results.csv", export)
        [posted] = receiver.wait_for(1, timeout=15)
        elapsed = time.monotonic() - began
        body = posted.body.decode()
        assert "unencrypted_personal_data" in posted.json()["title"]
        assert "results.csv" in body
        for nir in nirs:
            assert nir not in body and spaced(nir) not in body
        assert elapsed < 10, elapsed
        labels = {"rule": "unencrypted_personal_data", "severity": "critical"}
        assert daemon.metric("sentinel_alerts_total", **labels) == 1
        assert daemon.stop() == 0
        assert all(nir not in daemon.stderr() for nir in nirs)
    finally:
        shutil.rmtree(outgoing)


def test_a_dozen_rotations_under_load_and_a_sigkill_exactly_once(
    tmp_path: Path, sentinel: Factory, receiver: HttpReceiver
) -> None:
    """~6,000 lines written at a few thousand per second, 12 rotations, one SIGKILL at a
    random point: the at-threshold incidents alert once each, the one-below ones never."""
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = sentinel(
        {
            "sources": [{"path": str(log), "format": "vsftpd"}],
            "notify": {"targets": [{"url": receiver.apprise_url()}]},
        }
    )
    daemon.start()
    rng = random.Random(1789)
    base = datetime.now().astimezone()
    hosts = [f"198.51.100.{h}" for h in range(40)]  # even: 10 failures, odd: 9
    failures = [
        (h, failed_login(ip, base + timedelta(seconds=attempt)))
        for attempt in range(10)
        for h, ip in enumerate(hosts)
        if attempt < 9 or h % 2 == 0
    ]
    lines = [line for _, line in failures]
    for n in range(5600):  # benign downloads around them, 14 hosts, 400 files each
        lines.append(download(f"203.0.113.{n % 14}", n, base + timedelta(seconds=n // 600)))
    rng.shuffle(lines)  # the order of attempts does not matter to the window of 10 min
    chunks = [lines[i : i + 200] for i in range(0, len(lines), 200)]
    rotate_after = set(rng.sample(range(1, len(chunks) - 1), 12))
    kill_after = rng.choice(sorted(rotate_after))
    began = time.monotonic()
    for number, chunk in enumerate(chunks):
        append(log, chunk)
        if number in rotate_after:
            logrotate(log)
        if number == kill_after:
            daemon.kill()
            daemon.start()
    rate = len(lines) / (time.monotonic() - began)
    expected = sorted(hosts[0::2])
    receiver.wait_for(len(expected), timeout=30)
    wait_until("outbox empty", lambda: daemon.metric("sentinel_notification_queue") == 0, 30)
    assert daemon.stop() == 0
    alerted = sorted(a["ip"] for a in history(daemon) if a["rule"] == "brute_force")
    assert alerted == expected, f"{len(lines)} lines at {rate:.0f}/s"
    titles = [r.json()["title"] for r in receiver.received() if "brute_force" in r.json()["title"]]
    assert len(titles) == len(expected)
