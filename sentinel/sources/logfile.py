"""Opening existing log files for replay: plain or gzip, with the context to parse them."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
HEAD_LINES = 50
CHUNK = 1 << 20  # bytes read at a time by `chunks`


def open_log(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip (by content, not by name)."""
    raw = path.open("rb")
    try:
        magic = raw.read(2)
        raw.seek(0)
    except OSError:
        raw.close()
        raise
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def head_lines(path: Path, count: int = HEAD_LINES) -> list[str]:
    """The first lines of a log, decoded leniently, for format detection."""
    lines: list[str] = []
    with open_log(path) as stream:
        for raw in stream:
            lines.append(raw.decode(errors="replace").rstrip("\r\n"))
            if len(lines) >= count:
                break
    return lines


def reference_time(path: Path, tz: tzinfo) -> datetime:
    """The file's modification time: year-less timestamps take their year from it."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=tz)


def chunks(stream: BinaryIO, size: int = CHUNK) -> Iterator[bytes]:
    """The stream's bytes in whole lines, about `size` at a time (the last may lack a newline)."""
    pending: list[bytes] = []  # the start of a line not ended yet
    while block := stream.read(size):
        end = block.rfind(b"\n") + 1
        if not end:
            pending.append(block)  # a line longer than a block: gathered, as reading by lines would
            continue
        yield b"".join([*pending, block[:end]]) if pending else block[:end]
        pending = [block[end:]] if end < len(block) else []
    if pending:
        yield b"".join(pending)
