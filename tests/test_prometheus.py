"""A real Prometheus scrapes a running `sentinel run` and loads the project's alerting rules."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentinel import __version__
from tests.daemonproc import Sentinel
from tests.realservers.proc import free_port, wait_until

RULES = Path(__file__).resolve().parent.parent / "config" / "prometheus" / "sentinel.rules.yml"
JOB = "sentinel"  # SentinelDown in the rules file names this job


class Prometheus:
    """Debian's prometheus on a free loopback port, scraping one target every second."""

    def __init__(self, workdir: Path, target: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.log = workdir / "prometheus.log"
        self.config = workdir / "prometheus.yml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(RULES)],
                    "scrape_configs": [
                        {"job_name": JOB, "static_configs": [{"targets": [target]}]}
                    ],
                }
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        wait_until("Prometheus ready", self._ready, timeout=15)

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited: {self.log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        """The `data` of a successful API answer."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}{query}"
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector"
        result: list[dict[str, Any]] = data["result"]
        return result

    def stop(self) -> None:
        """SIGTERM to the process group we started, SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[Sentinel]:
    workdir = tmp_path / "sentinel"
    workdir.mkdir()
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = Sentinel(workdir, {"sources": [{"path": str(log), "format": "vsftpd"}]})
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.close()


@pytest.fixture
def prometheus(tmp_path: Path, sentinel: Sentinel) -> Iterator[Prometheus]:
    workdir = tmp_path / "prometheus"
    workdir.mkdir()
    server = Prometheus(workdir, f"127.0.0.1:{sentinel.port}")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def rule_groups() -> dict[str, list[str]]:
    """Group name -> alert names, as the project's rules file declares them."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {g["name"]: [r["alert"] for r in g["rules"]] for g in groups}


def test_prometheus_scrapes_build_info_from_running_sentinel(
    sentinel: Sentinel, prometheus: Prometheus
) -> None:
    found: list[dict[str, Any]] = []

    def scraped() -> bool:
        found[:] = prometheus.query("sentinel_build_info")
        return bool(found)

    wait_until("sentinel_build_info in Prometheus", scraped, timeout=10)
    [sample] = found
    assert sample["metric"]["version"] == __version__
    assert sample["metric"]["job"] == JOB
    assert sample["metric"]["instance"] == f"127.0.0.1:{sentinel.port}"
    assert float(sample["value"][1]) == 1.0
    [up] = prometheus.query(f'up{{job="{JOB}"}}')
    assert float(up["value"][1]) == 1.0
    assert sentinel.stop() == 0


def test_prometheus_loads_and_evaluates_every_rule_of_the_rules_file(
    prometheus: Prometheus,
) -> None:
    expected = rule_groups()
    assert expected and all(expected.values())
    groups: list[dict[str, Any]] = []

    def evaluated() -> bool:
        groups[:] = prometheus.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return bool(rules) and all(r["health"] != "unknown" for r in rules)

    wait_until("every rule evaluated once", evaluated, timeout=10)
    assert {g["file"] for g in groups} == {str(RULES)}
    assert {g["name"]: [r["name"] for r in g["rules"]] for g in groups} == expected
    for group in groups:
        for rule in group["rules"]:
            assert rule["type"] == "alerting"
            assert rule["health"] == "ok", rule
    # nothing is wrong with a freshly started sentinel: no rule fires
    assert prometheus.api("alerts")["alerts"] == []
