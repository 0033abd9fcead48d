"""The alert record of SPEC: one JSON object, wherever it goes."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sentinel.textsafe import MAX_FIELD, neutral


class Severity(enum.IntEnum):
    INFO = 10
    WARNING = 20
    CRITICAL = 30

    @property
    def label(self) -> str:
        return _LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (info, warning, critical)") from None


_LABELS = {severity: severity.name.lower() for severity in Severity}


def fingerprint(server: str, rule: str, subject: str) -> str:
    """Stable identity of an incident: the same rule on the same subject on one server."""
    digest = hashlib.sha256(f"{server}\x00{rule}\x00{subject}".encode()).hexdigest()
    return digest[:20]


OPEN, UPDATE, CLOSED = "open", "update", "closed"
STATUSES = (OPEN, UPDATE, CLOSED)  # an incident's records, in the order of its life


@dataclass(slots=True, unsafe_hash=True)
class Alert:
    """One record of an incident. Free-text fields are neutralised when the alert is made.

    Never changed once made (a changed copy is `dataclasses.replace`'s), though not
    `frozen`: a frozen dataclass sets each of its 23 fields through `object.__setattr__`,
    which made an alert cost 48k instructions against 19k, and every incident makes two.
    Hashed and compared as a frozen one would be (`unsafe_hash`).

    `status` says where the incident stands (open, update, closed); `count`, `nbytes`,
    `ips`, `users`, `files` cover it so far, with their exact totals beside the capped
    lists. `subject` is what the rule keyed the incident by (the fingerprint's input):
    the incident tracker's handle, never written out.
    """

    rule: str
    severity: Severity
    summary: str
    fingerprint: str
    first_seen: datetime
    last_seen: datetime
    server: str
    source: str | None = None
    user: str | None = None
    ip: str | None = None
    ips: tuple[str, ...] | None = None
    path: str | None = None
    count: int | None = None
    nbytes: int | None = None
    details: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    status: str = OPEN
    ips_total: int | None = None
    users: tuple[str, ...] | None = None
    users_total: int | None = None
    files: tuple[str, ...] | None = None
    files_total: int | None = None
    subject: str = field(default="", hash=False, compare=False)
    servers: tuple[str, ...] | None = None  # an incident seen on several servers of a fleet

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.label,
            "status": self.status,
            "server": self.server,
        }
        if self.source is not None:
            record["source"] = self.source
        if self.user is not None:
            record["user"] = self.user
        if self.ip is not None:
            record["ip"] = self.ip
        if self.ips is not None:
            record["ips"] = list(self.ips)
            if self.ips_total is not None:
                record["ips_total"] = self.ips_total
        if self.users is not None:
            record["users"] = list(self.users)
            if self.users_total is not None:
                record["users_total"] = self.users_total
        if self.path is not None:
            record["path"] = self.path
        first_seen = record["first_seen"] = self.first_seen.isoformat()
        # most single-event alerts carry one datetime twice: written once
        last = self.last_seen
        record["last_seen"] = first_seen if last is self.first_seen else last.isoformat()
        if self.count is not None:
            record["count"] = self.count
        if self.nbytes is not None:
            record["bytes"] = self.nbytes
        if self.files is not None:
            record["files"] = list(self.files)
            record["files_total"] = self.files_total
        record["summary"] = self.summary
        record["fingerprint"] = self.fingerprint
        record["details"] = self.details
        if self.servers is not None:
            record["servers"] = list(self.servers)
        return record

    def with_status(self, status: str) -> Alert:
        """This record with another status (what `dataclasses.replace` makes, positionally:
        see make_alert)."""
        return Alert(
            self.rule, self.severity, self.summary, self.fingerprint, self.first_seen,
            self.last_seen, self.server, self.source, self.user, self.ip, self.ips, self.path,
            self.count, self.nbytes, self.details, status, self.ips_total, self.users,
            self.users_total, self.files, self.files_total, self.subject, self.servers,
        )  # fmt: skip

    def to_json(self) -> str:
        return _ENCODER.encode(self.to_dict())


# what json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) would build each time
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def make_alert(
    *,
    rule: str,
    severity: Severity,
    server: str,
    subject: str,
    summary: str,
    first_seen: datetime,
    last_seen: datetime,
    source: str | None = None,
    user: str | None = None,
    ip: str | None = None,
    ips: tuple[str, ...] | None = None,
    path: str | None = None,
    count: int | None = None,
    nbytes: int | None = None,
    details: dict[str, Any] | None = None,
    files: tuple[str, ...] | None = None,
    origin: str | None = None,
    servers: tuple[str, ...] | None = None,
) -> Alert:
    """Build an alert, neutralising every attacker-controlled string on the way in.

    `server` is this sentinel's (the fingerprint's); `origin`, where given, the fleet's server
    that logged the events, which the record's `server` names; `servers`, where several did.
    """
    # positional, in the order of the fields (tests/test_incidents.py checks it): the 23
    # keywords cost as much again as the alert itself, on every incident
    return Alert(
        rule,
        severity,
        safe_text(summary, 400),
        fingerprint(server, rule, subject),
        first_seen,
        last_seen,
        safe_text(origin or server, MAX_FIELD),  # server
        source,
        safe_text(user, MAX_FIELD) if user is not None else None,  # user
        ip,
        ips,
        safe_text(path, 400) if path is not None else None,  # path
        count,
        nbytes,
        details or {},
        OPEN,  # status
        None,  # ips_total
        None,  # users
        None,  # users_total
        tuple(safe_text(f, 400) for f in files) if files is not None else None,  # files
        len(files) if files is not None else None,  # files_total
        subject,
        tuple(safe_text(name, MAX_FIELD) for name in servers) if servers else None,  # servers
    )


def safe_text(text: str, limit: int) -> str:
    """`neutral(text, limit)`, without its regular expression for short printable ASCII."""
    if len(text) <= limit and text.isascii() and text.isprintable():
        return text  # nothing to escape nor to cut
    return neutral(text, limit)


def human_size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
