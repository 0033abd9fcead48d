"""Looks inside a file for personal data: streamed in chunks, through .gz and .zip members.

Results hold counts and masked samples only, never an identifier, and are cached by
(device, inode, size, mtime) so an unchanged file is read once.
"""

from __future__ import annotations

import gzip
import io
import itertools
import os
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sentinel.files import encryption
from sentinel.files.cache import CacheKey, InspectionCache, cache_key
from sentinel.files.identifiers import (
    KINDS,
    MAX_MATCH,
    STRONG,
    WEAK,
    DistinctIds,
    Validator,
    count_identifiers,
    may_hold,
)

__all__ = [  # the cache lives in sentinel.files.cache; importable from here as before
    "CHUNK",
    "CLEAN",
    "CacheKey",
    "Inspection",
    "InspectionCache",
    "cache_key",
    "inspect_bytes",
    "inspect_fd",
    "inspect_open",
]

CHUNK = 1 << 20
WHOLE_READ = 1 << 20  # files up to this size are read in one call, not streamed
MAX_MEMBERS = 10_000  # zip members looked at; past that the archive counts as truncated
_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"
_7Z = b"7z\xbc\xaf\x27\x1c"
_TEXT_SNIFF = 8192


@dataclass(frozen=True, slots=True)
class Inspection:
    """What one file holds: counts per kind, one masked sample per kind, or why not read."""

    counts: dict[str, int] = field(default_factory=dict, hash=False)
    samples: dict[str, str] = field(default_factory=dict, hash=False)
    encrypted: str | None = None  # kind of encryption recognised (whole file)
    skipped: str | None = None  # "binary", "opaque", "unreadable": not looked into
    truncated: bool = False  # max_inspect_size reached before the end
    encrypted_members: int = 0

    @property
    def strong(self) -> int:
        return sum(self.counts.get(kind, 0) for kind in STRONG)

    @property
    def weak(self) -> int:
        return sum(self.counts.get(kind, 0) for kind in WEAK)


CLEAN = Inspection()  # read through, nothing found


class _Tally:
    """Accumulates counts and first masked samples while a file streams past."""

    def __init__(self, budget: int, distinct: DistinctIds | None = None) -> None:
        self.distinct = distinct
        self.counts = dict.fromkeys(KINDS, 0)
        self.samples: dict[str, str] = {}
        self.budget = budget
        self.truncated = False
        self.encrypted_members = 0
        self.validator = Validator()

    def feed(self, chunks: Iterable[bytes]) -> None:
        """Scans a stream; identifiers split across chunks are found in the carried tail."""
        pending, start = b"", 0  # start: first byte of `pending` not yet counted
        for chunk in self._capped(chunks):
            buffer = pending + chunk
            cut = len(buffer) - MAX_MATCH
            if cut <= start:
                pending = buffer
                continue
            self._count(buffer, start, cut)
            pending, start = buffer[cut - 1 :], 1  # one byte of context for lookbehinds
        if len(pending) > start:
            self._count(pending, start, len(pending))

    def _count(self, buffer: bytes, start: int, cut: int) -> None:
        count_identifiers(
            buffer, (start, cut), self.validator, self.counts, self.samples, distinct=self.distinct
        )

    def _capped(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if not chunk:
                continue
            if len(chunk) >= self.budget:
                self.truncated = self.truncated or len(chunk) > self.budget
                yield chunk[: self.budget]
                self.budget = 0
                return
            self.budget -= len(chunk)
            yield chunk

    def result(self, skipped: str | None = None) -> Inspection:
        counts = {kind: n for kind, n in self.counts.items() if n}
        if not (counts or skipped or self.truncated or self.encrypted_members):
            return CLEAN  # nearly every file: one shared, empty result
        return Inspection(
            counts=counts,
            samples=dict(self.samples),
            skipped=skipped,
            truncated=self.truncated,
            encrypted_members=self.encrypted_members,
        )


class _Stream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class _Prepended(io.RawIOBase):
    """A stream whose first bytes were already read: gives them back, then the rest."""

    def __init__(self, head: bytes, rest: _Stream) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _chunks(stream: _Stream, head: bytes) -> Iterator[bytes]:
    yield head
    yield from iter(lambda: stream.read(CHUNK), b"")


def _is_text(head: bytes) -> bool:
    return head.find(b"\x00", 0, _TEXT_SNIFF) < 0


def _seven_zip_header(stream: _Stream, head: bytes) -> bytes | None:
    """The next header of a 7z archive, where the AES coder shows when headers are encrypted."""
    if len(head) < 32:
        return None
    offset, size = struct.unpack_from("<QQ", head, 12)
    stream.seek(32 + offset)
    return stream.read(min(size, encryption.HEAD_SIZE))


def _inspect_stream(stream: _Stream, tally: _Tally, seekable: bool) -> str | None:
    """Feeds one stream to the tally; returns why it was skipped, or its encryption kind."""
    head = stream.read(encryption.HEAD_SIZE)
    tail = _seven_zip_header(stream, head) if seekable and head.startswith(_7Z) else None
    kind = encryption.classify(head, tail)
    if kind is not None:
        return kind
    if head.startswith(_GZIP):
        with gzip.GzipFile(fileobj=_Prepended(head, stream)) as inner:
            return _inspect_stream(inner, tally, seekable=False)
    if head.startswith(_ZIP) and seekable:
        stream.seek(0)
        return _inspect_zip(stream, tally)
    if _is_text(head):
        tally.feed(_chunks(stream, head))
        return None
    return "opaque" if encryption.looks_opaque(head) else "binary"


def _inspect_zip(stream: _Stream, tally: _Tally) -> str | None:
    with zipfile.ZipFile(stream) as archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        plain = [m for m in members if not m.flag_bits & 1]
        tally.encrypted_members += len(members) - len(plain)
        if members and not plain:
            return "zip-encrypted"
        tally.truncated = tally.truncated or len(plain) > MAX_MEMBERS
        for member in itertools.islice(plain, MAX_MEMBERS):
            if tally.budget <= 0:
                tally.truncated = True
                break
            with archive.open(member) as inner:
                _inspect_stream(inner, tally, seekable=False)
    return None


_UNREADABLE = (OSError, EOFError, zlib.error, zipfile.BadZipFile, ValueError, struct.error)


def _outcome(tally: _Tally, outcome: str | None) -> Inspection:
    if outcome in ("binary", "opaque"):
        return tally.result(skipped=outcome)
    if outcome is not None:
        return Inspection(encrypted=outcome)
    return tally.result()


def inspect_fd(fd: int, max_size: int, distinct: DistinctIds | None = None) -> Inspection:
    """Inspects an open file (the caller opened it safely); reads at most `max_size` bytes.
    `distinct`, when given, learns the keyed hash of every identifier found."""
    tally = _Tally(max_size, distinct)
    with open(fd, "rb", closefd=False) as stream:
        try:
            outcome = _inspect_stream(stream, tally, seekable=True)
        except _UNREADABLE:
            return tally.result(skipped="unreadable")
    return _outcome(tally, outcome)


def inspect_open(
    fd: int, size: int, max_size: int, distinct: DistinctIds | None = None
) -> Inspection:
    """`inspect_fd` on a file of `size` bytes (its fstat): one read when it is small."""
    if size > WHOLE_READ:
        return inspect_fd(fd, max_size, distinct)
    try:
        data = os.read(fd, size + 1)
    except OSError:
        return Inspection(skipped="unreadable")
    if len(data) > size:  # grown since its fstat: read it as a stream, to its end
        os.lseek(fd, 0, os.SEEK_SET)
        return inspect_fd(fd, max_size, distinct)
    return _inspect_whole(data, max_size, distinct)


def _inspect_whole(data: bytes, max_size: int, distinct: DistinctIds | None) -> Inspection:
    """`inspect_fd`'s result for a whole file read at once."""
    if _plain_text(data):  # what _inspect_stream would conclude, without a stream
        if len(data) <= max_size and not may_hold(data):
            return CLEAN  # what the tally would find: nothing (most files)
        tally = _Tally(max_size, distinct)
        tally.feed((data,))
        return tally.result()
    tally = _Tally(max_size, distinct)
    try:
        outcome = _inspect_stream(io.BytesIO(data), tally, seekable=True)
    except _UNREADABLE:
        return tally.result(skipped="unreadable")
    return _outcome(tally, outcome)


def _plain_text(data: bytes) -> bool:
    """A whole file that is its own head: no archive, not encrypted, text (most files)."""
    return (
        len(data) <= encryption.HEAD_SIZE
        and not data.startswith((_GZIP, _ZIP, _7Z))
        and _is_text(data)
        and (not encryption.may_be_encrypted(data) or encryption.classify(data) is None)
    )


def inspect_bytes(data: bytes, max_size: int) -> Inspection:
    """Same as `inspect_fd`, on bytes already in memory (tests, watcher previews)."""
    tally = _Tally(max_size)
    return _outcome(tally, _inspect_stream(io.BytesIO(data), tally, seekable=True))
