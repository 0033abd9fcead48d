"""What the soak scripts share: a daemon in a scratch directory, /proc figures, log lines."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.daemonproc import CAPTURED, vsftpd_stamp
from tests.test_hostile import Daemon

TICKS = os.sysconf("SC_CLK_TCK")
CONNECT = next(line[24:] for line in CAPTURED.read_text().splitlines() if "CONNECT" in line)
LOGIN = next(line[24:] for line in CAPTURED.read_text().splitlines() if "[bob] OK LOGIN" in line)
FAIL = next(line[24:] for line in CAPTURED.read_text().splitlines() if "FAIL LOGIN" in line)


def address(n: int) -> str:
    """The n-th of up to 2^24 distinct addresses, in 10.0.0.0/8."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def connect(ip: str, moment: datetime) -> str:
    return vsftpd_stamp(moment) + CONNECT.replace('"127.0.0.2"', f'"{ip}"')


def login(user: str, ip: str, moment: datetime) -> str:
    return vsftpd_stamp(moment) + LOGIN.replace("[bob]", f"[{user}]").replace(
        '"127.0.0.3"', f'"{ip}"'
    )


def failure(ip: str, moment: datetime) -> str:
    return vsftpd_stamp(moment) + FAIL.replace('"127.0.0.7"', f'"{ip}"')


def daemon(workdir: Path, log: Path, extra: dict[str, Any] | None = None) -> Daemon:
    config: dict[str, Any] = {"sources": [{"path": str(log), "format": "vsftpd"}]}
    config.update(extra or {})
    return Daemon(workdir, config)


def start(sentinel: Daemon) -> None:
    """Starts, then leaves the notify socket: nobody reads it in a long run (sentinel's
    notifier would drop its messages on a full one, never wait)."""
    sentinel.start()
    if sentinel.notify is not None:
        sentinel.notify.close()
        sentinel.notify = None
        sentinel.notify_path.unlink()


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise KeyError("VmRSS")
