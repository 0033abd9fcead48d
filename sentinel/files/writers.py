"""Which files some process holds open for writing, read from /proc: a half-written upload.

A one-shot scan judges every file, however recent; for a recent file it also says whether it
may still be being written. The kernel knows: `/proc/PID/fdinfo/N` gives each descriptor's
open flags and `/proc/PID/fd/N` leads to the file. Only the processes this one may inspect
are seen (all of them as root; its own user's otherwise), which `WriterScan.complete` tells.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PROC = Path("/proc")
MAX_DESCRIPTORS = 1_000_000  # descriptors looked at in one scan of /proc: bounds its cost
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR


class WriterScan:
    """The (device, inode) of every regular file open for writing, as seen once, lazily."""

    def __init__(self, proc: Path = PROC) -> None:
        self.proc = proc
        self._open: set[tuple[int, int]] | None = None
        self.complete = True  # False when some process's descriptors could not be read

    def is_open_for_writing(self, dev: int, ino: int) -> bool:
        if self._open is None:
            self._open = self._scan()
        return (dev, ino) in self._open

    def _scan(self) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        seen = 0
        me = os.getpid()
        try:
            pids = [entry for entry in self.proc.iterdir() if entry.name.isdigit()]
        except OSError:
            self.complete = False
            return found
        for pid in pids:
            if int(pid.name) == me:
                continue  # this scan's own descriptors are read-only
            try:
                fds = [entry.name for entry in (pid / "fd").iterdir()]
            except FileNotFoundError:
                continue  # ended meanwhile
            except OSError:
                self.complete = False
                continue
            for fd in fds:
                seen += 1
                if seen > MAX_DESCRIPTORS:
                    self.complete = False
                    return found
                key = _written_file(pid, fd)
                if key is not None:
                    found.add(key)
        return found


def _written_file(process: Path, fd: str) -> tuple[int, int] | None:
    """(device, inode) of the regular file behind descriptor `fd` if it is open for writing."""
    try:
        info = (process / "fdinfo" / fd).read_text()
    except OSError:
        return None
    flags = next((line.split()[1] for line in info.splitlines() if line[:6] == "flags:"), "0")
    if not int(flags, 8) & _WRITE_FLAGS:
        return None
    try:
        st = (process / "fd" / fd).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None
