"""Alertmanager API v2 client: POSTs alert records to /api/v2/alerts (stdlib urllib).

Target URLs: `alertmanager://host:port[/path]` speaks HTTP, `alertmanagers://` HTTPS;
`user:password@` becomes basic authentication. A cluster is one target listing its peers,
`alertmanager://am1:9093,am2:9093`: each record is posted to every peer, as Prometheus does,
and the peers de-duplicate the notifications between them (gossip); the delivery succeeds
when one peer at least accepted it. Labels are few and bounded (alertname, severity, server,
rule, source, fingerprint), the same for every record of an incident, so that Alertmanager
sees one alert: the opening record fires it, each update replaces its annotations (the whole
record goes in `description`), the closing record resolves it (`endsAt` now).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from sentinel.config.model import NotifyTarget
from sentinel.config.urls import cluster_peers
from sentinel.sinks.notify import DeliveryError
from sentinel.textsafe import neutral

SCHEMES = {"alertmanager": "http", "alertmanagers": "https"}
API_PATH = "/api/v2/alerts"
TIMEOUT = 10.0  # seconds for one POST
RESOLVE_AFTER = timedelta(hours=1)  # endsAt: the alert stays active this long after sending


def api_endpoint(url: str) -> tuple[str, dict[str, str]]:
    """(the POST URL, extra headers) for a target URL; ValueError if it is not one."""
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise ValueError("expected alertmanager://host:port[/path] or alertmanagers://")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    port = f":{parts.port}" if parts.port else ""
    headers = {"Content-Type": "application/json"}
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()
    path = parts.path.rstrip("/") + API_PATH
    return f"{scheme}://{host}{port}{path}", headers


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_postable(
    record: Mapping[str, Any], now: datetime, resolve_after: timedelta = RESOLVE_AFTER
) -> dict[str, Any]:
    """One PostableAlert of the API from an alert record."""
    labels = {
        "alertname": str(record.get("rule", "")),
        "rule": str(record.get("rule", "")),
        "severity": str(record.get("severity", "")),
        "server": str(record.get("server", "")),
        "fingerprint": str(record.get("fingerprint", "")),
    }
    if record.get("source"):
        labels["source"] = str(record["source"])
    starts = datetime.fromisoformat(str(record["first_seen"]))
    status = str(record.get("status", "open"))
    ends = max(now, starts) if status == "closed" else max(now, starts) + resolve_after
    return {
        "labels": {k: neutral(v) for k, v in labels.items()},
        "annotations": {
            "summary": neutral(str(record.get("summary", "")), 400),
            "status": neutral(status),
            "description": json.dumps(dict(record), ensure_ascii=False),
        },
        "startsAt": _iso(starts),
        "endsAt": _iso(ends),
    }


class AlertmanagerSender:
    """Sends each record as one alert; a non-2xx answer or no answer is a DeliveryError."""

    def __init__(
        self,
        resolve_after: timedelta = RESOLVE_AFTER,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.resolve_after = resolve_after
        self.timeout = timeout
        self.clock = clock

    def send(self, target: NotifyTarget, record: Mapping[str, Any]) -> None:
        """Posts to every peer of the target; a DeliveryError only when none accepted it."""
        try:
            endpoints = [api_endpoint(url) for url in cluster_peers(target.url)]
        except ValueError as error:
            raise DeliveryError(str(error)) from None
        now = datetime.fromtimestamp(self.clock(), UTC)
        body = json.dumps([to_postable(record, now, self.resolve_after)]).encode()
        failures = []
        for endpoint, headers in endpoints:
            try:
                self._post(endpoint, headers, body)
            except DeliveryError as error:
                failures.append(str(error))
        if len(failures) == len(endpoints):
            peers = f" ({len(endpoints)} peers)" if len(endpoints) > 1 else ""
            raise DeliveryError("; ".join(dict.fromkeys(failures)) + peers)

    def _post(self, endpoint: str, headers: dict[str, str], body: bytes) -> None:
        request = urllib.request.Request(  # noqa: S310 (scheme fixed: http or https)
            endpoint, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme fixed above: http or https)
                response.read()
        except urllib.error.HTTPError as error:
            detail = neutral(error.read(200).decode(errors="replace"), 120)
            raise DeliveryError(f"HTTP {error.code} {detail}".strip()) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"cannot reach Alertmanager: {neutral(str(reason))}") from None
