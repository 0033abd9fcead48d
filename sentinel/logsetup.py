"""Diagnostics on stderr: plain under journald (it stamps lines itself), or JSON lines."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from sentinel.textsafe import neutral


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    """One line per record, control characters neutralised (log lines may quote input)."""

    def __init__(self, *, timestamps: bool) -> None:
        fmt = "%(asctime)s %(levelname)s %(message)s" if timestamps else "%(levelname)s %(message)s"
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return neutral(text, limit=4000) if "\n" not in text or record.exc_info is None else text


def setup_logging(log_format: str | None, level: str = "info") -> None:
    """`--log-format json` for log shippers; no timestamps when journald reads stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        under_journald = bool(os.environ.get("JOURNAL_STREAM"))
        handler.setFormatter(PlainFormatter(timestamps=not under_journald))
    root = logging.getLogger("sentinel")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
