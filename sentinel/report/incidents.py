"""Alert records to incidents: one per incident, with its last extent, most severe first.

An incident is recognised by its `fingerprint` and `first_seen` (SPEC: every record of one
incident shares both), so a store holding its `open`, `update` and `closed` records, or a
replay printing one record each, give the same incidents. Fields that a record may lack
(`status`, `files`, `files_total`, `servers`) are read when present and otherwise derived
from what is there (`path`, `ip`), never invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentinel.textsafe import neutral

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
TRANSFER_RULES = frozenset({"anonymous_access", "bulk_download"})  # their `path` is a transfer
MAX_FILES_SHOWN = 100  # the SPEC cap of `files`; a record from elsewhere is cut here too


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as the report shows it (every string neutralised)."""

    rule: str
    severity: str
    summary: str
    fingerprint: str
    first_seen: datetime
    last_seen: datetime
    users: tuple[str, ...]
    ips: tuple[str, ...]
    servers: tuple[str, ...]
    count: int | None
    nbytes: int | None
    files: tuple[str, ...]  # paths transferred, as the server logged them (capped)
    files_total: int | None  # None: the record does not say
    path: str | None  # the file a file rule names (stale, exposed, personal data)
    status: str | None  # open | update | closed, when the record says
    ongoing: str  # "yes", "no" or "possibly" (no status: last seen within the window's end)

    @property
    def seconds(self) -> float:
        return max(0.0, (self.last_seen - self.first_seen).total_seconds())


def _text(value: object, limit: int = 400) -> str:
    return neutral(str(value), limit)


def _strings(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_text(v, 200) for v in values if v is not None))


def _when(record: Mapping[str, Any], key: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record[key]))
    except (KeyError, ValueError):
        return None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def latest_per_incident(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The last record of each incident (records in the order they were written)."""
    last: dict[tuple[str, str], Mapping[str, Any]] = {}
    for record in records:
        key = (str(record.get("fingerprint", "")), str(record.get("first_seen", "")))
        last.pop(key, None)  # re-inserted: the dict keeps the order of each incident's end
        last[key] = record
    return list(last.values())


def _files(record: Mapping[str, Any], rule: str) -> tuple[tuple[str, ...], int | None]:
    listed = record.get("files")
    if isinstance(listed, list):
        files = _strings(listed)[:MAX_FILES_SHOWN]
        total = _integer(record.get("files_total"))
        return files, total if total is not None else len(files)
    path = record.get("path")
    if rule in TRANSFER_RULES and isinstance(path, str):
        return (_text(path),), None  # the record names one file; how many more it cannot say
    return (), _integer(record.get("files_total"))


def to_incident(
    record: Mapping[str, Any], end: float | None, windows: Mapping[str, float]
) -> Incident | None:
    """The report's view of one record; None for a record without its required fields.

    `end` (epoch seconds) is where the input stops; an incident without a status that was
    seen within its rule's window of `end` is "possibly" still going on.
    """
    first, last = _when(record, "first_seen"), _when(record, "last_seen")
    rule = record.get("rule")
    if first is None or last is None or not isinstance(rule, str):
        return None
    rule = _text(rule, 64)
    details = record.get("details")
    users = [record.get("user")]
    if isinstance(details, dict) and isinstance(details.get("users"), list):
        users += details["users"]
    listed_ips = record.get("ips")
    ips = listed_ips if isinstance(listed_ips, list) else [record.get("ip")]
    listed_servers = record.get("servers")
    servers = listed_servers if isinstance(listed_servers, list) else [record.get("server")]
    files, files_total = _files(record, rule)
    status = record.get("status")
    status = status if status in ("open", "update", "closed") else None
    if status is not None:
        ongoing = "no" if status == "closed" else "yes"
    elif end is not None and last.timestamp() >= end - windows.get(rule, 0.0):
        ongoing = "possibly"
    else:
        ongoing = "no"
    path = record.get("path")
    return Incident(
        rule=rule,
        severity=str(record.get("severity", "info")),
        summary=_text(record.get("summary", "")),
        fingerprint=_text(record.get("fingerprint", ""), 64),
        first_seen=first,
        last_seen=last,
        users=_strings(users),
        ips=_strings(ips),
        servers=_strings(servers),
        count=_integer(record.get("count")),
        nbytes=_integer(record.get("bytes")),
        files=files,
        files_total=files_total,
        path=_text(path) if isinstance(path, str) and rule not in TRANSFER_RULES else None,
        status=status,
        ongoing=ongoing,
    )


def incidents(
    records: Iterable[Mapping[str, Any]], end: float | None, windows: Mapping[str, float]
) -> list[Incident]:
    """Every incident once, most severe first, then the earliest first."""
    found = [to_incident(r, end, windows) for r in latest_per_incident(records)]
    return sorted(
        (i for i in found if i is not None),
        key=lambda i: (SEVERITY_RANK.get(i.severity, 3), i.first_seen.timestamp(), i.rule),
    )


def rule_windows(rules: Mapping[str, Any]) -> dict[str, float]:
    """Seconds of each rule's window (an incident is over once that passed without events)."""
    found = {}
    for name, settings in rules.items():
        window = getattr(settings, "window", None) or getattr(settings, "after", None)
        if window is not None:
            found[name] = window.total_seconds()
    return found
