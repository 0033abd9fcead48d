"""What the parsers' fast-path tests share: a context, and every line of every sample.

A parser that reads its common lines with one regular expression must give, for every
line, what its general path gives (tests/test_openssh_attempt.py, tests/test_vsftpd_common.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sentinel.parsers.context import ParseContext, Parser

SAMPLES = Path(__file__).parent / "samples"
PARIS = ZoneInfo("Europe/Paris")


def context(source: str) -> ParseContext:
    return ParseContext(source, PARIS, datetime(2026, 11, 23, 12, tzinfo=PARIS))


def sample_lines() -> Iterator[str]:
    """Every line of every file under tests/samples (captures, sources, scenarios)."""
    for path in sorted(SAMPLES.rglob("*")):
        if path.is_file():
            yield from path.read_text(encoding="utf-8", errors="replace").splitlines()


def agree(fast: Parser, general: Parser, ctx: ParseContext, line: str) -> None:
    """The same event, or the same None, both ways."""
    assert fast(line, ctx) == general(line, ctx), line


def agree_on(
    fast: Parser,
    general: Parser,
    ctx: ParseContext,
    lines: Iterable[str],
    *expressions: re.Pattern[str],
) -> list[int]:
    """`agree` on every line; how many lines each expression matched."""
    matched = [0] * len(expressions)
    for line in lines:
        agree(fast, general, ctx, line)
        for index, expression in enumerate(expressions):
            matched[index] += expression.fullmatch(line) is not None
    return matched


def captured(parts: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Each part of a line in its captured form (the first of its values)."""
    return {name: values[0] for name, values in parts.items()}


def one_or_two_changed(parts: dict[str, tuple[str, ...]]) -> Iterator[dict[str, str]]:
    """A line's parts (each its captured form first, then its variants), with one or two of
    them replaced by a variant in every way (a part paired with itself: one changed)."""
    forms = captured(parts)
    for first, second in itertools.combinations_with_replacement(list(parts), 2):
        for a, b in itertools.product(parts[first], parts[second]):
            yield {**forms, first: a, second: b}
