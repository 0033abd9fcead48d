"""Puts the report together from what was gathered: the facts every format shows alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import NamedTuple

from sentinel.config.model import Config
from sentinel.report.coverage import BlindSpot, blind_spots
from sentinel.report.exposure import NOTHING, Exposure, Inspector
from sentinel.report.gather import Gathered, LogCoverage
from sentinel.report.incidents import Incident, incidents, rule_windows


class IncidentReport(NamedTuple):  # one per incident: built in C, as Incident
    incident: Incident
    exposure: Exposure  # the files it transferred
    reachable: Exposure | None  # anonymous incidents: what the anonymous zones held


@dataclass(frozen=True, slots=True)
class Report:
    server: str
    tz: tzinfo
    generated: datetime
    origin: str  # logs | store
    period: tuple[datetime, datetime] | None
    coverage: tuple[LogCoverage, ...]
    blind_spots: tuple[BlindSpot, ...]
    incidents: tuple[IncidentReport, ...]
    zones: tuple[tuple[str, Exposure], ...]  # anonymous zones (as clients see them)
    exposed: Exposure  # every file transferred by an incident, once
    activity: dict[int, list[int]]  # hour -> [logins, transfers]

    @property
    def reachable(self) -> Exposure | None:
        """What the anonymous zones hold, when an anonymous incident could reach it."""
        return next((i.reachable for i in self.incidents if i.reachable is not None), None)


def _period(gathered: Gathered, found: list[Incident]) -> tuple[float, float] | None:
    starts = [c.first for c in gathered.coverage if c.first is not None]
    ends = [c.last for c in gathered.coverage if c.last is not None]
    starts += [i.first_t for i in found]
    ends += [i.last_t for i in found]
    return (min(starts), max(ends)) if starts and ends else None


def build_report(config: Config, gathered: Gathered, now: datetime) -> Report:
    """Incidents, their files and what those hold, blind spots: everything but words."""
    ends = [c.last for c in gathered.coverage if c.last is not None]
    end = max(ends) if ends else (now.timestamp() if gathered.origin == "store" else None)
    found = incidents(gathered.records, end, rule_windows(config.rules))
    inspector = Inspector(config.directories)
    # the anonymous zones are read only when an anonymous incident could have reached them
    anonymous_incident = any(i.rule == "anonymous_access" for i in found)
    zones = tuple(
        (d.served_as or str(d.path), inspector.zone(d))
        for d in config.directories
        if d.anonymous and anonymous_incident
    )
    reachable = inspector.summed(
        (f for _, zone in zones for f in zone.files), cut=any(z.lower_bound for _, z in zones)
    )
    reports = []
    every_file = {}
    for incident in found:
        exposure = NOTHING
        if incident.files:  # most incidents (logins) transferred none
            files = [inspector.file(path) for path in incident.files]
            for item in files:
                every_file[item.shown] = item
            exposure = inspector.summed(files, cut=(incident.files_total or 0) > len(files))
        anonymous = zones and incident.rule == "anonymous_access"
        reports.append(IncidentReport(incident, exposure, reachable if anonymous else None))
    spots = tuple(spot for c in gathered.coverage for spot in blind_spots(c))
    period = _period(gathered, found)
    return Report(
        server=config.server_name,
        tz=config.timezone,
        generated=now,
        origin=gathered.origin,
        period=(
            (
                datetime.fromtimestamp(period[0], config.timezone),
                datetime.fromtimestamp(period[1], config.timezone),
            )
            if period is not None
            else None
        ),
        coverage=tuple(gathered.coverage),
        blind_spots=spots,
        incidents=tuple(reports),
        zones=zones,
        exposed=inspector.summed(every_file.values()),
        activity=gathered.activity,
    )
