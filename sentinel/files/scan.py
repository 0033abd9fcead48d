"""Walks one supervised tree through directory fds: never follows a symlink, never leaves it."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import translate
from pathlib import Path

MAX_DEPTH = 64  # deeper trees are not an exchange layout; what lies below is counted, not read
BATCH = 1024  # files handed over at a time: bounds memory in a huge directory
SETTLE_SECONDS = 60.0  # a file changed this recently may still be uploading: not read nor moved
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_IFMT, _IFREG, _IFDIR, _IFLNK = 0o170000, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK

Entry = tuple[str, os.stat_result]  # a regular file's name and its lstat, as the walk saw it


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


def settled(fact: FileFact, now: float, settle: float = SETTLE_SECONDS) -> bool:
    """Content not modified within `settle` seconds: the upload is over (ctime is not used:
    a chmod or a move into the tree changes it without any write)."""
    return now - fact.mtime >= settle


@dataclass(frozen=True, slots=True)
class Listing:
    """Regular files of one directory, at most BATCH of them.

    `fd` is the directory's, open until the walk is asked for the next listing: files are
    opened relative to it (openat), never by a path that could be swapped for a link.
    """

    fd: int
    prefix: str  # "" at the root, else the directory's path below it with a trailing "/"
    reachable: bool  # the directory and its parents are searchable by others
    files: list[Entry]


@dataclass(slots=True)
class WalkStats:
    """What the walk passed over without reporting it as a file."""

    symlinks: int = 0
    special: int = 0
    excluded: int = 0
    errors: int = 0
    too_deep: int = 0
    world_writable_dirs: list[str] = field(default_factory=list)


_Match = Callable[[str], "re.Match[str] | None"]


def _regex(patterns: Sequence[str]) -> _Match | None:
    """fnmatchcase against any of `patterns` in one match (fnmatch's own translation)."""
    if not patterns:
        return None
    return re.compile("|".join(translate(p) for p in patterns)).match


@dataclass(frozen=True, slots=True)
class Filters:
    """Include/exclude globs: on the name, or on the relative path when they hold a `/`."""

    include: Sequence[str] = ("*",)
    exclude: Sequence[str] = (".*",)
    # fnmatch regexes: include on names, include on paths, exclude on names, on paths
    _compiled: tuple[_Match | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple(
            _regex([p for p in patterns if ("/" in p) == on_path])
            for patterns in (self.include, self.exclude)
            for on_path in (False, True)
        )
        object.__setattr__(self, "_compiled", compiled)

    def _matches(self, which: int, rel: str, name: str) -> bool:
        on_name, on_path = self._compiled[which : which + 2]
        return (on_name is not None and on_name(name) is not None) or (
            on_path is not None and on_path(rel) is not None
        )

    def wants_file(self, rel: str, name: str) -> bool:
        return self._matches(0, rel, name) and not self._matches(2, rel, name)

    def wants_dir(self, rel: str, name: str) -> bool:
        return not self._matches(2, rel, name)

    def keep(self) -> Callable[[str, list[Entry]], list[Entry]]:
        """`keep(prefix, entries)`: the entries `wants_file` wants, for a whole batch at once.

        The defaults (everything but dot files) skip the regex engine and the path join.
        """
        if "*" in self.include and all("/" not in p for p in self.exclude):
            if tuple(self.exclude) == (".*",):
                return lambda prefix, entries: [e for e in entries if e[0][:1] != "."]
            excluded = _regex(self.exclude)
            if excluded is None:
                return lambda prefix, entries: entries
            return lambda prefix, entries: [e for e in entries if excluded(e[0]) is None]
        wants = self.wants_file
        return lambda prefix, entries: [e for e in entries if wants(prefix + e[0], e[0])]


def listings(root: Path, filters: Filters, stats: WalkStats | None = None) -> Iterator[Listing]:
    """Regular files under `root` (itself opened as configured, even through a link), by batch."""
    walker = _Walker(filters, stats if stats is not None else WalkStats())
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield from walker.directory(fd, "", _searchable(os.fstat(fd).st_mode), 0)
    finally:
        os.close(fd)


def walk(root: Path, filters: Filters, stats: WalkStats | None = None) -> Iterator[FileFact]:
    """Regular files under `root` (itself opened as configured, even through a link)."""
    for listing in listings(root, filters, stats):
        prefix, reachable = listing.prefix, listing.reachable
        for name, st in listing.files:
            yield fact_from_stat(prefix + name, st, reachable)


def _searchable(mode: int) -> bool:
    return bool(mode & stat.S_IXOTH)


class _Walker:
    """Depth-first over directory fds; holds at most one fd per level of the tree."""

    def __init__(self, filters: Filters, stats: WalkStats) -> None:
        self.filters = filters
        self.stats = stats
        self.keep = filters.keep()

    def directory(self, fd: int, prefix: str, reachable: bool, depth: int) -> Iterator[Listing]:
        # The hot loop of a scan: one lstat per entry (the times of every file are needed,
        # as by find -mtime), the type from its mode, no object made for a file but its entry.
        subdirs: list[tuple[str, bool]] = []
        files: list[Entry] = []
        stats, kind, regular, batch = self.stats, _IFMT, _IFREG, BATCH
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    stats.errors += 1
                    continue
                if st.st_mode & kind != regular:
                    self._other(entry.name, st.st_mode, prefix, reachable, subdirs)
                    continue
                files.append((entry.name, st))
                if len(files) >= batch:
                    yield from self._listing(fd, prefix, reachable, files)
                    files = []
        yield from self._listing(fd, prefix, reachable, files)
        for name, child_reachable in subdirs:
            yield from self.descend(fd, name, prefix, child_reachable, depth)

    def _listing(
        self, fd: int, prefix: str, reachable: bool, files: list[Entry]
    ) -> Iterator[Listing]:
        kept = self.keep(prefix, files)
        self.stats.excluded += len(files) - len(kept)
        if kept:
            yield Listing(fd, prefix, reachable, kept)

    def _other(
        self, name: str, mode: int, prefix: str, reachable: bool, subdirs: list[tuple[str, bool]]
    ) -> None:
        kind = mode & _IFMT
        if kind == _IFDIR:
            rel = prefix + name
            if not self.filters.wants_dir(rel, name):
                self.stats.excluded += 1
                return
            if mode & stat.S_IWOTH:
                self.stats.world_writable_dirs.append(rel)
            subdirs.append((name, reachable and _searchable(mode)))
        elif kind == _IFLNK:
            self.stats.symlinks += 1
        else:
            self.stats.special += 1

    def descend(
        self, fd: int, name: str, prefix: str, reachable: bool, depth: int
    ) -> Iterator[Listing]:
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
