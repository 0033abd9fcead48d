"""Notifications for people: alert records as Apprise messages, and target dispatch.

Apprise takes about a second to import: it is imported on the first send only, in the
delivery worker or in `test-alert`, never by `replay`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from sentinel.config.model import NotifyTarget
from sentinel.config.urls import mask as mask_url
from sentinel.textsafe import neutral

__all__ = ["AppriseSender", "DeliveryError", "Dispatcher", "Sender", "mask_url"]

TITLE_LIMIT = 160
REASON_LIMIT = 200


class DeliveryError(Exception):
    """A notification was not delivered; the message says why, without secrets."""


class Sender(Protocol):
    """Delivers one alert record to one target, or raises DeliveryError."""

    def send(self, target: NotifyTarget, record: Mapping[str, Any]) -> None: ...


def format_title(record: Mapping[str, Any]) -> str:
    """`[CRITICAL] bulk_download on ftp-01: labsync downloaded 120 files…`, one line."""
    severity = str(record.get("severity", "")).upper()
    title = f"[{severity}] {record.get('rule')} on {record.get('server')}: {record.get('summary')}"
    return neutral(title, TITLE_LIMIT)


def format_body(record: Mapping[str, Any]) -> str:
    """The alert record as `key: value` lines; no raw control character can get through."""
    lines = [neutral(str(record.get("summary", "")), 400), ""]
    for key, value in record.items():
        if key == "details" and not value:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{neutral(str(key), 40)}: {neutral(text, 1000)}")
    return "\n".join(lines)


def _reason(result: object) -> str:
    """The last warning Apprise logged for a failed notify (Apprise >= 2 reports them)."""
    logs = getattr(result, "logs", None)
    messages = [
        str(getattr(entry, "message", ""))
        for entry in (logs() if callable(logs) else ())
        if str(getattr(entry, "level", "")).upper() in ("WARNING", "ERROR", "CRITICAL")
    ]
    if not messages:
        return "the service did not accept the notification"
    return neutral(messages[-1], REASON_LIMIT)


class AppriseSender:
    """Sends through Apprise: one Apprise object per target URL, built on first use."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}

    def _client(self, url: str) -> Any:
        client = self._clients.get(url)
        if client is None:
            import apprise

            try:
                # memory: no cache files written behind the daemon's back; no service
                # timeout: Apprise >= 2 would otherwise send from a process-wide thread
                # pool that never ends, while each plugin's socket timeouts bound a send
                asset = apprise.AppriseAsset(storage_mode="memory", service_timeout=0)
            except TypeError:  # older Apprise: neither option exists
                asset = apprise.AppriseAsset()
            client = apprise.Apprise(asset=asset)
            if not client.add(url):
                raise DeliveryError("not a valid Apprise URL (or its service is unsupported)")
            self._clients[url] = client
        return client

    def prepare(self, target: NotifyTarget) -> None:
        """Builds the target's client now (Apprise loads its plugins then: ~0.3 s), so that
        the first alert does not wait for it. A bad URL is reported at the first send."""
        try:
            self._client(target.url)
        except Exception:  # any failure here is met again, and reported, at the first send
            return

    def send(self, target: NotifyTarget, record: Mapping[str, Any]) -> None:
        import apprise

        severity = str(record.get("severity", ""))
        notify_type = {
            "critical": apprise.NotifyType.FAILURE,
            "warning": apprise.NotifyType.WARNING,
        }.get(severity, apprise.NotifyType.INFO)
        result = self._client(target.url).notify(
            body=format_body(record),
            title=format_title(record),
            notify_type=notify_type,
            # text: Apprise escapes it for HTML services (e-mail) instead of trusting it
            body_format=apprise.NotifyFormat.TEXT,
        )
        if not result:
            raise DeliveryError(_reason(result))


class Dispatcher:
    """The Sender for every kind of target: Apprise URLs and Alertmanager's API."""

    def __init__(self, senders: Mapping[str, Sender] | None = None) -> None:
        if senders is None:
            from sentinel.sinks.alertmanager import AlertmanagerSender

            senders = {"apprise": AppriseSender(), "alertmanager": AlertmanagerSender()}
        self.senders = dict(senders)

    def prepare(self, target: NotifyTarget) -> None:
        """Lets the target's sender get ready before the first alert, if it needs to."""
        prepare = getattr(self.senders.get(target.kind), "prepare", None)
        if prepare is not None:
            prepare(target)

    def send(self, target: NotifyTarget, record: Mapping[str, Any]) -> None:
        sender = self.senders.get(target.kind)
        if sender is None:
            raise DeliveryError(f"unknown target kind {target.kind!r}")
        sender.send(target, record)
