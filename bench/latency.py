"""Live latency: log line written -> notification received, and the daemon's idle CPU.

Starts a real vsftpd (tests/realservers) and `sentinel run` following its vsftpd.log with a
json:// target on a local HTTP receiver, then makes N anonymous logins, one at a time, each
from its own loopback address (anonymous_access alerts once per address). Three figures per
incident, loopback only:

- live, from the line in the file: a 1 ms poller of vsftpd.log stamps when the "OK LOGIN"
  line of that address appears (at most ~1 ms late, so latency is at most ~1 ms high);
- live, from the client's login returning (vsftpd logs before it answers 230: a lower bound);
- pure file: a second `sentinel run` follows a plain file to which we append real-format
  vsftpd "OK LOGIN" lines (from tests/samples/captured), stamped right after write(2)
  returns: sentinel's own latency without vsftpd's.

Then the live daemon's CPU seconds over an idle period, from /proc/<pid>/stat. Prints a table
and replaces the "Live latency" section of bench/RESULTS.md (between latency markers).
Run as root from the repository: `.venv/bin/python bench/latency.py [--incidents 200]`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the real-server harness lives in tests/, beside bench/
    sys.path.insert(0, str(ROOT))

from tests.daemonproc import CAPTURED, Sentinel, vsftpd_stamp  # noqa: E402  # after sys.path
from tests.realservers.handle import RunningServer  # noqa: E402  # after sys.path
from tests.realservers.proc import wait_until  # noqa: E402  # after sys.path
from tests.realservers.servers import STARTERS  # noqa: E402  # after sys.path
from tests.receivers import HttpReceiver  # noqa: E402  # after sys.path

RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- latency:start -->", "<!-- latency:end -->"
ANON_LOGIN = next(  # vsftpd's own line for an anonymous login, time stripped
    line[24:] for line in CAPTURED.read_text().splitlines() if "[ftp] OK LOGIN" in line
)
CAPTURED_ANON_IP = re.search(r'Client "([\d.]+)"', ANON_LOGIN)
LINE_POLL = 0.001  # seconds between two looks at vsftpd.log
PER_INCIDENT = 10.0  # seconds an incident may take before the bench gives up
CLK_TCK = os.sysconf("SC_CLK_TCK")


def address(n: int) -> str:
    """The n-th client address of a run: 127.0.1.1, 127.0.1.2, ... (all on lo)."""
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


def anon_login_line(ip: str) -> str:
    """A real vsftpd anonymous "OK LOGIN" line from `ip`, stamped now."""
    assert CAPTURED_ANON_IP is not None
    return vsftpd_stamp() + ANON_LOGIN.replace(f'"{CAPTURED_ANON_IP[1]}"', f'"{ip}"')


class LineWatcher:
    """Polls a log every LINE_POLL s and stamps (monotonic) each client's first OK LOGIN."""

    PATTERN = re.compile(rb'OK LOGIN: Client "([\d.]+)"')

    def __init__(self, path: Path, limit: float) -> None:
        self.path = path
        self.limit = limit  # seconds the thread may run at most
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="line-watcher")

    def _run(self) -> None:
        deadline = time.monotonic() + self.limit
        offset, pending = 0, b""
        with self.path.open("rb") as log:
            while not self._stop.is_set() and time.monotonic() < deadline:
                log.seek(offset)
                chunk = log.read()
                now = time.monotonic()
                offset += len(chunk)
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                for line in lines:
                    match = self.PATTERN.search(line)
                    if match:
                        with self.lock:
                            self.seen.setdefault(match[1].decode(), now)
                self._stop.wait(LINE_POLL)

    def when(self, ip: str, timeout: float) -> float:
        def found() -> bool:
            with self.lock:
                return ip in self.seen

        wait_until(f"OK LOGIN of {ip} in {self.path}", found, timeout)
        with self.lock:
            return self.seen[ip]

    def __enter__(self) -> LineWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass(frozen=True, slots=True)
class Series:
    """Latencies (seconds) of one variant, and what its "line written" instant is."""

    name: str
    written: str
    values: list[float]

    def row(self) -> str:
        ms = sorted(v * 1000 for v in self.values)
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        return (
            f"| {self.name} | {self.written} | {len(ms)} | {cuts[49]:.1f} | {cuts[89]:.1f} "
            f"| {cuts[98]:.1f} | {ms[-1]:.1f} | {self.values[0] * 1000:.1f} |"
        )


def arrival(receiver: HttpReceiver, index: int, ip: str) -> float:
    """When the index-th POST arrived; checks that it is the alert about `ip`."""
    posted = receiver.wait_for(index + 1, timeout=PER_INCIDENT)
    if len(posted) != index + 1:
        raise RuntimeError(f"{len(posted)} POSTs after {index + 1} incidents: a duplicate?")
    body = posted[index].body.decode()
    if not re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d])", body):
        raise RuntimeError(f"POST {index} is not about {ip}: {body[:200]}")
    return posted[index].received_at


def daemon_config(log: Path, receiver: HttpReceiver) -> dict[str, object]:
    return {
        "sources": [{"path": str(log), "format": "vsftpd"}],
        "notify": {"targets": [{"url": receiver.apprise_url(), "min_severity": "warning"}]},
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and all its threads, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def context_switches(pid: int) -> int:
    """Voluntary + involuntary context switches of every thread: how often it wakes up."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def live(workdir: Path, incidents: int, idle: float) -> tuple[Series, Series, dict[str, float]]:
    """Anonymous logins on a live vsftpd; then the daemon's idle CPU."""
    with (
        STARTERS["vsftpd"](workdir / "vsftpd") as server,
        HttpReceiver() as receiver,
    ):
        daemon = Sentinel(workdir / "sentinel-live", daemon_config(server.main_log_path, receiver))
        try:
            daemon.start()
            server.main_log_path.touch()
            in_file, from_client, busy = _live_incidents(server, receiver, daemon, incidents)
            daemon.wait_metric("sentinel_notification_queue", 0)
            cpu = idle_cpu(daemon, idle, busy)
            code = daemon.stop()
        finally:
            daemon.close()
        if code != 0:
            raise RuntimeError(f"sentinel exited {code}: {daemon.stderr()}")
    return (
        Series("live vsftpd", "line seen in vsftpd.log (1 ms poll)", in_file),
        Series("live vsftpd", "client's login returned (230)", from_client),
        cpu,
    )


def _live_incidents(
    server: RunningServer, receiver: HttpReceiver, daemon: Sentinel, incidents: int
) -> tuple[list[float], list[float], float]:
    assert daemon.proc is not None
    pid = daemon.proc.pid
    in_file: list[float] = []
    from_client: list[float] = []
    cpu_before = cpu_seconds(pid)
    with LineWatcher(server.main_log_path, limit=incidents * PER_INCIDENT) as watcher:
        for n in range(incidents):
            ip = address(n)
            with server.ftp(ip, "anonymous"):
                logged_in = time.monotonic()
            received = arrival(receiver, n, ip)
            written = watcher.when(ip, PER_INCIDENT)
            in_file.append(received - written)
            from_client.append(received - logged_in)
    server.wait_idle()
    return in_file, from_client, (cpu_seconds(pid) - cpu_before) / incidents


def idle_cpu(daemon: Sentinel, seconds: float, busy: float) -> dict[str, float]:
    """CPU seconds the daemon uses while nothing happens for `seconds`."""
    assert daemon.proc is not None
    pid = daemon.proc.pid
    cpu, switches, began = cpu_seconds(pid), context_switches(pid), time.monotonic()
    time.sleep(seconds)  # the measurement itself: a quiet period
    elapsed = time.monotonic() - began
    used = cpu_seconds(pid) - cpu
    return {
        "seconds": elapsed,
        "cpu": used,
        "percent": 100 * used / elapsed,
        "wakeups": (context_switches(pid) - switches) / elapsed,
        "busy_ms": busy * 1000,
    }


def pure_file(workdir: Path, incidents: int) -> Series:
    """Real-format lines appended to a plain file: sentinel's latency alone."""
    log = workdir / "appended.log"
    log.touch()
    with HttpReceiver() as receiver:
        daemon = Sentinel(workdir / "sentinel-file", daemon_config(log, receiver))
        values: list[float] = []
        try:
            daemon.start()
            fd = os.open(log, os.O_WRONLY | os.O_APPEND)
            try:
                for n in range(incidents):
                    ip = address(n)
                    os.write(fd, (anon_login_line(ip) + "\n").encode())
                    written = time.monotonic()
                    values.append(arrival(receiver, n, ip) - written)
            finally:
                os.close(fd)
            code = daemon.stop()
        finally:
            daemon.close()
        if code != 0:
            raise RuntimeError(f"sentinel exited {code}: {daemon.stderr()}")
    return Series("appended file", "write(2) of the line returned", values)


def report(series: list[Series], cpu: dict[str, float], incidents: int) -> str:
    p99 = max(statistics.quantiles(s.values, n=100, method="inclusive")[98] for s in series)
    verdict = "met" if p99 <= 0.250 else "NOT met"
    return "\n".join(
        [
            f"## Live latency, {incidents} anonymous logins each (`bench/latency.py`)",
            "",
            "Line written -> json:// notification received by a local HTTP server, one incident"
            " at a time, each from its own loopback address (one anonymous_access alert each).",
            "",
            '| variant | "line written" is when | n | p50 ms | p90 ms | p99 ms | max ms | 1st ms |',
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *(s.row() for s in series),
            "",
            f"Aim p99 <= 250 ms: {verdict} (worst p99 {p99 * 1000:.1f} ms). Every incident"
            ' counts; "1st ms" is the first one after the daemon said READY (it loads Apprise'
            " and builds each target's client before that, not on the first alert).",
            "",
            f"Idle daemon (live vsftpd source, after the incidents): {cpu['cpu']:.2f} CPU s over"
            f" {cpu['seconds']:.0f} s = {cpu['percent']:.2f} % of one core"
            f" (/proc counts in {1000 / CLK_TCK:.0f} ms ticks),"
            f" {cpu['wakeups']:.1f} context switches/s (all threads)."
            f" While busy: {cpu['busy_ms']:.1f} ms CPU per incident (parse, rule, store, send).",
        ]
    )


def write_section(section: str, results: Path = RESULTS) -> None:
    """Replaces (or appends) only the text between the latency markers."""
    block = f"{START}\n{section}\n{END}"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    results.write_text(text)


def run(args: argparse.Namespace, stage: Callable[[str], None]) -> str:
    with tempfile.TemporaryDirectory(prefix="sentinel-latency-") as tmp:
        workdir = Path(tmp)
        for name in ("vsftpd", "sentinel-live", "sentinel-file"):
            (workdir / name).mkdir()
        stage(f"live vsftpd: {args.incidents} anonymous logins, then {args.idle:.0f} s idle")
        in_file, from_client, cpu = live(workdir, args.incidents, args.idle)
        stage(f"appended file: {args.incidents} lines")
        appended = pure_file(workdir, args.incidents)
    return report([in_file, from_client, appended], cpu, args.incidents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU sampling")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    if not 2 <= args.incidents <= 60_000:
        parser.error("--incidents must be within 2..60000 (one loopback address each)")
    section = run(args, lambda what: print(f"... {what}", file=sys.stderr, flush=True))
    print(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
