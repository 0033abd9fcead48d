"""The report as plain facts (JSON-able): what `--format json` prints and every format shows.

HTML and Markdown are rendered from this same dict, so the three always say the same.
Never a value of an identifier, a password or a file's content: kinds and counts only.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sentinel import __version__
from sentinel.report.build import IncidentReport, Report
from sentinel.report.exposure import NOTHING, Exposure, FileExposure

SCHEMA = 1


def _iso(t: float | datetime | None, tz: tzinfo) -> str | None:
    if t is None:
        return None
    moment = t if isinstance(t, datetime) else datetime.fromtimestamp(t, tz)
    return moment.isoformat()


def _file(item: FileExposure) -> dict[str, Any]:
    found: dict[str, Any] = {"path": item.shown, "state": item.state}
    if item.state == "present":
        found["identifiers"] = dict(sorted(item.counts.items()))
        found["encrypted"] = item.encrypted is not None
        if item.encrypted is not None:
            found["encryption"] = item.encrypted
        if item.skipped is not None:
            found["not_read"] = item.skipped
        found["records"] = item.records
        if item.truncated:
            found["truncated"] = True
    return found


def _exposure(exposure: Exposure) -> dict[str, Any]:
    states = [f.state for f in exposure.files]
    return {
        "files": [_file(f) for f in exposure.files],
        "files_present": states.count("present"),
        "files_missing": states.count("missing"),
        "records": exposure.records,
        "people": exposure.people,
        "people_by_kind": dict(sorted(exposure.people_by_kind.items())),
        "identifiers": dict(sorted(exposure.kinds.items())),
        "lower_bound": exposure.lower_bound,
    }


def _incident(item: IncidentReport) -> dict[str, Any]:
    incident = item.incident
    found: dict[str, Any] = {  # tuples: JSON arrays, without a copy into lists
        "rule": incident.rule,
        "severity": incident.severity,
        "summary": incident.summary,
        "fingerprint": incident.fingerprint,
        "first_seen": incident.first_seen.isoformat(),
        "last_seen": incident.last_seen.isoformat(),
        "duration_seconds": round(max(0.0, incident.last_t - incident.first_t), 3),
        "users": incident.users,
        "ips": incident.ips,
        "servers": incident.servers,
        "count": incident.events,
        "bytes": incident.nbytes,
        "files_total": incident.files_total,
        "status": incident.status,
        "ongoing": incident.ongoing,
        # what its files hold; None when it transferred no file (most incidents: logins)
        "transferred": _exposure(item.exposure) if item.exposure is not NOTHING else None,
        "reaches_anonymous_zones": item.reachable is not None,
    }
    if incident.path is not None:
        found["path"] = incident.path
    return found


def _art33(report: Report, incidents: list[dict[str, Any]]) -> dict[str, Any]:
    rules: dict[str, int] = {}
    for incident in incidents:
        rules[incident["rule"]] = rules.get(incident["rule"], 0) + 1
    reachable = report.reachable
    kinds = set(report.exposed.kinds) | set(reachable.kinds if reachable is not None else ())
    starts = [i.incident.first_seen for i in report.incidents]
    ends = [i.incident.last_seen for i in report.incidents]
    return {
        "nature": {"incidents_by_rule": rules},
        "categories_of_data": sorted(kinds),
        "categories_of_data_subjects": None,  # patients, staff...: for people to say
        "data_subjects": {
            "transferred": report.exposed.people,
            "reachable": reachable.people if reachable is not None else None,
        },
        "records": {
            "transferred": report.exposed.records,
            "reachable": reachable.records if reachable is not None else None,
        },
        "lower_bound": report.exposed.lower_bound
        or (reachable is not None and reachable.lower_bound),
        "period": {
            "start": min(starts).isoformat() if starts else None,
            "end": max(ends).isoformat() if ends else None,
        },
        "dpo_contact": None,  # for people to fill in, as the judgement fields below
        "likely_consequences": None,
        "measures": None,
    }


def report_facts(report: Report, lang: str) -> dict[str, Any]:
    tz = report.tz
    incidents = [_incident(i) for i in report.incidents]
    return {
        "report": {
            "schema": SCHEMA,
            "sentinel": __version__,
            "server": report.server,
            "generated": report.generated.isoformat(),
            "origin": report.origin,
            "language": lang,
        },
        "period": (
            {"start": report.period[0].isoformat(), "end": report.period[1].isoformat()}
            if report.period is not None
            else None
        ),
        "coverage": [
            {
                "source": c.source,
                "files": list(c.files),
                "first": _iso(c.first, tz),
                "last": _iso(c.last, tz),
                "lines": c.lines,
                "not_understood": c.unparsed,
                "not_understood_share": round(c.unparsed / c.lines, 4) if c.lines else 0.0,
            }
            for c in report.coverage
        ],
        "blind_spots": [
            {
                "source": s.source,
                "start": _iso(s.start, tz),
                "end": _iso(s.end, tz),
                "hours": s.hours,
                "usually_busy_hours": s.busy_hours,
            }
            for s in report.blind_spots
        ],
        "incidents": incidents,
        "exposed": _exposure(report.exposed),
        "anonymous_zones": [{"served_as": name, **_exposure(zone)} for name, zone in report.zones],
        "activity": [
            {"hour": _iso(hour * 3600, tz), "logins": counts[0], "transfers": counts[1]}
            for hour, counts in sorted(report.activity.items())
        ],
        "art33": _art33(report, incidents),
    }
