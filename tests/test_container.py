"""The Dockerfile built and run for real with podman, as the README and docs/DEPLOY.md say.

The image is built once per session (tests/podman.py) on a Debian 12 base. The daemon runs as
the image's uid on a read-only root file system with no capabilities, reads a log through
group adm, answers its health check, is scraped by a real Prometheus and notifies a receiver
on loopback (host network: every address involved is 127.0.0.1).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sentinel import __version__
from tests.daemonproc import anonymous_login
from tests.podman import Container, Image, PodmanError, podman, run
from tests.realservers.proc import free_port, wait_until
from tests.receivers import HttpReceiver
from tests.test_prometheus import Prometheus

SCENARIO = Path(__file__).parent / "samples" / "scenario"
UID = 10001  # the Dockerfile's fixed uid and gid
ADM = 4  # group adm on Debian and Ubuntu, in the image as on the host
MAX_IMAGE_BYTES = 300 * 1024 * 1024


def test_image_is_what_the_dockerfile_promises(sentinel_image: Image) -> None:
    [inspected] = json.loads(podman("image", "inspect", sentinel_image.name).stdout)
    config = inspected["Config"]
    assert config["User"] == f"{UID}:{UID}"
    assert config["Entrypoint"] == ["sentinel"]
    assert config["StopSignal"] in {"SIGTERM", "15"}
    assert "/var/lib/sentinel" in config["Volumes"]
    assert not any(env.startswith("SENTINEL_CONFIG=") for env in config["Env"])
    healthcheck = inspected["Healthcheck"]
    assert healthcheck["Test"][:2] == ["CMD", "python"]
    assert sentinel_image.size < MAX_IMAGE_BYTES
    result = run(("--network", "none", "--read-only"), sentinel_image.name, "--version")
    assert result.stdout.strip() == f"sentinel {__version__}"


def replay_incidents(image: str, logs: Path, *options: str) -> list[dict[str, str]]:
    """The incidents `replay --json /logs/vsftpd.log` finds in the container, logs mounted ro."""
    options = ("--network", "none", "--read-only", "-v", f"{logs}:/logs:ro", *options)
    result = run(options, image, "replay", "--json", "/logs/vsftpd.log")
    alerts = [json.loads(line) for line in result.stdout.splitlines()]
    assert f"{len(alerts)} incident records" in result.stderr
    keys = ("rule", "user", "ip")  # what vsftpd.expected.json says of each incident
    return [{key: alert[key] for key in keys if key in alert} for alert in alerts]


def test_replay_runs_without_a_configuration(sentinel_image: Image, tmp_path: Path) -> None:
    """`podman run --rm -v /var/log:/logs:ro IMAGE replay /logs/vsftpd.log`, on a bundled log."""
    expected = sorted(map(str, json.loads((SCENARIO / "vsftpd.expected.json").read_text())))
    logs = tmp_path / "logs"  # modes set here, whatever the checkout's umask made
    logs.mkdir(mode=0o755)
    logs.chmod(0o755)
    log = logs / "vsftpd.log"
    shutil.copyfile(SCENARIO / "vsftpd.log", log)
    log.chmod(0o644)
    found = replay_incidents(sentinel_image.name, logs, "--cap-drop", "ALL")
    assert sorted(map(str, found)) == expected
    # vsftpd creates its log 0600 root: the image's uid cannot read it, root in the container
    # can (docs/DEPLOY.md gives that line for a one-off replay).
    log.chmod(0o600)
    with pytest.raises(PodmanError, match="Permission denied"):
        replay_incidents(sentinel_image.name, logs)
    found = replay_incidents(sentinel_image.name, logs, "--user", "root")
    assert sorted(map(str, found)) == expected


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Host directories for the container, with explicit modes (tests may run under umask 077)."""
    paths = {name: tmp_path / name for name in ("etc", "logs", "state", "prometheus")}
    for name, path in paths.items():
        path.mkdir()
        path.chmod(0o700 if name in {"state", "prometheus"} else 0o755)
    os.chown(paths["state"], UID, UID)
    # vsftpd's log as Debian's logrotate recipe in docs/DEPLOY.md leaves it: 0640 root:adm.
    os.chown(paths["logs"], 0, ADM)
    paths["logs"].chmod(0o750)
    log = paths["logs"] / "vsftpd.log"
    log.touch(mode=0o640)
    log.chmod(0o640)
    os.chown(log, 0, ADM)
    yield paths
    shutil.rmtree(paths["state"], ignore_errors=True)  # files owned by the image's uid


def write_config(etc: Path, port: int, receiver: HttpReceiver) -> None:
    config = {
        "server_name": "container-test",
        "sources": [{"path": "/var/log/ftp/vsftpd.log", "format": "vsftpd"}],
        "metrics": {"listen": f"127.0.0.1:{port}"},
        "notify": {"targets": [{"url": receiver.apprise_url(), "min_severity": "warning"}]},
    }
    path = etc / "sentinel.yaml"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o644)


def test_daemon_in_the_container(sentinel_image: Image, mounts: dict[str, Path]) -> None:
    port = free_port()
    with HttpReceiver() as receiver:
        write_config(mounts["etc"], port, receiver)
        container = Container(
            sentinel_image.name,
            "--network", "host", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--group-add", "adm",
            "-v", f"{mounts['etc']}:/etc/sentinel:ro",
            "-v", f"{mounts['logs']}:/var/log/ftp:ro",
            "-v", f"{mounts['state']}:/var/lib/sentinel",
            "-e", f"SENTINEL_HEALTH_URL=http://127.0.0.1:{port}/metrics",
        )  # fmt: skip
        prometheus = Prometheus(mounts["prometheus"], f"127.0.0.1:{port}")
        try:
            wait_until("the health check passes", lambda: healthy(container), timeout=30)
            assert container.exec("id", "-u").stdout.strip() == str(UID)

            prometheus.start()
            found: list[dict[str, Any]] = []

            def scraped() -> bool:
                found[:] = prometheus.query('sentinel_build_info{job="sentinel"}')
                return bool(found)

            wait_until("Prometheus scrapes the container", scraped, timeout=15)
            assert found[0]["metric"]["version"] == __version__

            with (mounts["logs"] / "vsftpd.log").open("a") as log:
                log.write(anonymous_login("127.0.0.9") + "\n")
            [posted] = receiver.wait_for(1, timeout=15)
            assert "anonymous_access" in posted.json()["title"]
            assert "mozilla@example.com" not in posted.body.decode()  # the anonymous password

            wrote = container.exec(
                "sh", "-c", "echo x > /usr/local/probe", user="root", check=False
            )
            assert wrote.returncode != 0
            assert "Read-only file system" in wrote.stderr

            podman("stop", "--time", "20", container.name)
            assert container.inspect("{{.State.ExitCode}}") == "0", container.logs()
            assert "Traceback" not in container.logs()
        finally:
            prometheus.stop()
            container.remove()
    files = list(mounts["state"].rglob("*"))
    assert any(p.name.startswith("sentinel.db") for p in files)
    for path in files:
        mode = path.stat().st_mode & 0o777
        assert (mode, path.stat().st_uid) == ((0o700 if path.is_dir() else 0o600), UID), path


def healthy(container: Container) -> bool:
    assert container.running(), container.logs()
    return podman("healthcheck", "run", container.name, check=False).returncode == 0
