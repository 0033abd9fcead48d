"""Delivery through Apprise to real receivers: the outbox worker, retries, restarts, give-up,
and the test-alert and alerts commands."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sentinel.alerts import Severity
from sentinel.cli import main as cli
from sentinel.config.model import NotifyConfig, NotifyTarget
from sentinel.sinks.notify import AppriseSender, DeliveryError, format_body, format_title
from sentinel.sinks.outbox import Backoff, Deliverer
from sentinel.sinks.store import Store
from tests.realservers.proc import free_port, wait_until
from tests.receivers import HttpReceiver, SmtpReceiver, sample_alert

FAST = Backoff(base=0.05, cap=0.2)


@contextmanager
def running(deliverer: Deliverer) -> Iterator[Deliverer]:
    deliverer.start()
    try:
        yield deliverer
    finally:
        deliverer.stop(timeout=5)


def deliverer(state: Path, notify: NotifyConfig, **kwargs: object) -> Deliverer:
    return Deliverer(state, notify, backoff=FAST, poll=0.05, **kwargs)  # type: ignore[arg-type]


def test_title_and_body_are_neutral() -> None:
    record = sample_alert("eve\x1b[2J\r\nroot", summary="x\u202ey <b>z</b>").to_dict()
    record["details"] = {"note": "line1\nline2\x07"}
    title, body = format_title(record), format_body(record)
    assert title.startswith("[CRITICAL] bulk_download on ftp-exchange-01: x")
    assert "\n" not in title and len(title) <= 160
    for text in (title, body):
        assert not any(ord(c) < 32 and c != "\n" for c in text)
        assert "\u202e" not in text and "\x1b" not in text
    assert "details: " in body and '"note"' in body


def test_delivers_to_json_and_smtp(tmp_path: Path) -> None:
    with HttpReceiver() as web, SmtpReceiver() as smtp:
        notify = NotifyConfig(
            targets=(NotifyTarget(web.apprise_url()), NotifyTarget(smtp.apprise_url()))
        )
        store = Store(tmp_path, notify)
        assert store.commit_batch({}, [sample_alert(summary="a <script>x</script> b")]) == 2
        with running(deliverer(tmp_path, notify)) as worker:
            (post,) = web.wait_for(1)
            (mail,) = smtp.wait_for(1)
            wait_until("outbox empty", lambda: store.outbox_size() == 0)
        assert worker.sent == 2 and worker.failed == 0
        payload = post.json()
        assert payload["title"].startswith("[CRITICAL] bulk_download on ftp-exchange-01")
        assert "fingerprint: " + sample_alert().fingerprint in payload["message"]
        assert payload["type"] == "failure"
        assert str(mail["Subject"]).startswith("[CRITICAL] bulk_download")
        assert "<script>" not in str(mail.get_body(("html",)) or "")
        store.close()


def test_html_mail_escapes_the_alert(tmp_path: Path) -> None:
    with SmtpReceiver() as smtp:
        record = sample_alert(summary="a <script>x</script> b").to_dict()
        AppriseSender().send(NotifyTarget(smtp.apprise_url() + "&format=html"), record)
        (mail,) = smtp.wait_for(1)
        html = mail.get_body(("html",))
        assert html is not None
        content = html.get_content()
        assert "&lt;script&gt;" in content and "<script>" not in content


def test_retries_until_the_receiver_comes_back(tmp_path: Path) -> None:
    web = HttpReceiver()
    web.start()
    web.stop()  # the port is known, nothing listens: connection refused
    notify = NotifyConfig(targets=(NotifyTarget(web.apprise_url()),))
    store = Store(tmp_path, notify)
    store.commit_batch({}, [sample_alert(str(i)) for i in range(5)])
    results: list[str] = []
    with running(deliverer(tmp_path, notify, on_result=results.append)) as worker:
        wait_until("failures", lambda: worker.failed >= 10)
        assert worker.sent == 0 and store.outbox_size() == 5
        web.start()
        try:
            wait_until("outbox empty", lambda: store.outbox_size() == 0 and worker.sent == 5)
            users = sorted(
                r.json()["message"].split("user: ")[1].split("\n")[0] for r in web.received()
            )
        finally:
            web.stop()
    assert users == ["0", "1", "2", "3", "4"]  # each once
    assert results.count("sent") == 5 and results.count("failed") == worker.failed
    assert worker.queue_size == 0
    store.close()


def test_outbox_survives_a_restart(tmp_path: Path) -> None:
    web = HttpReceiver()
    web.status = 503  # up, refusing: Apprise reports a failure
    notify = NotifyConfig(targets=(NotifyTarget(web.apprise_url()),))
    with web:
        notify = NotifyConfig(targets=(NotifyTarget(web.apprise_url()),))
        store = Store(tmp_path, notify)
        store.commit_batch({}, [sample_alert("a"), sample_alert("b")])
        store.close()
        with running(deliverer(tmp_path, notify)) as first:
            wait_until("failures", lambda: first.failed >= 2)
        assert first.sent == 0
        web.status = 200
        with running(deliverer(tmp_path, notify)) as second:
            web.wait_for(2)
            wait_until("acknowledged", lambda: second.sent == 2 and second.queue_size == 0)
        assert len(web.received()) == 2
    assert Store(tmp_path).outbox_size() == 0


def test_gives_up_after_the_age(tmp_path: Path) -> None:
    now = [1_800_000_000.0]
    port = free_port()  # nothing listens there
    notify = NotifyConfig(
        targets=(NotifyTarget(f"json://127.0.0.1:{port}/x"),),
        give_up_after=NotifyConfig().give_up_after,
    )
    store = Store(tmp_path, notify, clock=lambda: now[0])
    store.commit_batch({}, [sample_alert("a"), sample_alert("b")])
    results: list[str] = []
    with running(deliverer(tmp_path, notify, clock=lambda: now[0], on_result=results.append)) as w:
        wait_until("a failure", lambda: w.failed >= 1)  # one probe: the other row waits
        now[0] += notify.give_up_after.total_seconds() + 1
        wait_until("given up", lambda: w.given_up == 2)
        wait_until("queue gauge", lambda: w.queue_size == 0)
    assert results.count("given_up") == 2 and w.sent == 0
    assert store.outbox_size() == 0
    store.close()


def test_removed_target_rows_are_dropped(tmp_path: Path) -> None:
    gone = NotifyConfig(targets=(NotifyTarget("json://127.0.0.1:9/old"),))
    Store(tmp_path, gone).commit_batch({}, [sample_alert()])
    with running(deliverer(tmp_path, NotifyConfig())) as worker:
        wait_until("dropped", lambda: worker.given_up == 1)
    assert Store(tmp_path).outbox_size() == 0


class Stuck:
    """A Sender whose `/slow` target hangs until released (a throttled or dead service)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent: list[str] = []

    def send(self, target: NotifyTarget, record: Mapping[str, Any]) -> None:
        if target.url.endswith("/slow"):
            self.release.wait(30)  # longer than the test waits for the fast target
        self.sent.append(target.url)


def test_a_stuck_target_does_not_delay_the_others(tmp_path: Path) -> None:
    slow, fast = NotifyTarget("json://127.0.0.1:9/slow"), NotifyTarget("json://127.0.0.1:9/fast")
    notify = NotifyConfig(targets=(slow, fast))
    store = Store(tmp_path, notify)
    store.commit_batch({}, [sample_alert("a"), sample_alert("b")])  # slow's rows come first
    sender = Stuck()
    with running(deliverer(tmp_path, notify, sender=sender)) as worker:
        wait_until("the fast target served", lambda: sender.sent.count(fast.url) == 2)
        assert slow.url not in sender.sent
        sender.release.set()
        wait_until("all sent", lambda: worker.sent == 4)
    assert store.outbox_size() == 0
    store.close()


def test_min_severity_filters_targets(tmp_path: Path) -> None:
    with HttpReceiver() as web:
        warn = NotifyTarget(web.apprise_url("/warn"), Severity.WARNING)
        crit = NotifyTarget(web.apprise_url("/crit"), Severity.CRITICAL)
        notify = NotifyConfig(targets=(warn, crit))
        store = Store(tmp_path, notify)
        store.commit_batch(
            {},
            [
                sample_alert("i", rule="off_hours", severity=Severity.INFO),
                sample_alert("w", rule="brute_force", severity=Severity.WARNING),
                sample_alert("c", severity=Severity.CRITICAL),
            ],
        )
        with running(deliverer(tmp_path, notify)) as worker:
            wait_until("all sent", lambda: worker.sent == 3 and store.outbox_size() == 0)
        got = sorted((r.path, r.json()["title"].split()[1]) for r in web.received())
        assert got == [
            ("/crit", "bulk_download"),
            ("/warn", "brute_force"),
            ("/warn", "bulk_download"),
        ]
        store.close()


def test_invalid_apprise_url_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match="not a valid Apprise URL"):
        AppriseSender().send(NotifyTarget("nosuchservice://x"), sample_alert().to_dict())


def write_config(tmp_path: Path, urls: list[str]) -> Path:
    targets = "".join(f"    - {{url: {json.dumps(u)}, min_severity: info}}\n" for u in urls)
    path = tmp_path / "sentinel.yaml"
    path.write_text(
        f"server_name: ftp-test\nstate_dir: {tmp_path / 'state'}\nnotify:\n  targets:\n{targets}"
    )
    return path


def test_test_alert_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    down_port = free_port()
    down = f"json://127.0.0.1:{down_port}/down"
    with HttpReceiver() as web:
        config = write_config(tmp_path, [web.apprise_url("/up?token=s3cr3tvalue123")])
        assert cli(["test-alert", "-c", str(config)]) == 0
        out = capsys.readouterr().out
        assert "delivered" in out and "s3cr3tvalue123" not in out
        (post,) = web.received()
        assert post.json()["title"].startswith("[INFO] test_alert on ftp-test")

        config = write_config(tmp_path, [web.apprise_url("/up"), down])
        assert cli(["test-alert", "-c", str(config)]) == 1
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2
        assert lines[0].endswith(": delivered")
        assert f"127.0.0.1:{down_port}" in lines[1] and ": FAILED: " in lines[1]
        assert len(web.received()) == 2
    assert not (tmp_path / "state").exists()  # sent directly, not through the store


def test_alerts_command_lists_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, [])
    store = Store(tmp_path / "state")
    store.commit_batch({}, [sample_alert("old"), sample_alert("new", at=_recent())])
    store.close()
    assert cli(["alerts", "-c", str(config), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["user"] for r in records] == ["old", "new"]
    assert cli(["alerts", "-c", str(config), "--since", "1h"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("LAST SEEN") and len(table) == 2 and "new downloaded" in table[1]
    assert cli(["alerts", "-c", str(config), "--since", "soon"]) == 2


def _recent() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)
