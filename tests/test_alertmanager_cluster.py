"""Posting to an Alertmanager cluster: every peer gets each alert, the cluster notifies once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sentinel.alerts import Severity
from sentinel.config.model import NotifyTarget
from sentinel.config.urls import classify
from sentinel.sinks.alertmanager import AlertmanagerSender
from tests.amcluster import Cluster
from tests.realservers.proc import wait_until
from tests.receivers import HttpReceiver, sample_alert


def test_cluster_url_names_every_peer() -> None:
    assert classify("alertmanager://127.0.0.1:9093,127.0.0.1:9094/am") == "alertmanager"


def test_every_peer_gets_the_alert_and_the_cluster_notifies_once(tmp_path: Path) -> None:
    with HttpReceiver() as hook, Cluster(tmp_path, f"http://127.0.0.1:{hook.port}/am") as cluster:
        target = NotifyTarget(cluster.url, Severity.WARNING, kind="alertmanager")
        alert = sample_alert(at=datetime.now(UTC) - timedelta(minutes=1))
        AlertmanagerSender(timeout=5).send(target, alert.to_dict())
        for peer in cluster.peers:
            (got,) = peer.wait_for(lambda found: len(found) == 1)
            assert got["labels"]["fingerprint"] == alert.fingerprint
        (notice,) = hook.wait_for(1, timeout=15)
        # the second peer waits its position times peer_timeout (2 s), then sees the
        # first one's notification in the gossiped log and sends nothing
        peers = len(cluster.peers)
        deadline = datetime.now(UTC) + timedelta(seconds=2 * peers + 3)
        wait_until(
            "the other peers' turn",
            lambda: datetime.now(UTC) >= deadline or len(hook.received()) > 1,
            timeout=2 * peers + 5,
        )
        assert len(hook.received()) == 1
        body = notice.json()
        assert [a["labels"]["fingerprint"] for a in body["alerts"]] == [alert.fingerprint]


def test_a_dead_peer_does_not_fail_the_delivery(tmp_path: Path) -> None:
    with HttpReceiver() as hook, Cluster(tmp_path, f"http://127.0.0.1:{hook.port}/am") as cluster:
        cluster.peers[0].kill()
        target = NotifyTarget(cluster.url, Severity.WARNING, kind="alertmanager")
        alert = sample_alert(at=datetime.now(UTC) - timedelta(minutes=1))
        AlertmanagerSender(timeout=5).send(target, alert.to_dict())
        (got,) = cluster.peers[1].wait_for(lambda found: len(found) == 1)
        assert json.loads(got["annotations"]["description"])["fingerprint"] == alert.fingerprint
        (notice,) = hook.wait_for(1, timeout=20)
        assert notice.json()["alerts"][0]["labels"]["rule"] == alert.rule
