"""What the pipeline counts from a log: failed logins per (address, user), after the ledger."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sentinel.alerts import Alert
from sentinel.config.model import Config
from sentinel.events import Event, Kind
from sentinel.fleet.naming import named
from sentinel.parsers import PARSERS
from sentinel.parsers.context import ParseContext
from sentinel.pipeline import Pipeline


class FailureTally:
    """A rule that records every failed login it is fed (times over, as rules see them)."""

    name = "tally"
    kinds = frozenset({Kind.LOGIN_FAILURE})
    evictions = 0

    def __init__(self) -> None:
        self.failures: Counter[tuple[str | None, str | None]] = Counter()

    def feed(self, event: Event, t: float) -> Sequence[Alert]:
        self.failures[event.ip, event.user] += 1
        return ()

    def expire(self, now: float) -> None:
        pass

    def dump(self) -> Any:
        return {}

    def load(self, data: Any) -> None:
        pass


def failures_counted(
    lines: Sequence[str], fmt: str = "openssh", *, fleet: bool = False
) -> Counter[tuple[str | None, str | None]]:
    """Failed logins per (address, user) that the rules get from `lines`; with `fleet`,
    each line's server named by its syslog host, as a fleet's sentinel reads them."""
    tally = FailureTally()
    pipeline = Pipeline(Config(server_name="test", timezone=UTC), [tally])
    ctx = ParseContext(fmt, UTC, datetime(2026, 12, 31, tzinfo=UTC))
    parse = named(PARSERS[fmt], None, from_host=True) if fleet else PARSERS[fmt]
    pipeline.process_chunk(
        "".join(f"{line}\n" for line in lines).encode(), parse, ctx, pipeline.stats_for(fmt)
    )
    return tally.failures


def log_failures(path: Path) -> Counter[tuple[str | None, str | None]]:
    return failures_counted(path.read_text(encoding="utf-8").splitlines())
