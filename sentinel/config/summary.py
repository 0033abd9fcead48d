"""A readable account of what a configuration would watch; secrets in URLs are masked."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any

from sentinel.alerts import Severity
from sentinel.config.fleet import DEFAULT_PREFIX
from sentinel.config.model import (
    RECORD_STATUSES,
    Config,
    DirectoryConfig,
    MetricsConfig,
    NotifyConfig,
)
from sentinel.config.units import format_duration, format_size
from sentinel.config.urls import mask
from sentinel.fleet import names_servers
from sentinel.fleet.paths import source_files
from sentinel.rules.settings import WEEKDAY_NAMES, ByteSize, HoursRange, Weekdays

Exists = Callable[[Path], bool]
QUIET_FIELDS = ("enabled", "severity", "max_tracked")  # shown elsewhere, or internal bounds


def describe(config: Config, exists: Exists = Path.exists) -> list[str]:
    """Lines for `check-config`; `exists` marks configured paths that are not there (yet)."""
    lines = [
        f"configuration: {config.path or 'built-in defaults'}",
        f"server name:   {config.server_name}",
        f"time zone:     {zone_name(config.timezone)}",
        f"state dir:     {config.state_dir}",
    ]
    lines += _section("sources", [_source(s, exists) for s in config.sources])
    nets = ", ".join(str(n) for n in config.trusted_networks) or "not set"
    lines.append(f"trusted networks: {nets}")
    if config.ipv6_prefix != DEFAULT_PREFIX:
        lines.append(f"IPv6 clients counted by /{config.ipv6_prefix}")
    lines += _fleet(config)
    lines += _rules(config)
    lines += _section("directories", [_directory(d, exists) for d in config.directories])
    checks = [f"{c.kind:<8} {c.path}{_missing(c.path, exists)}" for c in config.server_configs]
    lines += _section("server configs", checks)
    lines += _notify(config.notify)
    lines.append(f"metrics: {_metrics(config.metrics, exists)}")
    return lines


def zone_name(zone: tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)


def _section(title: str, items: list[str]) -> list[str]:
    if not items:
        return [f"{title}: none"]
    return [f"{title}:"] + [f"  {item}" for item in items]


def _missing(path: Path, exists: Exists) -> str:
    return "" if exists(path) else "  (not found)"


def _source(source: Any, exists: Exists) -> str:
    where = f"journal {source.journal}" if source.journal else str(source.path)
    missing = _missing(source.path, exists) if source.path is not None else ""
    if source.many:  # a pattern: what it matches now
        missing = f"  ({len(source_files(source))} file(s) now)"
    zone = f"  (times in {zone_name(source.timezone)})" if source.timezone else ""
    server = f"  (server {source.server})" if source.server else ""
    return f"{source.name:<12} {source.format:<8} {where}{missing}{zone}{server}"


def _fleet(config: Config) -> list[str]:
    if not names_servers(config):
        return []
    fleet = config.fleet
    servers = ", ".join(fleet.servers) if fleet.servers else "not listed (no server label)"
    accounts = "shared by all servers" if fleet.shared_accounts else "per server"
    return [f"fleet: servers {servers}; accounts {accounts}"]


def _rules(config: Config) -> list[str]:
    enabled, disabled = [], []
    for name, settings in config.rules.items():
        if not settings.enabled:
            disabled.append(name)
            continue
        line = f"{name:<26} {settings.severity.label:<8} {_settings(settings)}".rstrip()
        if name == "untrusted_network" and not config.trusted_networks:
            line += " (inactive: networks.trusted is not set)"
        enabled.append(line)
    return [*_section("rules enabled", enabled), f"rules disabled: {', '.join(disabled) or 'none'}"]


def _settings(settings: Any) -> str:
    return ", ".join(
        f"{field.name} {show(getattr(settings, field.name))}"
        for field in dataclasses.fields(settings)
        if field.name not in QUIET_FIELDS
    )


def show(value: object) -> str:
    """A setting as it would be written in the configuration."""
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, ByteSize):
        return format_size(value)
    if isinstance(value, HoursRange):
        return f"{value.start:%H:%M}-{value.end:%H:%M}"
    if isinstance(value, Weekdays):
        return ",".join(WEEKDAY_NAMES[day] for day in sorted(value))
    if isinstance(value, Severity):
        return value.label
    return str(value)


def _directory(d: DirectoryConfig, exists: Exists) -> str:
    parts = [f"max_age {show(d.max_age)} by {d.age_by}" if d.max_age else "no age limit"]
    parts.append(f"include {' '.join(d.include)}")
    if d.exclude:
        parts.append(f"exclude {' '.join(d.exclude)}")
    parts += [flag for flag, on in (("inspect", d.inspect), ("anonymous zone", d.anonymous)) if on]
    parts.append(d.action + (f" to {d.quarantine_dir}" if d.action == "quarantine" else ""))
    if d.delete_after_download:
        parts.append(f"delete {show(d.delete_after_download)} after download")
    if d.served_as is not None:
        parts.append(f"served as {d.served_as}")
    return f"{d.path}{_missing(d.path, exists)}: {', '.join(parts)}"


def _notify(notify: NotifyConfig) -> list[str]:
    head = f"cooldown {show(notify.cooldown)}, give up after {show(notify.give_up_after)}"
    targets = [
        f"{t.min_severity.label + '+':<10} {t.kind:<12} {mask(t.url)}"
        f" ({', '.join(s for s in RECORD_STATUSES if t.wants(s))})"
        for t in notify.targets
    ]
    if not targets:
        return [f"notify: no targets ({head})"]
    return [f"notify ({head}):"] + [f"  {target}" for target in targets]


def _metrics(metrics: MetricsConfig, exists: Exists) -> str:
    if metrics.listen in ("", "off"):
        return "off"
    extras = []
    if metrics.tls_cert and metrics.tls_key:
        files = (metrics.tls_cert, metrics.tls_key)
        absent = [str(path) for path in files if not exists(path)]
        extras.append(f"TLS, not found: {' '.join(absent)}" if absent else "TLS")
    if metrics.basic_auth:
        count = len(metrics.basic_auth)
        extras.append(f"basic auth, {count} user{'s' if count > 1 else ''}")
    return metrics.listen + (f" ({', '.join(extras)})" if extras else "")
