"""Alerts for people: one neutralised line per alert, from the alert record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from sentinel.textsafe import neutral

HEADER = f"{'LAST SEEN':<25}  {'SEVERITY':<8}  {'STATUS':<6}  {'RULE':<25}  SUMMARY"


def _seconds(stamp: str) -> str:
    """ISO 8601 without the fraction of a second, which a person does not need."""
    head, dot, rest = stamp.partition(".")
    if not dot:
        return stamp
    offset = rest.lstrip("0123456789")
    return head + offset


def alert_line(record: Mapping[str, Any]) -> str:
    """`last_seen  SEVERITY  status  rule  summary`, every field neutralised for a terminal."""
    return (
        f"{neutral(_seconds(str(record.get('last_seen', ''))), 25):<25}  "
        f"{neutral(str(record.get('severity', '')).upper(), 8):<8}  "
        f"{neutral(str(record.get('status', 'open')), 6):<6}  "
        f"{neutral(str(record.get('rule', '')), 25):<25}  "
        f"{neutral(str(record.get('summary', '')), 400)}"
    )


class AlertTable:
    """Writes the header before the first alert, then one line per alert."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.rows = 0

    def write(self, record: Mapping[str, Any]) -> None:
        if self.rows == 0:
            self.stream.write(HEADER + "\n")
        self.rows += 1
        self.stream.write(alert_line(record) + "\n")
