"""Neutralise attacker-controlled text (user names, paths) before a person reads it."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MAX_FIELD = 120


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutral(text: str, limit: int = MAX_FIELD) -> str:
    """Escape control, bidi and line-breaking characters; cut overly long values."""
    cleaned = _UNSAFE.sub(_escape, text)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned
