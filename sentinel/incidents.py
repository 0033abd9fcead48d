"""Incidents over their whole life: the one tracker between the rules and the sinks.

A rule says when an incident opens (the alert its `feed` returns) and which of its
incidents an event adds to (`adds`); this tracker keeps every open incident's extent
(count, bytes, first and last seen, addresses, users, files), caps it, and turns it into
the records of SPEC: `open` at once, `update` when the rule's `level` of the extent
changes (in kind, or in size), `closed` with the final figures once the incident has had
no event for its rule's `window` (event time, or the injected wall clock for a live log
that went quiet), or at the end of a replay (`finish`).

An incident of a fleet's servers lists them all (`servers`, sorted) in every record, and
its `server` is the one whose event came first (a replay names the one a live run did,
whatever order it read the servers' files in).

Memory: per open incident, its Extent (sentinel.extent: at most CAP addresses, users and
files, with their totals, and MAX_SERVERS servers) and a few numbers; at most MAX_OPEN open
incidents per rule, the oldest closed early beyond.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sentinel.alerts import CLOSED, OPEN, UPDATE, Alert, Severity, safe_text
from sentinel.events import Event, Kind
from sentinel.extent import MAX_SERVERS, Extent
from sentinel.rules.base import reads
from sentinel.textsafe import MAX_FIELD

if TYPE_CHECKING:
    from sentinel.rules.base import Rule

MAX_OPEN = 10_000  # open incidents per rule

CLOSE_SLACK = 2.0  # seconds: log time stamps are whole seconds, the wall clock is not
NO_RECORDS: Sequence[Alert] = ()


class Incident:
    """One open incident: its rule, the opening alert (identity, severity, details), its
    extent, the level last reported and when (wall clock) an event last added to it.

    The extent is made when first needed (`IncidentTracker._extent`: a growth, a record
    that is not the opening alert's, a dump), from the opening alert, the time of the
    last event it covers (`last`) and whether that event named a fleet's server (`fleet`):
    most incidents never grow, and the record of one whose rule `opens_as_record` is its
    opening alert."""

    __slots__ = (
        "anchors",
        "extent",
        "fleet",
        "is_open",
        "last",
        "level",
        "opening",
        "order",
        "rule",
        "touched",
        "window",
    )

    def __init__(  # noqa: PLR0917 - positional: keywords cost, on every incident
        self,
        rule: Rule,
        opening: Alert,
        last: float,
        fleet: bool,
        touched: float | None,
        anchors: tuple[str, ...],
    ) -> None:
        self.rule = rule
        self.anchors = anchors  # the opening event's user and address, as logged
        self.opening = opening
        self.extent: Extent | None = None
        self.last = last  # the extent's `last`, kept beside it: the deadline's start
        self.fleet = fleet
        self.window = rule.window
        self.level = (0, 0)  # the rule's level of the extent, set with the extent
        self.touched = touched
        self.is_open = True
        self.order = 0  # when it opened, among all incidents (the tracker's count)


def _opening_extent(alert: Alert, last: float, fleet: bool) -> Extent:
    """The extent an alert opens with; `last` is the time of its last event, `fleet`
    whether the event that fired it named a fleet's server."""
    extent = Extent(alert.first_seen, alert.last_seen, last=last)
    extent.count = alert.count or 1
    extent.nbytes = alert.nbytes
    for ip in alert.ips or ((alert.ip,) if alert.ip else ()):
        extent.ips.add(ip)
    users = alert.users or alert.details.get("users")
    if users:  # a rule's names, as logged
        for user in users:
            extent.users.add(safe_text(str(user), MAX_FIELD))
    elif alert.user:  # made safe with the alert (make_alert), like its path and files
        extent.users.add(alert.user)
    for path in alert.files or ((alert.path,) if alert.path else ()):
        extent.add_file(path, neutral=True)
    if alert.servers or fleet:
        # the opening names its first server; the others came later (or at the same time)
        for server in (alert.server, *(alert.servers or ())):
            extent.add_server(server, extent.first)
    return extent


Due = list[tuple[float, int, Incident]]  # a heap of (when it may close, tie-break, incident)
_Asked = tuple["Rule", dict[str, Incident], dict[str, int]]  # a rule, its incidents, anchors


class IncidentTracker:
    """The open incidents of every log rule, and the records of their lives.

    With `progress` false (a replay that prints only each incident's last record), the
    opening and update records are not made: the extents and the final records are the
    same. Closing looks only at incidents whose deadline passed (two heaps: event time and,
    live, wall clock), each pushed back once with its new deadline if it grew meanwhile.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        clock: Callable[[], float] | None = None,
        progress: bool = True,
    ) -> None:
        self.rules = {rule.name: rule for rule in rules}
        self.tables: dict[str, dict[str, Incident]] = {rule.name: {} for rule in rules}
        # the users or addresses (their rules' `keyed_by`) of the events that opened them,
        # with how many: per rule, and per kind of event for all the rules of that kind
        # (`anchors`). An event naming none of a rule's adds to none of its incidents: that
        # rule need not be asked, and with none of its kind's, no rule (the pipeline does
        # not call `observe`)
        self.rule_anchors: dict[str, dict[str, int]] = {rule.name: {} for rule in rules}
        self.anchors: dict[Kind, dict[str, int]] = {kind: {} for kind in Kind}
        self._counted_in = {  # the counts each rule's incidents anchor: its own, its kinds'
            rule.name: (self.rule_anchors[rule.name], *(self.anchors[k] for k in rule.kinds))
            for rule in rules
        }
        # the rules an event may add to, by kind: for named sessions, and anonymous ones
        self.by_kind, self.anonymous_by_kind = (
            self._asked(anonymous) for anonymous in (False, True)
        )
        # the rules whose opening alert is the record of the extent it opens with
        self.opening_records = frozenset(
            rule.name for rule in rules if getattr(rule, "opens_as_record", False)
        )
        self.clock = clock
        self.progress = progress
        self.count = 0  # open incidents, all rules
        self._due: Due = []
        self._wall_due: Due = []
        self._ties = itertools.count()

    def _asked(self, anonymous: bool) -> dict[Kind, list[_Asked]]:
        return {
            kind: [
                (rule, self.tables[rule.name], self.rule_anchors[rule.name])
                for rule in self.rules.values()
                if reads(rule, kind, anonymous)
            ]
            for kind in Kind
        }

    def open_counts(self) -> dict[str, int]:
        """sentinel_incidents_open, by rule."""
        return {name: len(table) for name, table in self.tables.items()}

    def observe(self, event: Event, t: float, alerts: Sequence[Alert]) -> Sequence[Alert]:
        """The records an event makes: its rules' new incidents, the growth of open ones."""
        records: list[Alert] | None = None
        fired: Collection[str] = ()
        if alerts:
            # most events fire one rule (a set comprehension is a call, a tuple is not)
            fired = (alerts[0].rule,) if len(alerts) == 1 else {alert.rule for alert in alerts}
            records = []
            for alert in alerts:
                self._open(alert, event, t, records)
        if self.count:
            ip, user = event.ip, event.user
            asked = self.anonymous_by_kind if event.anonymous else self.by_kind
            for rule, table, anchored in asked[event.kind]:
                if not table or (fired and rule.name in fired):
                    continue
                if not (ip in anchored or user in anchored or (ip is not None and ":" in ip)):
                    continue  # as the pipeline's check, for this rule's incidents alone
                for subject in rule.adds(event, t):
                    incident = table.get(subject)
                    if incident is not None:
                        record = self._grow(incident, event, t)
                        if record is not None:  # a change of level (records made: `progress`)
                            records = [*(records or ()), record]
                        break
        return NO_RECORDS if records is None else records

    def _open(self, alert: Alert, event: Event, t: float, records: list[Alert]) -> None:
        """The incident `alert` opens (or grows, if it is open), its records into `records`."""
        rule = self.rules.get(alert.rule)
        if rule is None:  # not a tracked rule: passed on as it is
            records.append(alert)
            return
        table = self.tables[alert.rule]
        incident = table.get(alert.subject)
        if incident is not None:
            if t - incident.last <= incident.window:  # the same incident, re-fired
                grown = self._grow(incident, event, t)
                if grown is not None:
                    records.append(grown)
                return
            records.append(self._close(incident))
        if len(table) >= MAX_OPEN:
            records.append(self._close(next(iter(table.values()))))
        touched = self.clock() if self.clock is not None else None
        anchors: tuple[str, ...] = ()
        for name in rule.keyed_by:
            value = getattr(event, name)
            if value is not None:
                anchors += (value,)
        last = t if alert.last_seen is event.ts else alert.last_seen.timestamp()
        incident = Incident(rule, alert, last, event.server is not None, touched, anchors)
        self._track(incident, table)
        if self.progress:
            records.append(self._record(incident, OPEN))

    def _track(self, incident: Incident, table: dict[str, Incident]) -> None:
        """`incident` open in its rule's `table`, counted, anchored and due to close."""
        table[incident.opening.subject] = incident
        self.count += 1
        order = incident.order = next(self._ties)
        for anchors in self._counted_in[incident.opening.rule]:
            for value in incident.anchors:
                anchors[value] = anchors.get(value, 0) + 1
        # the order it opened in is its first tie-break: entries pushed later, later numbers
        heapq.heappush(self._due, (incident.last + incident.window, order, incident))
        if incident.touched is not None:
            deadline = incident.touched + incident.window + CLOSE_SLACK
            heapq.heappush(self._wall_due, (deadline, next(self._ties), incident))

    def _grow(self, incident: Incident, event: Event, t: float) -> Alert | None:
        extent = self._extent(incident)
        extent.add(event, t)
        incident.last = extent.last
        rule = incident.rule
        counts = rule.counts
        if counts == "events":
            extent.count += event.times  # rsyslog's `message repeated N times` stands for N
        elif counts == "users":
            extent.count = extent.users.total
        else:
            extent.count = extent.ips.total
        if self.clock is not None:
            incident.touched = self.clock()
        if not self.progress:
            return None
        level = rule.level(extent)
        if level == incident.level:
            return None
        change = "kind" if level[0] != incident.level[0] else "size"
        incident.level = level
        return self._record(incident, UPDATE, change)

    def _close(self, incident: Incident) -> Alert:
        opening = incident.opening
        del self.tables[opening.rule][opening.subject]
        self.count -= 1
        incident.is_open = False
        for anchors in self._counted_in[opening.rule]:
            for value in incident.anchors:
                left = anchors[value] - 1
                if left:
                    anchors[value] = left
                else:
                    del anchors[value]
        return self._record(incident, CLOSED)

    def close_idle(self, now: float, wall: float | None = None) -> list[Alert]:
        """Closes the incidents without an event for their window by event time `now`, or
        (live) by the wall clock `wall` since an event last added to them."""
        if not self.count:
            return []
        records = self._close_due(self._due, now)
        if wall is not None:
            records += self._close_due(self._wall_due, wall, wall=True)
        return records

    def _close_due(self, due: Due, now: float, *, wall: bool = False) -> list[Alert]:
        """The incidents of heap `due` (event time; the wall clock's with `wall`) whose
        deadline is before `now`, closed; the others popped pushed back at their new one."""
        records = []
        while due and due[0][0] < now:
            _, _, incident = heapq.heappop(due)
            if not incident.is_open:
                continue
            if wall:
                deadline = (incident.touched or 0.0) + incident.window + CLOSE_SLACK
            else:
                deadline = incident.last + incident.window
            if deadline < now:
                records.append(self._close(incident))
            else:  # it grew since: back in the heap at its new deadline
                heapq.heappush(due, (deadline, next(self._ties), incident))
        return records

    def finish(self, now: float) -> list[Alert]:
        """The end of a replay at event time `now`: the incidents quiet for their window
        closed, the others' final figures with status `open` (the log ended while they went
        on). The tracker is empty after it."""
        records = self.close_idle(now)
        going_on = [  # in the order they opened, as the live run's records came
            self._record(incident, OPEN)
            for incident in sorted(
                (incident for table in self.tables.values() for incident in table.values()),
                key=lambda incident: incident.order,
            )
        ]
        for table in self.tables.values():
            for incident in table.values():
                incident.is_open = False
            table.clear()
        self.count = 0
        for anchored in (*self.rule_anchors.values(), *self.anchors.values()):
            anchored.clear()
        self._due, self._wall_due = [], []
        return records + going_on

    @staticmethod
    def _extent(incident: Incident) -> Extent:
        """The incident's extent, made from its opening alert the first time it is needed."""
        extent = incident.extent
        if extent is None:
            extent = incident.extent = _opening_extent(
                incident.opening, incident.last, incident.fleet
            )
            incident.level = incident.rule.level(extent)
        return extent

    def _record(self, incident: Incident, status: str, change: str | None = None) -> Alert:
        opening, extent = incident.opening, incident.extent
        if extent is None:
            if (
                change is None
                and opening.rule in self.opening_records
                and not incident.fleet
                and opening.ips is None  # an IPv6 block's addresses: the extent lists them
                and opening.servers is None
            ):
                # never grown: its record is the opening alert (Rule.opens_as_record)
                return opening if opening.status == status else opening.with_status(status)
            extent = self._extent(incident)
        ips, users = extent.ips, extent.users
        files = tuple(extent.files) if extent.files_total else ()  # most have none
        details = opening.details
        if "users" in details or change is not None:
            # the names are the record's `user` or `users` (with users_total), not details
            details = details.copy()
            details.pop("users", None)
            if change is not None:
                details["change"] = change
        several_ips = ips.total > 1
        several_users = users.total > 1
        servers = extent.servers
        # positional, in the order of Alert's fields (tests/test_incidents.py checks it):
        # 23 keywords cost as much again as the alert itself, on every incident
        return Alert(
            opening.rule,
            opening.severity,
            safe_text(incident.rule.describe(opening.subject, extent), 400),  # summary
            opening.fingerprint,
            extent.first_ts,  # first_seen
            extent.last_ts,  # last_seen
            (extent.first_server() if servers else None) or opening.server,  # server
            opening.source,
            next(iter(users.kept)) if users.total == 1 else None,  # user
            next(iter(ips.kept)) if ips.total == 1 else None,  # ip
            ips.listed() if several_ips else None,  # ips
            files[0] if len(files) == 1 and extent.files_total == 1 else None,  # path
            extent.count,
            extent.nbytes,
            details,
            status,
            ips.total if several_ips else None,  # ips_total
            users.listed() if several_users else None,  # users
            users.total if several_users else None,  # users_total
            files if extent.files_total else None,  # files
            extent.files_total if extent.files_total else None,  # files_total
            opening.subject,
            tuple(sorted(servers)) if servers and len(servers) > 1 else None,  # servers
        )

    # -- across a restart ---------------------------------------------------------------

    def dump(self) -> list[dict[str, Any]]:
        """The open incidents as JSON-able data (saved with the rules' windows)."""
        return [
            self._dumped(subject, incident)
            for table in self.tables.values()
            for subject, incident in table.items()
        ]

    def _dumped(self, subject: str, incident: Incident) -> dict[str, Any]:
        extent = self._extent(incident)
        return {
            "rule": incident.opening.rule,
            "subject": subject,
            "fingerprint": incident.opening.fingerprint,
            "severity": incident.opening.severity.label,
            "server": incident.opening.server,
            "source": incident.opening.source,
            "details": incident.opening.details,
            "first": extent.first_ts.isoformat(),
            "last": extent.last_ts.isoformat(),
            "count": extent.count,
            "bytes": extent.nbytes,
            "ips": [list(extent.ips.kept), extent.ips.total],
            "users": [list(extent.users.kept), extent.users.total],
            "files": [list(extent.files), extent.files_total],
            "servers": [[name, first] for name, first in extent.servers.items()],
            "level": list(incident.level),
            "anchors": list(incident.anchors),
        }

    def load(self, data: list[dict[str, Any]]) -> None:
        touched = self.clock() if self.clock is not None else None
        for item in data:
            rule = self.rules.get(item["rule"])
            if rule is None:  # a rule turned off since
                continue
            opening = Alert(
                rule=rule.name,
                severity=Severity.parse(item["severity"]),
                summary="",
                fingerprint=str(item["fingerprint"]),
                first_seen=datetime.fromisoformat(item["first"]),
                last_seen=datetime.fromisoformat(item["last"]),
                server=str(item["server"]),
                source=item["source"],
                details=dict(item["details"]),
                subject=str(item["subject"]),
            )
            extent = Extent(opening.first_seen, opening.last_seen)
            extent.count, extent.nbytes = int(item["count"]), item["bytes"]
            for members, (kept, total) in (
                (extent.ips, item["ips"]),
                (extent.users, item["users"]),
            ):
                for value in kept:
                    members.add(str(value))
                members.total = max(members.total, int(total))
            kept_files, extent.files_total = item["files"][0], int(item["files"][1])
            extent.files = dict.fromkeys(str(path) for path in kept_files)
            for name, first in item.get("servers", ())[:MAX_SERVERS]:
                extent.servers[str(name)] = float(first)
            anchors = tuple(str(value) for value in item.get("anchors", ()))
            incident = Incident(rule, opening, extent.last, bool(extent.servers), touched, anchors)
            incident.extent = extent
            incident.level = (int(item["level"][0]), int(item["level"][1]))
            table = self.tables[rule.name]
            if opening.subject not in table:
                self._track(incident, table)
