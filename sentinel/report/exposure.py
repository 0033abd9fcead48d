"""What was exposed: the files incidents transferred, found again under supervised directories.

A transferred path is what the server logged: the path the client saw (`/pub/x.csv` under
a chroot; `served_as` maps it back to its directory) or the real path. Each file is opened
below its directory without following any link (files/safeopen.py) and inspected like the
daemon inspects (files/inspect.py): kinds and counts of identifiers, never a value; whether
it is encrypted. Distinct identifiers are counted by keyed hash (files/identifiers.py's
DistinctIds) under a key drawn at random for this run and forgotten with it.

"Records concerned" in a file: the count of its most frequent kind of identifier (a row with
a NIR and an IBAN is one record). "People": the number of distinct identifiers of the most
frequent kind over the files of an incident (one person has one NIR; several kinds per
person would count the same person twice, so kinds are not added up). Both are estimates,
and the report says so.
"""

from __future__ import annotations

import os
import posixpath
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sentinel.config.model import DirectoryConfig
from sentinel.files.identifiers import DistinctIds
from sentinel.files.inspect import Inspection, inspect_open
from sentinel.files.safeopen import Refused, open_below

MAX_ZONE_FILES = 1_000  # files of one anonymous zone looked at; past that the list is cut
MAX_ZONE_DEPTH = 32


@dataclass(slots=True)
class FileExposure:
    """One file as the report found it. `state`: present, missing, refused, unsupervised."""

    shown: str  # the path as logged (or, for a zone's file, as clients see it)
    state: str
    local: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    encrypted: str | None = None
    skipped: str | None = None  # binary, opaque, unreadable: not looked into
    truncated: bool = False
    distinct: DistinctIds | None = None

    @property
    def records(self) -> int:
        return max(self.counts.values(), default=0)


@dataclass(frozen=True, slots=True)
class Exposure:
    """The files of one incident (or of a zone) and what they hold, summed."""

    files: tuple[FileExposure, ...]
    records: int
    people: int
    people_by_kind: dict[str, int]
    kinds: dict[str, int]  # identifiers per kind over the files
    lower_bound: bool  # a count may be short: a file cut, a zone cut, a digest cap reached


NOTHING = Exposure((), 0, 0, {}, {}, lower_bound=False)


def _match(path: str, directory: DirectoryConfig) -> tuple[str, str] | None:
    """(client prefix, relative path) when `path` lies in `directory`, else None."""
    prefixes = [str(directory.path)]
    if directory.served_as is not None:
        prefixes.append(directory.served_as)
    best: tuple[str, str] | None = None
    for prefix in prefixes:
        base = prefix.rstrip("/")
        if path.startswith(base + "/") and (best is None or len(base) > len(best[0])):
            best = (base, path[len(base) + 1 :])
    return best


def locate(path: str, directories: Sequence[DirectoryConfig]) -> tuple[DirectoryConfig, str] | None:
    """The supervised directory a logged path lies in and the path relative to it."""
    clean = posixpath.normpath(path) if path.startswith("/") else ""
    found: tuple[DirectoryConfig, str, int] | None = None
    for directory in directories:
        match = _match(clean, directory)
        if match is not None and (found is None or len(match[0]) > found[2]):
            found = (directory, match[1], len(match[0]))
    return (found[0], found[1]) if found is not None else None


class Inspector:
    """Inspects each file once per run; holds the per-run key of the distinct counts."""

    def __init__(self, directories: Sequence[DirectoryConfig]) -> None:
        self.directories = tuple(directories)
        self._key = secrets.token_bytes(32)  # never stored, never shown
        self._seen: dict[str, FileExposure] = {}

    def file(self, shown: str) -> FileExposure:
        known = self._seen.get(shown)
        if known is None:
            known = self._seen[shown] = self._look(shown)
        return known

    def _look(self, shown: str) -> FileExposure:
        where = locate(shown, self.directories)
        if where is None:
            return FileExposure(shown, "unsupervised")
        directory, rel = where
        return self.inspect(shown, directory, rel)

    def inspect(self, shown: str, directory: DirectoryConfig, rel: str) -> FileExposure:
        local = str(directory.path / rel)
        try:
            fd = open_below(directory.path, rel)
        except Refused:
            return FileExposure(shown, "refused", local)
        except FileNotFoundError:
            return FileExposure(shown, "missing", local)
        except OSError:
            return FileExposure(shown, "refused", local)  # ENOTDIR, EACCES: not reached
        distinct = DistinctIds(self._key)
        try:
            found: Inspection = inspect_open(
                fd, os.fstat(fd).st_size, directory.max_inspect_size, distinct
            )
        finally:
            os.close(fd)
        return FileExposure(
            shown,
            "present",
            local,
            counts=dict(found.counts),
            encrypted=found.encrypted,
            skipped=found.skipped,
            truncated=found.truncated,
            distinct=distinct,
        )

    def summed(self, files: Iterable[FileExposure], cut: bool = False) -> Exposure:
        listed = tuple(files)
        if not listed and not cut:
            return NOTHING  # most incidents (logins) transferred no file
        union = DistinctIds(self._key)
        kinds: dict[str, int] = {}
        for item in listed:
            if item.distinct is not None:
                union.merge(item.distinct)
            for kind, count in item.counts.items():
                kinds[kind] = kinds.get(kind, 0) + count
        by_kind = union.counts()
        return Exposure(
            files=listed,
            records=sum(item.records for item in listed),
            people=max(by_kind.values(), default=0),
            people_by_kind=by_kind,
            kinds=kinds,
            lower_bound=cut or union.saturated or any(item.truncated for item in listed),
        )

    def zone(self, directory: DirectoryConfig) -> Exposure:
        """Every file of an anonymous zone: what anyone connecting could take."""
        rels, cut = _walk(directory.path)
        base = directory.served_as or str(directory.path)
        shown = [posixpath.join(base, rel) if base != "/" else "/" + rel for rel in rels]
        files = [self.inspect(name, directory, rel) for name, rel in zip(shown, rels, strict=True)]
        return self.summed(files, cut)


def _walk(root: Path) -> tuple[list[str], bool]:
    """Relative paths of the regular files below `root` (links not followed), bounded."""
    found: list[str] = []
    pending = [("", 0)]
    while pending:
        rel, depth = pending.pop()
        try:
            with os.scandir(root / rel if rel else root) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        for entry in listed:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False) and depth < MAX_ZONE_DEPTH:
                pending.append((child, depth + 1))
            elif entry.is_file(follow_symlinks=False):
                found.append(child)
                if len(found) >= MAX_ZONE_FILES:
                    return sorted(found), True
    return sorted(found), False
