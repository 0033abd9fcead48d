"""Process plumbing for real servers: free ports, polling, start and stop by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

POLL = 0.02  # seconds between two looks at a condition


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls `check` until it is true; raises TimeoutError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(POLL)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def listening(port: int) -> bool:
    """True if some socket listens on TCP `port` (read from /proc: no probe connection that
    the server would log)."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in read_text(Path(table)).splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(wanted) and fields[3] == "0A":  # 0A: LISTEN
                return True
    return False


def children(pid: int) -> list[int]:
    """PIDs whose parent is `pid` (scanning /proc/*/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        text = read_text(stat)
        # the command name in parentheses may hold spaces: fields resume after the last ")"
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(stat.parent.name))
    return found


def read_text(path: Path) -> str:
    """The file's text so far, or "" if it does not exist yet."""
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def wait_for_line(path: Path, needle: str, timeout: float = 10.0, count: int = 1) -> str:
    """Waits until `path` holds `count` lines containing `needle`; returns the last one."""

    def found() -> bool:
        return sum(needle in line for line in read_text(path).splitlines()) >= count

    wait_until(f"{count} line(s) with {needle!r} in {path}", found, timeout)
    return [line for line in read_text(path).splitlines() if needle in line][-1]


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone)."""
    stat = read_text(Path(f"/proc/{pid}/stat"))
    return bool(stat) and stat[stat.rfind(")") + 2 :].split()[0] != "Z"


class Server:
    """A server process we started, in its own session so that its children stop with it.

    With `pidfile`, the command daemonizes (ProFTPD logs to its SystemLog only when it does):
    the launcher must exit 0 and the daemon's PID is read from the pidfile.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        env: dict[str, str] | None = None,
        pidfile: Path | None = None,
    ):
        self.name = name
        self.pidfile = pidfile
        self.stdout_path = workdir / f"{name}.stdout"
        with self.stdout_path.open("wb") as out:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The server's PID: the daemon's once its pidfile exists, else the launched one."""
        if self.pidfile is not None:
            text = read_text(self.pidfile).strip()
            if text:
                return int(text)
        return self.proc.pid

    def check_alive(self) -> None:
        """Raises with the server's own output if it has exited (or failed to daemonize)."""
        code = self.proc.poll()
        launcher_failed = code is not None and (self.pidfile is None or code != 0)
        # a daemon writes its pidfile after its launcher exits: until then it is not gone
        daemon_gone = (
            code == 0
            and self.pidfile is not None
            and read_text(self.pidfile).strip() != ""
            and not _alive(self.pid)
        )
        if launcher_failed or daemon_gone:
            raise RuntimeError(f"{self.name} exited with {code}: {read_text(self.stdout_path)}")

    def await_ready(self, what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
        """Waits until `check` holds, failing at once with the server's output if it died."""

        def ready() -> bool:
            self.check_alive()
            return check()

        wait_until(f"{self.name}: {what}", ready, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM to the server's process group, SIGKILL if it lingers."""
        pid = self.pid
        if _alive(pid):
            self._signal_group(pid, signal.SIGTERM)
            try:
                wait_until(f"{self.name} to stop", lambda: not _alive(pid), timeout)
            except TimeoutError:
                self._signal_group(pid, signal.SIGKILL)
        # session children (one per FTP client) may outlive the listener: end them too
        self._signal_group(pid, signal.SIGKILL)
        if self.proc.poll() is None:
            self._signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=timeout)

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
