"""Finding a followed log's rotated siblings, oldest first, and recognising a file by its head.

Rotated names understood (logrotate and newsyslog): `log.N` (`.0` newest, higher N older),
`log-YYYYMMDD`, `log-YYYYMMDDHH`, `log-YYYYMMDD-SECONDS` and any of those with `.N`. Compressed
siblings (`.gz`, `.xz`...) are skipped: their inode is not the one we followed and their
bytes are not at the offsets we saved, so they can never resume a position.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

HEAD_BYTES = 1024  # a fingerprint covers the first line, or at most this many bytes
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzma", ".Z", ".zip")
_NUMBERED = re.compile(r"\.(\d{1,6})")
_DATED = re.compile(r"-(\d{8}(?:\d{2})?)(?:-(\d+))?(?:\.(\d{1,6}))?")


@dataclass(frozen=True, slots=True)
class FileId:
    """A file as the kernel knows it: what a rename keeps and a new file does not."""

    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileId:
        return cls(st.st_ino, st.st_dev)


def head_of(fd: int) -> str:
    """sha1 of the first line (newline included) or of the first HEAD_BYTES bytes.

    "" while the file is shorter than HEAD_BYTES and has no complete line yet: the
    fingerprint must not change as the file grows, so it waits for a stable prefix.
    """
    data = os.pread(fd, HEAD_BYTES, 0)
    end = data.find(b"\n") + 1
    if not end:
        if len(data) < HEAD_BYTES:
            return ""
        end = len(data)
    return hashlib.sha1(data[:end], usedforsecurity=False).hexdigest()


def head_matches(saved: str, current: str) -> bool:
    """An unknown saved head (saved at offset 0) accepts any file."""
    return not saved or saved == current


def _rank(suffix: str) -> tuple[int, ...] | None:
    """Order key of a rotated name's suffix: larger is newer; None if not a rotation."""
    numbered = _NUMBERED.fullmatch(suffix)
    if numbered:
        return (0, -int(numbered.group(1)))
    dated = _DATED.fullmatch(suffix)
    if dated:
        stamp, seconds, count = dated.groups()
        return (1, int(stamp.ljust(10, "0")), int(seconds or 0), int(count or 0))
    return None


def _names(directory: Path) -> list[str]:
    try:
        return [entry.name for entry in directory.iterdir()]
    except OSError:
        return []


def _candidates(path: Path) -> list[tuple[tuple[int, ...], str]]:
    prefix = path.name
    found = []
    for name in _names(path.parent):
        if not name.startswith(prefix) or name == prefix:
            continue
        rank = _rank(name[len(prefix) :])
        if rank is not None:
            found.append((rank, name))
    return found


def rotated_siblings(path: Path) -> list[Path]:
    """Uncompressed rotated siblings of `path`, oldest first."""
    found = _candidates(path)
    if len({rank[0] for rank, _ in found}) > 1:
        # numbered and dated names side by side: only the modification times can order them
        return sorted((path.parent / name for _, name in found), key=_mtime)
    return [path.parent / name for _, name in sorted(found)]


def compressed_siblings(path: Path) -> list[Path]:
    """Compressed rotated siblings: listed so that a lost resume can say why."""
    found = []
    for name in _names(path.parent):
        stem, dot, ext = name.rpartition(".")
        suffix = stem[len(path.name) :]
        if dot and f".{ext}" in COMPRESSED and stem.startswith(path.name) and _rank(suffix):
            found.append(path.parent / name)
    return sorted(found)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _identity(path: Path) -> FileId | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return FileId.of(st) if stat.S_ISREG(st.st_mode) else None


def chain(path: Path) -> list[tuple[Path, FileId]]:
    """Rotated siblings oldest first, then the current file: the order lines were written."""
    files = [*rotated_siblings(path), path]
    ids = [(p, _identity(p)) for p in files]
    return [(p, i) for p, i in ids if i is not None]


def successor(path: Path, current: FileId) -> tuple[Path, FileId] | None:
    """The file written after `current`: the next in the chain, or the current file when
    `current` is no longer in it (deleted); None if `current` is the newest."""
    files = chain(path)
    ids = [file_id for _, file_id in files]
    if current in ids:
        index = ids.index(current)
        return files[index + 1] if index + 1 < len(files) else None
    return files[-1] if files and files[-1][0] == path else None


def open_matching(candidate: Path, want: FileId | None, head: str, min_size: int) -> int | None:
    """An fd on `candidate` if it is the file wanted: same identity (when given), same head
    and at least `min_size` bytes; otherwise None. Checked on the fd, so a rename in between
    cannot fool it."""
    try:
        fd = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        ok = (
            stat.S_ISREG(st.st_mode)
            and (want is None or FileId.of(st) == want)
            and st.st_size >= min_size
            and head_matches(head, head_of(fd))
        )
    except OSError:
        ok = False
    if not ok:
        os.close(fd)
        return None
    return fd


def find_rotated(path: Path, want: FileId, head: str, offset: int) -> int | None:
    """An fd on the rotated sibling that is `want` (renamed), newest first; failing that,
    on the copy copytruncate made of it. A saved head "" identifies nothing by itself."""
    for candidate in reversed(rotated_siblings(path)):
        fd = open_matching(candidate, want, head, offset)
        if fd is not None:
            return fd
    return find_copy(path, head, offset) if head else None


def find_copy(path: Path, head: str, offset: int) -> int | None:
    """An fd on the newest sibling with this head and at least `offset` bytes: the copy
    copytruncate made of the file we were reading, holding what we had not read yet."""
    for candidate in reversed(rotated_siblings(path)):
        fd = open_matching(candidate, None, head, offset)
        if fd is not None:
            return fd
    return None
