"""unencrypted_personal_data and exposed_file alerts from one file's inspection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sentinel.alerts import Alert, Severity, make_alert
from sentinel.config.model import DirectoryConfig
from sentinel.files.scan import FileFact
from sentinel.rules.settings import ExposedFileSettings, UnencryptedPersonalDataSettings

if TYPE_CHECKING:  # the inspection machinery is imported only where files are inspected
    from sentinel.files.inspect import Inspection

WEAK_FACTOR = 10  # e-mail addresses and phone numbers weigh this much less than a NIR or IBAN
_NAMES = {"nir": "NIR", "iban": "IBAN", "email": "e-mail addresses", "phone": "phone numbers"}


@dataclass(frozen=True, slots=True)
class Scope:
    """Where and when a finding is made: the server, the configured directory, scan time."""

    server: str
    directory: DirectoryConfig
    now: datetime


def holds_personal_data(found: Inspection, min_matches: int) -> bool:
    """Enough valid identifiers that it is not one stray number."""
    return found.strong >= min_matches or found.weak >= WEAK_FACTOR * min_matches


def _kinds(found: Inspection) -> str:
    return ", ".join(f"{n} {_NAMES[k]}" for k, n in found.counts.items())


def _where(directory: DirectoryConfig, fact: FileFact) -> str:
    return str(directory.path / fact.rel)


def _stamp(fact: FileFact, now: datetime) -> datetime:
    return datetime.fromtimestamp(fact.mtime, tz=now.tzinfo)


def _details(directory: DirectoryConfig, found: Inspection) -> dict[str, object]:
    return {
        "directory": str(directory.path),
        "counts": dict(found.counts),
        "samples": dict(found.samples),  # masked: `2 95 10 ** *** *** 93`
        "truncated": found.truncated,
    }


def personal_data_alert(
    scope: Scope, fact: FileFact, found: Inspection, settings: UnencryptedPersonalDataSettings
) -> Alert | None:
    server, directory, now = scope.server, scope.directory, scope.now
    if not settings.enabled or not holds_personal_data(found, settings.min_matches):
        return None
    # Only e-mail addresses and phone numbers: personal, but not the health-record kind.
    severity = settings.severity if found.strong else min(settings.severity, Severity.WARNING)
    where = _where(directory, fact)
    partial = " (first part of the file)" if found.truncated else ""
    return make_alert(
        rule="unencrypted_personal_data",
        severity=severity,
        server=server,
        subject=where,
        summary=f"{where} holds personal data in clear text{partial}: {_kinds(found)}",
        first_seen=_stamp(fact, now),
        last_seen=_stamp(fact, now),
        path=where,
        count=found.strong + found.weak,
        nbytes=fact.size,
        details=_details(directory, found),
    )


def exposed_alert(
    scope: Scope, fact: FileFact, found: Inspection, settings: ExposedFileSettings, min_matches: int
) -> Alert | None:
    """Personal data in an anonymous zone (critical), or readable by every local account."""
    server, directory, now = scope.server, scope.directory, scope.now
    if not settings.enabled or not holds_personal_data(found, min_matches):
        return None
    where = _where(directory, fact)
    if directory.anonymous:
        severity, why = Severity.CRITICAL, "lies in an anonymous zone"
    elif fact.world_readable and fact.reachable:
        severity, why = settings.severity, f"is readable by everyone (mode {fact.mode & 0o777:o})"
    else:
        return None
    return make_alert(
        rule="exposed_file",
        severity=severity,
        server=server,
        subject=where,
        summary=f"{where} holds personal data and {why}: {_kinds(found)}",
        first_seen=_stamp(fact, now),
        last_seen=_stamp(fact, now),
        path=where,
        count=found.strong + found.weak,
        nbytes=fact.size,
        details=_details(directory, found) | {"mode": f"{fact.mode & 0o7777:04o}"},
    )


def writable_zone_alert(
    scope: Scope, writable: list[str], settings: ExposedFileSettings
) -> Alert | None:
    """An anonymous zone whose directories anyone on the host can write into."""
    server, directory, now = scope.server, scope.directory, scope.now
    if not settings.enabled or not directory.anonymous or not writable:
        return None
    where = str(directory.path)
    shown = ", ".join(w or "." for w in writable[:5])
    return make_alert(
        rule="exposed_file",
        severity=Severity.CRITICAL,
        server=server,
        subject=f"{where}\x00writable",
        summary=f"anonymous zone {where} is world-writable ({shown}): remove o+w (chmod o-w)",
        first_seen=now,
        last_seen=now,
        path=where,
        count=len(writable),
        details={"directory": where, "writable": writable[:20]},
    )
