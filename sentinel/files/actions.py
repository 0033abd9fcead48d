"""Quarantine or delete a flagged file, safely: never through a link, never while written.

Every step goes through directory fds (openat-style) and checks that the entry is still the
inode the walk saw. The caller gets an `ActionRecord` for its state store; each action is
logged (path neutralised, never the file's content).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sentinel.config.model import DirectoryConfig
from sentinel.files.safeopen import Refused, parent_dir, same_file
from sentinel.files.scan import SETTLE_SECONDS, FileFact, settled
from sentinel.textsafe import neutral

log = logging.getLogger("sentinel.files.actions")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SUFFIX = 1000


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """What was done (or, in a dry run, would be done) to one file."""

    action: str  # quarantine | delete
    directory: str
    rel: str
    size: int
    ts: datetime
    done: bool
    destination: str | None = None
    reason: str = ""  # why it was not done ("dry run", "still being written", ...)

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "directory": self.directory,
            "path": self.rel,
            "bytes": self.size,
            "ts": self.ts.isoformat(),
            "done": self.done,
            "destination": self.destination,
            "reason": self.reason,
        }


def act(
    directory: DirectoryConfig,
    fact: FileFact,
    now: datetime,
    *,
    dry_run: bool = False,
    settle: float = SETTLE_SECONDS,
) -> ActionRecord | None:
    """Applies the directory's action to a flagged file; None for `report`."""
    if directory.action not in ("quarantine", "delete"):
        return None
    record = ActionRecord(directory.action, str(directory.path), fact.rel, fact.size, now, False)
    if not settled(fact, now.timestamp(), settle):
        return _logged(_with(record, reason="still being written"))
    if dry_run:
        return _logged(_with(record, reason="dry run", destination=_planned(directory, fact)))
    try:
        if directory.action == "delete":
            _delete(directory.path, fact)
            return _logged(_with(record, done=True))
        target = _quarantine(directory, fact)
        return _logged(_with(record, done=True, destination=target))
    except OSError as error:
        reason = str(error) if isinstance(error, Refused) else os.strerror(error.errno or 0)
        return _logged(_with(record, reason=reason or "refused"))


def _with(record: ActionRecord, **changes: object) -> ActionRecord:
    values = {name: getattr(record, name) for name in ActionRecord.__slots__}
    values.update(changes)
    return ActionRecord(**values)


def _logged(record: ActionRecord) -> ActionRecord:
    where = neutral(f"{record.directory}/{record.rel}", limit=400)
    if record.done:
        log.warning(
            "%s %s (%d bytes) %s",
            record.action,
            where,
            record.size,
            f"-> {neutral(record.destination or '', limit=400)}" if record.destination else "",
        )
    else:
        log.info("%s %s not done: %s", record.action, where, record.reason)
    return record


def _planned(directory: DirectoryConfig, fact: FileFact) -> str | None:
    if directory.action != "quarantine" or directory.quarantine_dir is None:
        return None
    return str(directory.quarantine_dir / fact.rel)


def _check_entry(dir_fd: int, name: str, fact: FileFact) -> None:
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not same_file(st, fact):
        raise Refused(f"{fact.rel}: changed since the scan, or not a regular file")


def _delete(root: Path, fact: FileFact) -> None:
    with parent_dir(root, fact.rel) as (dir_fd, name):
        _check_entry(dir_fd, name, fact)
        os.unlink(name, dir_fd=dir_fd)


def _quarantine(directory: DirectoryConfig, fact: FileFact) -> str:
    if directory.quarantine_dir is None:
        raise Refused("action quarantine needs quarantine_dir")
    qroot = directory.quarantine_dir
    qroot.mkdir(mode=0o700, parents=True, exist_ok=True)
    parts = fact.rel.split("/")
    with parent_dir(directory.path, fact.rel) as (src_fd, name):
        _check_entry(src_fd, name, fact)
        dst_fd = _make_dirs(qroot, parts[:-1])
        try:
            target = _free_name(dst_fd, name)
            _move(src_fd, name, dst_fd, target, fact)
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dst_fd)
            try:
                os.fchmod(fd, 0o600)
            finally:
                os.close(fd)
        finally:
            os.close(dst_fd)
    return str(qroot.joinpath(*parts[:-1], target))


def _make_dirs(root: Path, parts: list[str]) -> int:
    """An fd on root/parts, each level created 0700 and opened without following links."""
    fd = os.open(root, _DIR)
    try:
        for part in parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o700, dir_fd=fd)
            child = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _free_name(dir_fd: int, name: str) -> str:
    for n in range(MAX_SUFFIX):
        candidate = name if n == 0 else f"{name}.{n}"
        try:
            os.stat(candidate, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return candidate
    raise Refused(f"{name}: too many quarantined files of this name")


def _move(src_fd: int, name: str, dst_fd: int, target: str, fact: FileFact) -> None:
    try:
        # rename moves the directory entry itself: a link swapped in is moved, never followed.
        os.rename(name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        _copy_then_unlink(src_fd, name, dst_fd, target, fact)


def _copy_then_unlink(src_fd: int, name: str, dst_fd: int, target: str, fact: FileFact) -> None:
    """Across file systems: copy into a 0600 file, then remove the original if unchanged."""
    src = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src_fd)
    try:
        if not same_file(os.fstat(src), fact):
            raise Refused(f"{fact.rel}: changed since the scan")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        dst = os.open(target, flags, 0o600, dir_fd=dst_fd)
        with open(src, "rb", closefd=False) as reader, os.fdopen(dst, "wb") as writer:
            shutil.copyfileobj(reader, writer)
            writer.flush()
            os.fsync(writer.fileno())
    finally:
        os.close(src)
    _check_entry(src_fd, name, fact)
    os.unlink(name, dir_fd=src_fd)
