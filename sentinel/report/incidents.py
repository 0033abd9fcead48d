"""Alert records to incidents: one per incident, with its last extent, most severe first.

An incident is recognised by its `fingerprint` and `first_seen` (SPEC: every record of one
incident shares both), so a store holding its `open`, `update` and `closed` records, or a
replay printing one record each, give the same incidents. Fields that a record may lack
(`status`, `files`, `files_total`, `servers`) are read when present and otherwise derived
from what is there (`path`, `ip`), never invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sentinel.alerts import Alert
from sentinel.textsafe import neutral

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
TRANSFER_RULES = frozenset({"anonymous_access", "bulk_download"})  # their `path` is a transfer
MAX_FILES_SHOWN = 100  # the SPEC cap of `files`; a record from elsewhere is cut here too


class Incident(NamedTuple):
    """One incident as the report shows it (every string neutralised).

    A NamedTuple rather than a frozen dataclass, as Event: built in C, and a report of a
    long log builds one per incident (85,000 for bench/'s 1M-line log).
    """

    rule: str
    severity: str
    summary: str
    fingerprint: str
    first_seen: datetime
    last_seen: datetime
    users: tuple[str, ...]
    ips: tuple[str, ...]
    servers: tuple[str, ...]
    events: int | None  # the record's count
    nbytes: int | None
    files: tuple[str, ...]  # paths transferred, as the server logged them (capped)
    files_total: int | None  # None: the record does not say
    path: str | None  # the file a file rule names (stale, exposed, personal data)
    status: str | None  # open | update | closed, when the record says
    ongoing: str  # "yes", "no" or "possibly" (no status: last seen within the window's end)
    first_t: float  # first_seen and last_seen in epoch seconds, computed once
    last_t: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_t - self.first_t)


def _text(value: object, limit: int = 400) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text  # what neutral() returns for it, without its regular expression
    return neutral(text, limit)


def _strings(values: Iterable[object]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for value in values:
        if value is not None:
            found[_text(value, 200)] = None
    return tuple(found)


def _when(record: Mapping[str, Any], key: str) -> datetime | None:
    try:
        return datetime.fromisoformat(str(record[key]))
    except (KeyError, ValueError):
        return None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


Record = Mapping[str, Any] | Alert  # a record as stored (a dict) or as the pipeline made it


def _key(record: Record) -> tuple[str, object]:
    if isinstance(record, Alert):
        return record.fingerprint, record.first_seen
    first = _when(record, "first_seen")
    return str(record.get("fingerprint", "")), first or str(record.get("first_seen", ""))


def latest_per_incident(records: Iterable[Record]) -> list[Record]:
    """The last record of each incident (records in the order they were written)."""
    last: dict[tuple[str, object], Record] = {}
    for record in records:
        key = _key(record)
        last.pop(key, None)  # re-inserted: the dict keeps the order of each incident's end
        last[key] = record
    return list(last.values())


def _ongoing(
    status: str | None, last: float, rule: str, end: float | None, windows: Mapping[str, float]
) -> str:
    if status is not None:
        return "no" if status == "closed" else "yes"
    if end is not None and last >= end - windows.get(rule, 0.0):
        return "possibly"
    return "no"


def from_alert(alert: Alert, end: float | None, windows: Mapping[str, float]) -> Incident:
    """`to_incident` of an Alert as the pipeline made it (fields neutralised already), without
    the detour through its dict. Reads `status`, `files`, `files_total` and `servers` once
    the Alert has them (SPEC's record), as `to_incident` reads them from a dict."""
    rule = alert.rule
    status = getattr(alert, "status", None)
    status = status if status in ("open", "update", "closed") else None
    listed = getattr(alert, "files", None)
    if listed is not None:
        files: tuple[str, ...] = tuple(listed)[:MAX_FILES_SHOWN]
        total = getattr(alert, "files_total", None)
        files_total: int | None = total if isinstance(total, int) else len(files)
    else:
        path = alert.path if rule in TRANSFER_RULES else None
        files, files_total = ((path,) if path is not None else ()), None
    users = (alert.user, *(alert.users or ()), *alert.details.get("users", ()))
    servers = getattr(alert, "servers", None) or (alert.server,)
    last_t = alert.last_seen.timestamp()
    return Incident(
        rule=rule,
        severity=alert.severity.label,
        summary=alert.summary,
        fingerprint=alert.fingerprint,
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        users=_strings(users) if len(users) > 1 else ((alert.user,) if alert.user else ()),
        ips=alert.ips or ((alert.ip,) if alert.ip is not None else ()),
        servers=tuple(servers),
        events=alert.count,
        nbytes=alert.nbytes,
        files=files,
        files_total=files_total,
        path=alert.path if rule not in TRANSFER_RULES else None,
        status=status,
        ongoing=_ongoing(status, last_t, rule, end, windows),
        first_t=alert.first_seen.timestamp(),
        last_t=last_t,
    )


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
    if isinstance(record.get("users"), list):  # an incident's record (SPEC)
        users += record["users"]
    if isinstance(details, dict) and isinstance(details.get("users"), list):
        users += details["users"]
    listed_ips = record.get("ips")
    ips = listed_ips if isinstance(listed_ips, list) else [record.get("ip")]
    listed_servers = record.get("servers")
    servers = listed_servers if isinstance(listed_servers, list) else [record.get("server")]
    files, files_total = _files(record, rule)
    status = record.get("status")
    status = status if status in ("open", "update", "closed") else None
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
        events=_integer(record.get("count")),
        nbytes=_integer(record.get("bytes")),
        files=files,
        files_total=files_total,
        path=_text(path) if isinstance(path, str) and rule not in TRANSFER_RULES else None,
        status=status,
        ongoing=_ongoing(status, last.timestamp(), rule, end, windows),
        first_t=first.timestamp(),
        last_t=last.timestamp(),
    )


def incidents(
    records: Iterable[Record], end: float | None, windows: Mapping[str, float]
) -> list[Incident]:
    """Every incident once, most severe first, then the earliest first."""
    found = [
        from_alert(r, end, windows) if isinstance(r, Alert) else to_incident(r, end, windows)
        for r in latest_per_incident(records)
    ]
    return sorted(
        (i for i in found if i is not None),
        key=lambda i: (SEVERITY_RANK.get(i.severity, 3), i.first_t, i.rule),
    )


def rule_windows(rules: Mapping[str, Any]) -> dict[str, float]:
    """Seconds of each rule's window (an incident is over once that passed without events)."""
    found = {}
    for name, settings in rules.items():
        window = getattr(settings, "window", None) or getattr(settings, "after", None)
        if window is not None:
            found[name] = window.total_seconds()
    return found
