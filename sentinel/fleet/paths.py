"""The files of a source: its one path, or what its pattern (globs, `{server}`) matches now.

A pattern source is followed file by file: each file has its own position in the store, keyed
`name:path` (a plain source keeps its name as key, as before a fleet), its own rotations, and
the server its `{server}` component names. Rotated siblings (`auth.log.1`) are not files of
the source: the pattern should name the live file only, as rsyslog writes it.
"""

from __future__ import annotations

import glob
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from sentinel.config.model import Config, SourceConfig
from sentinel.fleet import SERVER

log = logging.getLogger("sentinel.sources")
MAX_FILES = 10_000  # files one pattern follows at most: bounded followers and store rows
_SERVER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,254}")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to follow (or one journal): its store key, path and server."""

    key: str
    path: Path | None
    server: str | None


def _regex(pattern: str) -> re.Pattern[str]:
    """`pattern` as a regular expression matching within path components, `{server}` captured."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith(SERVER, i):
            out.append(r"(?P<server>[^/]+)")
            i += len(SERVER)
            continue
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := pattern.find("]", i + 2)) > 0:
            body = pattern[i + 1 : end]
            negate = body[0] in "!^"
            out.append("[" + ("^" if negate else "") + re.escape(body[negate:]) + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out))


class PathPattern:
    """What one source's path matches; `match` also says which server a path belongs to."""

    def __init__(self, source: SourceConfig) -> None:
        assert source.path is not None
        self.source = source
        text = str(source.path)
        self.glob = text.replace(SERVER, "*")
        self.regex = _regex(text)
        self._refused: set[str] = set()

    def match(self, path: str) -> tuple[bool, str | None]:
        """(whether `path` is a file of the source, the server it names)."""
        found = self.regex.fullmatch(path)
        if found is None:
            return False, None
        server = found.groupdict().get("server")
        if server is not None and not _SERVER_NAME.fullmatch(server):
            if path not in self._refused and len(self._refused) < MAX_FILES:
                self._refused.add(path)
                log.warning("%s: %r is not a server name; file not followed", path, server)
            return False, None
        return True, server or self.source.server

    def files(self) -> list[SourceFile]:
        """The regular files the pattern matches now, sorted, at most MAX_FILES."""
        found = []
        for path in sorted(glob.glob(self.glob)):  # noqa: PTH207 (Path.glob takes no absolute pattern)
            ok, server = self.match(path)
            if ok and Path(path).is_file():
                found.append(SourceFile(f"{self.source.name}:{path}", Path(path), server))
                if len(found) >= MAX_FILES:
                    log.warning(
                        "%s: more than %d files; the rest not followed", self.glob, MAX_FILES
                    )
                    break
        return found


def source_files(source: SourceConfig) -> list[SourceFile]:
    """The files of a source now: its path, or its pattern's matches."""
    if not source.many:
        return [SourceFile(source.name, source.path, source.server)]
    return PathPattern(source).files()


_ROTATED = re.compile(r"(\.\d+|-\d{8})?(\.gz)?$")


def fleet_source(config: Config, path: Path) -> tuple[SourceConfig | None, str | None]:
    """The pattern source a replayed file (or a rotated copy of one) belongs to, and its server."""
    text = str(path.absolute())
    candidates = [text, _ROTATED.sub("", text, count=1)]
    for source in config.sources:
        if not source.many:
            continue
        pattern = PathPattern(source)
        for candidate in candidates:
            ok, server = pattern.match(candidate)
            if ok:
                return source, server
    return None, None
