"""A posture finding: one insecure server setting and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from sentinel.alerts import Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One insecure setting: what it is, why it matters, what to change."""

    setting: str  # the key, with its scope where it has one ("Match User x: ...")
    problem: str
    fix: str
    severity: Severity = Severity.WARNING
    where: str = ""  # the file it comes from, when an Include brought it in
