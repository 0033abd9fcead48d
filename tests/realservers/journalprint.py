"""Lines as `journalctl -o short-iso` prints them, from a real journal file.

systemd-journald needs systemd as PID 1, which this machine has not: the journal file is
written by systemd-journal-remote from entries in journal export format, and read back by
the real journalctl (systemd 252 on Debian 12), so the framing is journalctl's own.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

REMOTE = "/lib/systemd/systemd-journal-remote"
BOOT = "0123456789abcdef0123456789abcdef"


def export_entries(rfc3339_lines: list[str]) -> str:
    """Journal export format for `STAMP host prog[pid]: message` lines (rsyslog's RFC 3339)."""
    entries = []
    for i, line in enumerate(rfc3339_lines):
        stamp, host, tag, message = line.split(" ", 3)
        program, _, pid = tag.rstrip(":").rstrip("]").partition("[")
        micros = int(datetime.fromisoformat(stamp).timestamp() * 1_000_000)
        entries.append(
            f"__CURSOR=c{i}\n__REALTIME_TIMESTAMP={micros}\n__MONOTONIC_TIMESTAMP={i + 1}\n"
            f"_BOOT_ID={BOOT}\n_HOSTNAME={host}\nSYSLOG_IDENTIFIER={program}\n_PID={pid}\n"
            f"SYSLOG_FACILITY=10\nPRIORITY=6\nMESSAGE={message}\n\n"
        )
    return "".join(entries)


def journal_print(rfc3339_lines: list[str], workdir: Path, output: str, tz: str) -> list[str]:
    """The lines through a real journal file and `journalctl -o OUTPUT`, in time zone `tz`."""
    journal = workdir / f"{output}.journal"
    subprocess.run(
        [REMOTE, f"--output={journal}", "-"],
        input=export_entries(rfc3339_lines).encode(),
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "TZ": tz}
    done = subprocess.run(
        ["journalctl", "--file", str(journal), "-o", output, "--no-pager"],
        check=True,
        capture_output=True,
        env=env,
        text=True,
    )
    return done.stdout.splitlines()
