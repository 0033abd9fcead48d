"""The Alertmanager API v2 client against Debian's prometheus-alertmanager on loopback."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sentinel.alerts import Severity
from sentinel.config.model import NotifyConfig, NotifyTarget
from sentinel.sinks.alertmanager import AlertmanagerSender, api_endpoint, to_postable
from sentinel.sinks.notify import DeliveryError
from sentinel.sinks.outbox import Backoff, Deliverer
from sentinel.sinks.store import Store
from tests.realservers.proc import free_port, wait_until
from tests.receivers import Alertmanager, HttpReceiver, sample_alert


def test_endpoint_from_target_url() -> None:
    assert api_endpoint("alertmanager://127.0.0.1:9093") == (
        "http://127.0.0.1:9093/api/v2/alerts",
        {"Content-Type": "application/json"},
    )
    url, headers = api_endpoint("alertmanagers://bot:p%40ss@am.example.org/prefix/")
    assert url == "https://am.example.org/prefix/api/v2/alerts"
    assert base64.b64decode(headers["Authorization"].split()[1]) == b"bot:p@ss"
    with pytest.raises(ValueError, match="alertmanager://"):
        api_endpoint("http://127.0.0.1:9093")


def test_postable_alert_shape() -> None:
    record = sample_alert().to_dict()
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    posted = to_postable(record, now, timedelta(hours=1))
    assert posted["labels"] == {
        "alertname": "bulk_download",
        "rule": "bulk_download",
        "severity": "critical",
        "server": "ftp-exchange-01",
        "fingerprint": record["fingerprint"],
        "source": "vsftpd",
    }
    assert "user" not in posted["labels"] and "ip" not in posted["labels"]
    assert json.loads(posted["annotations"]["description"]) == record
    assert posted["startsAt"] == "2026-11-22T10:03:46Z"
    assert posted["endsAt"] == "2026-11-22T13:00:00Z"
    closed = dict(record, status="closed")
    assert to_postable(closed, now, timedelta(hours=1))["endsAt"] == "2026-11-22T12:00:00Z"


def test_an_incident_fires_grows_and_resolves_in_alertmanager(tmp_path: Path) -> None:
    """Same labels for every record: one alert, whose annotations the update replaces and
    which the closing record resolves (it leaves the active alerts)."""
    with Alertmanager(tmp_path) as am:
        target = NotifyTarget(am.url, kind="alertmanager")
        sender = AlertmanagerSender()
        opened = sample_alert(at=datetime.now(UTC) - timedelta(minutes=1))
        sender.send(target, opened.to_dict())
        (first,) = am.wait_for(lambda found: len(found) == 1)
        assert first["annotations"]["status"] == "open"
        grown = dataclasses.replace(
            opened, status="update", count=1200, summary="labsync downloaded 1200 files"
        )
        sender.send(target, grown.to_dict())
        (second,) = am.wait_for(
            lambda found: len(found) == 1 and found[0]["annotations"]["status"] == "update"
        )
        assert second["fingerprint"] == first["fingerprint"]  # Alertmanager's own: one alert
        assert second["annotations"]["summary"] == "labsync downloaded 1200 files"
        assert json.loads(second["annotations"]["description"])["count"] == 1200
        assert second["status"]["state"] == "active"
        sender.send(target, dataclasses.replace(grown, status="closed").to_dict())
        assert am.wait_for(lambda found: found == []) == []


def test_alert_reaches_alertmanager_through_the_outbox(tmp_path: Path) -> None:
    with Alertmanager(tmp_path) as am:
        target = NotifyTarget(am.url, Severity.WARNING, kind="alertmanager")
        notify = NotifyConfig(targets=(target,))
        store = Store(tmp_path / "state", notify)
        alert = sample_alert(at=datetime.now(UTC) - timedelta(minutes=1))
        assert store.commit_batch({}, [alert]) == 1
        worker = Deliverer(tmp_path / "state", notify, backoff=Backoff(0.05, 0.2), poll=0.05)
        worker.start()
        try:
            alerts = am.wait_for(lambda found: len(found) == 1)
            wait_until("acknowledged", lambda: worker.sent == 1 and store.outbox_size() == 0)
        finally:
            worker.stop(5)
        (got,) = alerts
        assert got["labels"]["alertname"] == "bulk_download"
        assert got["labels"]["fingerprint"] == alert.fingerprint
        assert got["annotations"]["summary"] == alert.summary
        assert json.loads(got["annotations"]["description"])["user"] == "labsync"
        assert got["status"]["state"] == "active"
        store.close()


def test_failures_are_delivery_errors(tmp_path: Path) -> None:
    record = sample_alert().to_dict()
    nobody = NotifyTarget(f"alertmanager://127.0.0.1:{free_port()}", kind="alertmanager")
    with pytest.raises(DeliveryError, match="cannot reach Alertmanager"):
        AlertmanagerSender(timeout=2).send(nobody, record)
    with HttpReceiver() as web:
        web.status = 400
        refusing = NotifyTarget(f"alertmanager://127.0.0.1:{web.port}", kind="alertmanager")
        with pytest.raises(DeliveryError, match="HTTP 400"):
            AlertmanagerSender(timeout=2).send(refusing, record)
    with Alertmanager(tmp_path) as am:
        offset = dict(record, first_seen="2026-11-22T10:03:46+01:00")
        AlertmanagerSender().send(NotifyTarget(am.url, kind="alertmanager"), offset)
        (got,) = am.wait_for(lambda found: len(found) == 1)
        assert got["startsAt"].startswith("2026-11-22T09:03:46")
