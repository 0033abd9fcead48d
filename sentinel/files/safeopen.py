"""Opens files below a root one component at a time (openat + O_NOFOLLOW): no link is followed."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sentinel.files.scan import FileFact

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class Refused(OSError):
    """The path is not the file the walk saw: a link, a swapped entry, a file still changing."""


def _components(rel: str) -> list[str]:
    parts = rel.split("/")
    if not rel or any(p in ("", ".", "..") for p in parts):
        raise Refused(f"not a plain relative path: {rel!r}")
    return parts


@contextmanager
def parent_dir(root: Path, rel: str) -> Iterator[tuple[int, str]]:
    """The fd of `rel`'s directory, reached without following links, and its last name."""
    parts = _components(rel)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            child = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd, parts[-1]
    finally:
        os.close(fd)


def open_below(root: Path, rel: str) -> int:
    """An fd (the caller closes it) on the regular file `rel` below `root`, reached without
    following any link; `Refused` for a link or anything but a regular file."""
    with parent_dir(root, rel) as (dir_fd, name):
        try:
            fd = os.open(name, _FILE, dir_fd=dir_fd)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise Refused(f"{rel}: a symbolic link") from None
            raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Refused(f"{rel}: not a regular file")
    return fd


def same_file(st: os.stat_result, fact: FileFact) -> bool:
    """Same inode, size and mtime as the walk saw: not replaced, not grown since."""
    return (
        stat.S_ISREG(st.st_mode)
        and (st.st_dev, st.st_ino) == (fact.dev, fact.ino)
        and st.st_size == fact.size
        and st.st_mtime_ns == fact.mtime_ns
    )


def same_stat(st: os.stat_result, seen: os.stat_result) -> bool:
    """`same_file` against the walk's own lstat of the entry."""
    return (
        stat.S_ISREG(st.st_mode)
        and st.st_ino == seen.st_ino
        and st.st_dev == seen.st_dev
        and st.st_size == seen.st_size
        and st.st_mtime_ns == seen.st_mtime_ns
    )


@contextmanager
def open_fact(root: Path, fact: FileFact) -> Iterator[int]:
    """An fd on the very file `fact` describes, or `Refused`."""
    with parent_dir(root, fact.rel) as (dir_fd, name):
        fd = os.open(name, _FILE, dir_fd=dir_fd)
    try:
        if not same_file(os.fstat(fd), fact):
            raise Refused(f"{fact.rel}: changed since the scan")
        yield fd
    finally:
        os.close(fd)


def open_entry(dir_fd: int, name: str, seen: os.stat_result) -> int:
    """An fd (the caller closes it) on the file `name` of the open directory `dir_fd`, as
    the walk's lstat `seen` describes it, or `Refused`: no path walked again from the root."""
    fd = os.open(name, _FILE, dir_fd=dir_fd)
    if not same_stat(os.fstat(fd), seen):
        os.close(fd)
        raise Refused(f"{name}: changed since the scan")
    return fd
