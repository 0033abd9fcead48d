"""Plain counters the pipeline keeps per source; the metrics module reads them at scrape."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SourceStats:
    """Counters of one source. Written by the pipeline's thread only; read by scrapes."""

    lines: int = 0
    unparsed: int = 0
    invalid_utf8: int = 0
    oversized: int = 0
    logins: dict[tuple[str, str], int] = field(default_factory=dict)  # (result, anonymous)
    transfers: dict[str, int] = field(default_factory=dict)  # direction -> count
    transfer_bytes: dict[str, int] = field(default_factory=dict)  # direction -> bytes
    duplicates: int = 0  # events already seen through another source (vsftpd log + xferlog)
    counted_before: int = 0  # sshd lines whose attempts were already counted (sentinel/attempts)
    rotations: int = 0  # files the follower moved on to (rename, copytruncate, recreate)
    cut_lines: int = 0  # lines longer than the follower's cap, cut
    read_errors: int = 0
    last_event: float = 0.0  # event time (epoch seconds) of the newest event
    # lines with an event per hour of event time (epoch // 3600): kept by the report's
    # pipeline only (sentinel.report.gather), so that replay and the daemon never pay it
    hourly: dict[int, int] = field(default_factory=dict)
    first_event: float = 0.0  # event time of the oldest event; also the report's only
