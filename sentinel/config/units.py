"""Durations ("30s", "1h30m", "7d") and sizes ("500MB", "1GiB"): parsing and display.

Durations need a unit on every number: a bare `10` could mean seconds or minutes, and a
window off by a factor of 60 is a silent detection failure. Units: s, m, h, d, w (lower
case), combined largest first or not ("1h30m"). Sizes may be a bare integer,
which is a count of bytes. Size units are case-insensitive: k, M, G, T are powers of
1000, Ki, Mi, Gi, Ti powers of 1024; a trailing `B` is optional ("10M" is 10 MB).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(?:\d{1,9}[smhdw])+")
_DURATION_PART = re.compile(r"(\d{1,9})([smhdw])")
MAX_DURATION = timedelta(days=3650)  # beyond ten years a window is a typo

SIZE_UNITS = {
    "": 1,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "t": 1000**4,
    "ki": 1 << 10,
    "mi": 1 << 20,
    "gi": 1 << 30,
    "ti": 1 << 40,
}
_SIZE = re.compile(r"(\d{1,19}(?:\.\d{1,6})?)\s?([kmgt]i?)?b?", re.IGNORECASE)
MAX_SIZE = 1 << 60

DURATION_HINT = "use 30s, 10m, 1h, 7d or 1h30m"
SIZE_HINT = "use 500MB, 64MiB or 1GiB"


def parse_duration(text: str) -> timedelta:
    """'10m' -> 10 minutes. Raises ValueError with a hint on anything else."""
    compact = text.strip()  # lower case only: "5M" might be read as five months
    if not _DURATION.fullmatch(compact):
        raise ValueError(f"invalid duration {text!r} ({DURATION_HINT})")
    seconds = sum(int(n) * DURATION_UNITS[u] for n, u in _DURATION_PART.findall(compact))
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {text!r} is longer than ten years")
    return timedelta(seconds=seconds)


def parse_size(text: str) -> int:
    """'1GiB' -> 1073741824. Raises ValueError with a hint on anything else."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid size {text!r} ({SIZE_HINT})")
    number, unit = match.groups()
    try:
        value = Decimal(number) * SIZE_UNITS[(unit or "").lower()]
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError(f"invalid size {text!r} ({SIZE_HINT})") from None
    if value != value.to_integral_value():
        raise ValueError(f"size {text!r} is not a whole number of bytes")
    if value > MAX_SIZE:
        raise ValueError(f"size {text!r} is too large")
    return int(value)


def format_duration(delta: timedelta) -> str:
    """The shortest spelling parse_duration reads back: 5400 s -> '1h30m'."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, DURATION_UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def format_size(size: int) -> str:
    """Exact when possible: 1073741824 -> '1GiB', 500000000 -> '500MB', 1234 -> '1234B'."""
    for unit in ("TiB", "GiB", "MiB", "KiB", "TB", "GB", "MB", "kB"):
        factor = SIZE_UNITS[unit[:-1].lower()]
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"
