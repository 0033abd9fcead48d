"""What the parsers' fast-path tests share: a context, and every line of every sample.

A parser that reads its common lines with one regular expression must give, for every
line, what its general path gives (tests/test_openssh_attempt.py, tests/test_vsftpd_common.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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


def agree(fast: Parser, general: Parser, line: str, ctx: ParseContext) -> None:
    """The same event, or the same None, both ways."""
    assert fast(line, ctx) == general(line, ctx), line


def agree_on_samples(
    fast: Parser, general: Parser, ctx: ParseContext, *expressions: re.Pattern[str]
) -> list[int]:
    """`agree` on every sample line; how many lines each expression matched."""
    matched = [0] * len(expressions)
    for line in sample_lines():
        agree(fast, general, line, ctx)
        for index, expression in enumerate(expressions):
            matched[index] += expression.fullmatch(line) is not None
    return matched
