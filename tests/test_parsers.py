"""Every annotated sample log (tests/samples/<format>[.variant].log) parses as annotated.

A sample file starts with `# sample: {"format": ..., "tz": ..., "reference": ...}`; then
each log line is preceded by `# <expected event as JSON>` or `# null`. `## ` lines are
comments. A new format is a parser plus a sample file: no new test code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sentinel.events import Event
from sentinel.parsers import PARSERS, detect_format
from sentinel.parsers.context import ParseContext

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.log"))
DEFAULTS = {"anonymous": False, "ok": True, "times": 1}
FIELDS = (
    *("user", "ip", "anonymous", "path", "nbytes", "direction"),
    *("session", "ok", "action", "detail", "times"),
)


@dataclass(frozen=True)
class Sample:
    fmt: str
    ctx: ParseContext
    cases: list[tuple[int, str, dict[str, Any] | None]]  # line number, line, expected


def load(path: Path) -> Sample:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# sample: "), f"{path.name}: no header"
    header = json.loads(lines[0][len("# sample: ") :])
    ctx = ParseContext(
        header["format"], ZoneInfo(header["tz"]), datetime.fromisoformat(header["reference"])
    )
    cases = []
    expected: Any = ...
    for number, line in enumerate(lines[1:], 2):
        if line.startswith("## "):
            continue
        if line.startswith("# "):
            assert expected is ..., f"{path.name}:{number}: two annotations in a row"
            expected = json.loads(line[2:])
            continue
        assert expected is not ..., f"{path.name}:{number}: line without annotation"
        cases.append((number, line, expected))
        expected = ...
    return Sample(header["format"], ctx, cases)


def as_dict(event: Event | None) -> dict[str, Any] | None:
    """The event as annotated: ts and kind, then the fields that differ from their default."""
    if event is None:
        return None
    found: dict[str, Any] = {"ts": event.ts.isoformat(), "kind": event.kind.value}
    for name in FIELDS:
        value = getattr(event, name)
        if value != DEFAULTS.get(name):
            found[name] = getattr(value, "value", value)
    return found


def test_every_format_has_a_sample() -> None:
    formats = {load(path).fmt for path in SAMPLE_FILES}
    assert formats == set(PARSERS)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_parses_as_annotated(path: Path) -> None:
    sample = load(path)
    parse = PARSERS[sample.fmt]
    assert sample.cases, f"{path.name}: no lines"
    assert any(expected for _, _, expected in sample.cases), f"{path.name}: no events"
    for number, line, expected in sample.cases:
        event = parse(line, sample.ctx)
        assert as_dict(event) == expected, f"{path.name}:{number}: {line}"
        if event is not None:
            assert len(event) == len(Event._fields), f"{path.name}:{number}: {event!r}"
            assert event.source == sample.ctx.source
            assert event.ts.utcoffset() is not None


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_format_is_detected(path: Path) -> None:
    sample = load(path)
    assert detect_format([line for _, line, _ in sample.cases][:50]) == sample.fmt


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_lines_parse_alike_with_line_endings(path: Path) -> None:
    sample = load(path)
    parse = PARSERS[sample.fmt]
    for _, line, _ in sample.cases:
        plain = parse(line, sample.ctx)
        assert parse(line + "\n", sample.ctx) == plain
        assert parse(line + "\r\n", sample.ctx) == plain
