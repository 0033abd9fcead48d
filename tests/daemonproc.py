"""`sentinel run` as a real subprocess for tests: config, readiness via NOTIFY_SOCKET, metrics.

Log lines the tests append are real vsftpd lines (tests/samples/captured/vsftpd) with their
time and client address changed, so the daemon sees exactly what vsftpd writes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.realservers.proc import free_port, wait_until

CAPTURED = Path(__file__).parent / "samples" / "captured" / "vsftpd" / "vsftpd.log"
FAIL_TEMPLATE = next(
    line[24:] for line in CAPTURED.read_text().splitlines() if "FAIL LOGIN" in line
)
DOWNLOAD_TEMPLATE = next(
    line[24:] for line in CAPTURED.read_text().splitlines() if "OK DOWNLOAD" in line
)
ANON_LOGIN_TEMPLATE = next(
    line[24:] for line in CAPTURED.read_text().splitlines() if "anon password" in line
)
CAPTURED_IP = '"127.0.0.7"'


def vsftpd_stamp(moment: datetime | None = None) -> str:
    moment = moment or datetime.now().astimezone()
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return (
        f"{days[moment.weekday()]} {months[moment.month - 1]} {moment.day:2d} "
        f"{moment:%H:%M:%S} {moment.year}"
    )


def failed_login(ip: str, moment: datetime | None = None) -> str:
    return vsftpd_stamp(moment) + FAIL_TEMPLATE.replace(CAPTURED_IP, f'"{ip}"')


def anonymous_login(ip: str, moment: datetime | None = None) -> str:
    return vsftpd_stamp(moment) + ANON_LOGIN_TEMPLATE.replace('"127.0.0.9"', f'"{ip}"')


def download(ip: str, n: int, moment: datetime | None = None) -> str:
    line = DOWNLOAD_TEMPLATE.replace('"127.0.0.2"', f'"{ip}"')
    return vsftpd_stamp(moment) + line.replace("report-1.txt", f"file-{n}.txt")


class Sentinel:
    """One `sentinel run` with its own state dir, metrics port and notify socket."""

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        *,
        options: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.options = options  # global options, before `run`
        self.env = env or {}
        self.port = free_port()
        self.config_path = workdir / "sentinel.yaml"
        base: dict[str, Any] = {
            "server_name": "ftp-test",
            "state_dir": str(workdir / "state"),
            "metrics": {"listen": f"127.0.0.1:{self.port}"},
        }
        base.update(config)
        self.config = base
        self.write_config(base)
        self.log = workdir / "sentinel.stderr"
        self.proc: subprocess.Popen[bytes] | None = None
        self.notify_path = workdir / "notify.sock"
        self.notify: socket.socket | None = None

    def write_config(self, config: dict[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(config))

    def start(self, timeout: float = 20.0) -> None:
        if self.notify is None:
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(str(self.notify_path))
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path), **self.env)
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sentinel",
                    *self.options,
                    "run",
                    "-c",
                    str(self.config_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=env,
            )
        self.wait_notify("READY=1", timeout)

    def wait_notify(self, needle: str, timeout: float = 20.0) -> str:
        """The next notify datagram holding `needle` (READY=1, STATUS=...)."""
        assert self.notify is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.notify.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                message = self.notify.recv(4096).decode()
            except TimeoutError:
                break
            if needle in message:
                return message
        raise TimeoutError(f"no {needle} from sentinel; stderr: {self.stderr()}")

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
        values = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return values

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)

    def wait_metric(self, name: str, value: float, timeout: float = 10.0, **labels: str) -> None:
        wait_until(
            f"{name}{labels} == {value}", lambda: self.metric(name, **labels) == value, timeout
        )

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(signum)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit code (0 is a clean flush)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if self.notify is not None:
            self.notify.close()
            self.notify = None
