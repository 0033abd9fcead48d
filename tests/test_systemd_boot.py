"""The shipped unit, sysusers and tmpfiles files under a real systemd (252, Debian 12).

systemd boots as PID 1 in a container of the session's image (tests/podman.py), whose base
has systemd and no procps: no /bin/kill. The container gets CAP_SYS_ADMIN so that systemd can
build the unit's namespaces (ProtectSystem=, PrivateTmp=, ...) and CAP_DAC_READ_SEARCH so that
the unit's AmbientCapabilities= can hand it on; without them systemd skips both silently.
It shares the host's network: the daemon's metrics and the receiver are on 127.0.0.1.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.daemonproc import anonymous_login
from tests.podman import Container, Image
from tests.realservers.proc import free_port, wait_until
from tests.receivers import HttpReceiver

REPO = Path(__file__).resolve().parents[1]
UID = 10001  # the image's sentinel user, which sysusers finds and keeps
CAP_DAC_READ_SEARCH = 1 << 2
WATCHDOG_DROP_IN = "/run/systemd/system/sentinel.service.d/watchdog.conf"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vsftpd's log as vsftpd creates it, 0600 root: only the capability lets sentinel read it."""
    directory = tmp_path_factory.mktemp("ftplogs")
    directory.chmod(0o700)
    (directory / "vsftpd.log").touch(mode=0o600)
    (directory / "vsftpd.log").chmod(0o600)
    return directory


@pytest.fixture(scope="module")
def booted(sentinel_image: Image, logs: Path) -> Iterator[Container]:
    files = {
        "sentinel.service": "/etc/systemd/system/sentinel.service",
        "sentinel.sysusers": "/etc/sysusers.d/sentinel.conf",
        "sentinel.tmpfiles": "/etc/tmpfiles.d/sentinel.conf",
    }
    mounts = [f"--volume={REPO / 'systemd' / name}:{target}:ro" for name, target in files.items()]
    container = Container(
        sentinel_image.name,
        "--systemd=always", "--user=root", "--entrypoint=/sbin/init",
        "--stop-signal=SIGRTMIN+3", "--network=host", "--hostname=sentinel-test",
        "--cap-add=SYS_ADMIN", "--cap-add=DAC_READ_SEARCH",
        f"--volume={logs}:/var/log/ftp:ro", *mounts,
    )  # fmt: skip
    try:
        states: list[str] = []

        def booted() -> bool:  # systemctl fails until systemd's own bus is up
            result = container.exec("systemctl", "is-system-running", "--wait", check=False)
            states.append(result.stdout.strip())
            return states[-1] in {"running", "degraded"}

        wait_until("systemd booted", booted, timeout=60)
        failed = container.exec("systemctl", "--failed", "--no-legend", check=False).stdout
        assert states[-1] == "running", failed
        yield container
    finally:
        container.remove()


def show(container: Container, *properties: str) -> dict[str, str]:
    options = [f"--property={name}" for name in properties]
    lines = container.exec("systemctl", "show", *options, "sentinel").stdout.splitlines()
    return dict(line.partition("=")[::2] for line in lines)


def journal(container: Container) -> str:
    return container.exec("journalctl", "--unit=sentinel", "--output=cat", "--no-pager").stdout


def install_config(container: Container, config: dict[str, object] | str) -> None:
    """/etc/sentinel/sentinel.yaml as docs/DEPLOY.md installs it: 0640 root:sentinel."""
    text = config if isinstance(config, str) else yaml.safe_dump(config)
    container.exec("sh", "-c", "cat > /etc/sentinel/sentinel.yaml", stdin=text)
    container.exec("systemd-tmpfiles", "--create", "/etc/tmpfiles.d/sentinel.conf")


def config(port: int, receiver: HttpReceiver, name: str = "systemd-test") -> dict[str, object]:
    return {
        "server_name": name,
        "sources": [{"path": "/var/log/ftp/vsftpd.log", "format": "vsftpd"}],
        "metrics": {"listen": f"127.0.0.1:{port}"},
        "notify": {"targets": [{"url": receiver.apprise_url(), "min_severity": "warning"}]},
    }


def append_anonymous_login(logs: Path, ip: str) -> None:
    with (logs / "vsftpd.log").open("a") as log:
        log.write(anonymous_login(ip) + "\n")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as web:
        yield web


@pytest.fixture
def service(booted: Container, receiver: HttpReceiver) -> Iterator[Container]:
    """sentinel.service started; stopped (if still running) after the test."""
    install_config(booted, config(free_port(), receiver))
    booted.exec("systemctl", "start", "sentinel")  # Type=notify: returns once READY=1 came
    try:
        yield booted
    finally:
        booted.exec("systemctl", "stop", "sentinel")
        booted.exec("systemctl", "reset-failed", "sentinel", check=False)


def test_start_alert_reload_and_stop(
    service: Container, receiver: HttpReceiver, logs: Path
) -> None:
    started = show(service, "ActiveState", "SubState", "StatusText", "MainPID", "NRestarts")
    assert (started["ActiveState"], started["SubState"]) == ("active", "running")
    assert "following 1 source(s)" in started["StatusText"]
    pid = started["MainPID"]

    append_anonymous_login(logs, "127.0.0.21")
    [posted] = receiver.wait_for(1, timeout=15)
    assert "anonymous_access" in posted.json()["title"]

    # The reload needs no /bin/kill: the base has no procps.
    assert service.exec("sh", "-c", "ls /bin/kill /usr/bin/kill", check=False).returncode != 0
    install_config(service, "server_name: [not closed\n")
    service.exec("systemctl", "reload", "sentinel")
    refused = "reload refused: configuration invalid"
    wait_until(
        "the broken configuration refused",
        lambda: show(service, "StatusText")["StatusText"] == refused,
        timeout=15,
    )
    assert "configuration not reloaded, keeping the running one" in journal(service)
    assert show(service, "ActiveState", "MainPID") == {"ActiveState": "active", "MainPID": pid}
    append_anonymous_login(logs, "127.0.0.22")  # the old configuration still runs and notifies
    assert len(receiver.wait_for(2, timeout=15)) == 2

    port = free_port()
    install_config(service, config(port, receiver, name="systemd-test-reloaded"))
    service.exec("systemctl", "reload", "sentinel")
    wait_until("the new configuration", lambda: "reloaded from" in journal(service), timeout=15)
    wait_until("metrics on the new port", lambda: metrics_answer(service, port), timeout=15)
    assert show(service, "MainPID", "NRestarts") == {"MainPID": pid, "NRestarts": "0"}

    service.exec("systemctl", "stop", "sentinel")
    stopped = show(service, "ActiveState", "Result", "ExecMainStatus")
    assert stopped == {"ActiveState": "inactive", "Result": "success", "ExecMainStatus": "0"}
    assert "Traceback" not in journal(service)


def metrics_answer(container: Container, port: int) -> bool:
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/metrics')"
    return container.exec("python3", "-c", probe, check=False).returncode == 0


def test_hardening_is_in_force(service: Container) -> None:
    pid = int(show(service, "MainPID")["MainPID"])
    status = service.exec("cat", f"/proc/{pid}/status").stdout
    fields = dict(re.findall(r"^(\w+):\s*(.*)$", status, flags=re.MULTILINE))
    assert fields["Uid"].split() == [str(UID)] * 4
    groups = service.exec("getent", "group", "adm").stdout
    assert "sentinel" in groups  # sysusers' `m sentinel adm`
    assert "4" in fields["Groups"].split()
    for capabilities in ("CapEff", "CapPrm", "CapAmb", "CapBnd"):
        assert int(fields[capabilities], 16) == CAP_DAC_READ_SEARCH, capabilities
    assert fields["NoNewPrivs"] == "1"
    assert fields["Seccomp"] == "2"  # SystemCallFilter=

    # ProtectSystem=strict: everything read-only but the state directory, also where the
    # sentinel user may write by permissions. Checked in the daemon's own mount namespace.
    service.exec("install", "-d", "-m", "0700", "-o", "sentinel", "/srv/outgoing")
    host_pid = service.host_pid(pid)

    def write_as_sentinel(path: str) -> subprocess.CompletedProcess[str]:
        command = ["nsenter", f"--target={host_pid}", "--mount", f"--setuid={UID}"]
        command += [f"--setgid={UID}", "--", "/bin/sh", "-c", f"echo probe > {path}"]
        return subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)

    assert write_as_sentinel("/var/lib/sentinel/probe").returncode == 0
    refused = write_as_sentinel("/srv/outgoing/probe")
    assert refused.returncode != 0
    assert "Read-only file system" in refused.stderr
    assert service.exec("ls", "/srv/outgoing").stdout == ""
    service.exec("rm", "/var/lib/sentinel/probe")
    state = service.exec("find", "/var/lib/sentinel", "-type", "f", "-printf", "%m %u %p\n")
    rows = state.stdout.splitlines()
    assert any("sentinel.db" in row for row in rows)
    assert all(row.startswith("600 sentinel ") for row in rows), rows
    config = service.exec("stat", "--format=%a %U %G", "/etc/sentinel/sentinel.yaml").stdout
    assert config.split() == ["640", "root", "sentinel"]  # systemd/sentinel.tmpfiles


def test_watchdog_restarts_a_daemon_that_stops_answering(booted: Container) -> None:
    """SIGSTOP freezes every thread, the watchdog pings stop, systemd restarts the daemon.

    WatchdogSec= is shortened from the shipped 30 s by a drop-in, so that the test waits
    seconds; the mechanism (WATCHDOG=1 pings at half the interval, Restart=on-failure) is
    the shipped one.
    """
    with HttpReceiver() as receiver:
        install_config(booted, config(free_port(), receiver))
        booted.exec("mkdir", "-p", str(Path(WATCHDOG_DROP_IN).parent))
        drop_in = "[Service]\nWatchdogSec=4s\n"
        booted.exec("sh", "-c", f"cat > {WATCHDOG_DROP_IN}", stdin=drop_in)
        booted.exec("systemctl", "daemon-reload")
        try:
            booted.exec("systemctl", "start", "sentinel")
            before = show(booted, "MainPID", "NRestarts")
            assert before["NRestarts"] == "0"
            booted.exec("systemctl", "kill", "--kill-whom=main", "--signal=SIGSTOP", "sentinel")

            def restarted() -> bool:
                now = show(booted, "MainPID", "NRestarts", "SubState")
                return now["NRestarts"] == "1" and now["SubState"] == "running"

            wait_until("the watchdog restart", restarted, timeout=60)
            assert show(booted, "MainPID")["MainPID"] != before["MainPID"]
            assert (
                "Watchdog timeout"
                in booted.exec("journalctl", "--unit=sentinel", "--no-pager").stdout
            )
        finally:
            booted.exec("systemctl", "stop", "sentinel")
            booted.exec("rm", WATCHDOG_DROP_IN)
            booted.exec("systemctl", "daemon-reload")
            booted.exec("systemctl", "reset-failed", "sentinel", check=False)
