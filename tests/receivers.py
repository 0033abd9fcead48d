"""Real notification endpoints on loopback for tests: an HTTP receiver, an SMTP server and
Alertmanager, each started and stopped by the test that uses it.

    with HttpReceiver() as web:          # Apprise URL: web.apprise_url("/hook")
        ...; web.wait_for(1)             # the POSTs received, as Request records
    with SmtpReceiver() as smtp:         # Apprise URL: smtp.apprise_url()
        ...; smtp.wait_for(1)            # the messages received (email.message.Message)
    with Alertmanager(tmp_path) as am:   # target URL: am.url; am.alerts() reads them back
    sample_alert("labsync")              # an Alert; the subject sets its fingerprint
"""

from __future__ import annotations

import email
import email.message
import email.policy
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from sentinel.alerts import Alert, Severity, make_alert
from tests.realservers.proc import free_port, wait_until


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    # time.monotonic() once the whole body was read: latency benches compare it to theirs
    received_at: float = field(default_factory=time.monotonic, compare=False)

    def json(self) -> Any:
        return json.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        receiver = self.server.receiver
        status = receiver.status
        if status < 300:
            with receiver.lock:
                receiver.requests.append(Request(self.path, dict(self.headers), body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the test reads `requests`


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, receiver: HttpReceiver) -> None:
        self.receiver = receiver
        super().__init__(("127.0.0.1", port), _Handler)


class HttpReceiver:
    """Records every POST. `stop()` and `start()` take it down and up on the same port;
    `status` (200 by default) is the answer it gives: set 503 to refuse while listening."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.status = 200
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._server = _Server(self.port, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-receiver"
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None

    def apprise_url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    def received(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Request]:
        wait_until(f"{count} POST(s)", lambda: len(self.received()) >= count, timeout)
        return self.received()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _MailSink:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str | None, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpReceiver:
    """A plain SMTP server (no TLS, no authentication) that keeps the messages it gets."""

    def __init__(self) -> None:
        self.sink = _MailSink()
        self.port = free_port()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def apprise_url(
        self, sender: str = "sentinel@example.org", to: str = "oncall@example.org"
    ) -> str:
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from={sender}&to={to}"

    def messages(self) -> list[email.message.EmailMessage]:
        with self.sink.lock:
            return list(self.sink.messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[email.message.EmailMessage]:
        wait_until(f"{count} mail(s)", lambda: len(self.messages()) >= count, timeout)
        return self.messages()

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


ALERTMANAGER_CONFIG = """\
route:
  receiver: "null"
  group_wait: 1h
receivers:
  - name: "null"
"""


class Alertmanager:
    """Debian's prometheus-alertmanager on a free loopback port, clustering off."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"alertmanager://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "alertmanager.log"

    def start(self) -> None:
        config = self.workdir / "alertmanager.yml"
        config.write_text(ALERTMANAGER_CONFIG)
        (self.workdir / "am-data").mkdir(exist_ok=True)
        with self.log.open("wb") as out:
            self._proc = subprocess.Popen(
                [
                    "prometheus-alertmanager",
                    f"--config.file={config}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--cluster.listen-address=",
                    f"--storage.path={self.workdir / 'am-data'}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until("Alertmanager ready", self._ready, timeout=20)

    def _ready(self) -> bool:
        assert self._proc is not None
        if self._proc.poll() is not None:
            raise RuntimeError(f"alertmanager exited: {self.log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def alerts(self) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/api/v2/alerts"
        with urllib.request.urlopen(url, timeout=5) as response:
            data: list[dict[str, Any]] = json.load(response)
            return data

    def wait_for(
        self, check: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        wait_until("alerts in Alertmanager", lambda: check(self.alerts()), timeout)
        return self.alerts()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def sample_alert(
    subject: str = "labsync",
    *,
    rule: str = "bulk_download",
    severity: Severity = Severity.CRITICAL,
    at: datetime = datetime(2026, 11, 22, 10, 4, 51, tzinfo=UTC),
    summary: str | None = None,
) -> Alert:
    """An alert as the rules make them, its fingerprint set by (rule, subject)."""
    return make_alert(
        rule=rule,
        severity=severity,
        server="ftp-exchange-01",
        subject=subject,
        summary=summary or f"{subject} downloaded 120 files (60.0 MiB) from 203.0.113.7 in 65 s",
        first_seen=at - timedelta(seconds=65),
        last_seen=at,
        source="vsftpd",
        user=subject,
        ip="203.0.113.7",
        count=120,
        nbytes=62914560,
    )
