"""Walks one supervised tree through directory fds: never follows a symlink, never leaves it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

MAX_DEPTH = 64  # deeper trees are not an exchange layout; what lies below is counted, not read
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class FileFact:
    """One regular file as the walk saw it (lstat, never through a link)."""

    rel: str  # path below the root, "/"-separated
    size: int
    mode: int
    uid: int
    dev: int
    ino: int
    mtime: float
    atime: float
    ctime: float
    mtime_ns: int
    reachable: bool  # every directory from the root down to it is searchable by others

    @property
    def name(self) -> str:
        return self.rel.rsplit("/", 1)[-1]

    @property
    def world_readable(self) -> bool:
        return bool(self.mode & stat.S_IROTH)


@dataclass(slots=True)
class WalkStats:
    """What the walk passed over without reporting it as a file."""

    symlinks: int = 0
    special: int = 0
    excluded: int = 0
    errors: int = 0
    too_deep: int = 0
    world_writable_dirs: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Filters:
    """Include/exclude globs: on the name, or on the relative path when they hold a `/`."""

    include: Sequence[str] = ("*",)
    exclude: Sequence[str] = (".*",)

    def _matches(self, patterns: Sequence[str], rel: str, name: str) -> bool:
        return any(fnmatchcase(rel if "/" in p else name, p) for p in patterns)

    def wants_file(self, rel: str, name: str) -> bool:
        return self._matches(self.include, rel, name) and not self._matches(self.exclude, rel, name)

    def wants_dir(self, rel: str, name: str) -> bool:
        return not self._matches(self.exclude, rel, name)


def walk(root: Path, filters: Filters, stats: WalkStats | None = None) -> Iterator[FileFact]:
    """Regular files under `root` (itself opened as configured, even through a link)."""
    walker = _Walker(filters, stats if stats is not None else WalkStats())
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield from walker.directory(fd, "", _searchable(os.fstat(fd).st_mode), 0)
    finally:
        os.close(fd)


def _searchable(mode: int) -> bool:
    return bool(mode & stat.S_IXOTH)


class _Walker:
    """Depth-first over directory fds; holds at most one fd per level of the tree."""

    def __init__(self, filters: Filters, stats: WalkStats) -> None:
        self.filters = filters
        self.stats = stats

    def directory(self, fd: int, prefix: str, reachable: bool, depth: int) -> Iterator[FileFact]:
        subdirs: list[tuple[str, bool]] = []
        stats, filters = self.stats, self.filters
        with os.scandir(fd) as entries:
            for entry in entries:
                rel = prefix + entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    stats.errors += 1
                    continue
                mode = st.st_mode
                if stat.S_ISREG(mode):
                    if filters.wants_file(rel, entry.name):
                        yield fact_from_stat(rel, st, reachable)
                    else:
                        stats.excluded += 1
                elif stat.S_ISDIR(mode):
                    if not filters.wants_dir(rel, entry.name):
                        stats.excluded += 1
                        continue
                    if mode & stat.S_IWOTH:
                        stats.world_writable_dirs.append(rel)
                    subdirs.append((entry.name, reachable and _searchable(mode)))
                elif stat.S_ISLNK(mode):
                    stats.symlinks += 1
                else:
                    stats.special += 1
        for name, child_reachable in subdirs:
            yield from self.descend(fd, name, prefix, child_reachable, depth)

    def descend(
        self, fd: int, name: str, prefix: str, reachable: bool, depth: int
    ) -> Iterator[FileFact]:
        if depth + 1 >= MAX_DEPTH:
            self.stats.too_deep += 1
            return
        try:
            # O_NOFOLLOW: a directory swapped for a link since scandir saw it is refused here.
            child = os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            self.stats.errors += 1
            return
        try:
            yield from self.directory(child, f"{prefix}{name}/", reachable, depth + 1)
        finally:
            os.close(child)


def fact_from_stat(rel: str, st: os.stat_result, reachable: bool) -> FileFact:
    return FileFact(
        rel=rel,
        size=st.st_size,
        mode=st.st_mode,
        uid=st.st_uid,
        dev=st.st_dev,
        ino=st.st_ino,
        mtime=st.st_mtime,
        atime=st.st_atime,
        ctime=st.st_ctime,
        mtime_ns=st.st_mtime_ns,
        reachable=reachable,
    )
