"""The validated configuration, as frozen dataclasses with SPEC's defaults."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Any

from sentinel.alerts import Severity
from sentinel.rules.settings import RULE_SETTINGS, ByteSize

FORMATS = ("vsftpd", "xferlog", "proftpd", "pureftpd", "openssh", "auto")
DEFAULT_CONFIG_PATH = Path("/etc/sentinel/sentinel.yaml")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """A log to follow: a file (`path`) or a systemd journal unit (`journal`)."""

    name: str
    format: str = "auto"
    path: Path | None = None
    journal: str | None = None
    timezone: tzinfo | None = None  # overrides the global one (vsftpd logs UTC by default)
    server: str | None = None  # the server that wrote it, when not this one (a fleet's)

    @property
    def many(self) -> bool:
        """Whether `path` is a pattern (globs, `{server}`) that may name several files."""
        return self.path is not None and any(c in str(self.path) for c in "*?[{")


@dataclass(frozen=True, slots=True)
class DirectoryConfig:
    path: Path
    max_age: timedelta | None = None  # None: no stale_file check for this tree
    age_by: str = "mtime"  # atime | mtime | ctime | newest
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = (".*",)
    inspect: bool = False
    anonymous: bool = False
    action: str = "report"  # report | quarantine | delete
    quarantine_dir: Path | None = None
    delete_after_download: timedelta | None = None
    max_inspect_size: ByteSize = ByteSize(64 << 20)  # noqa: RUF009 (an immutable int)
    served_as: str | None = None  # the path clients see this tree under, e.g. "/pub"


@dataclass(frozen=True, slots=True)
class ServerConfigCheck:
    path: Path
    kind: str  # vsftpd | proftpd | pureftpd | sshd


RECORD_STATUSES = ("open", "update", "closed")
PAGER_STATUSES = frozenset({"open", "update"})  # a pager: the incident and its escalations
MAIL_SCHEMES = ("mailto:", "mailtos:")


@dataclass(frozen=True, slots=True)
class NotifyTarget:
    url: str
    min_severity: Severity = Severity.WARNING
    kind: str = "apprise"  # apprise | alertmanager
    statuses: frozenset[str] | None = None  # the records it gets; None: its kind's default

    def wants(self, status: str) -> bool:
        """Whether records of this status go to the target: by default every one to mail
        and Alertmanager (which resolves the alert with the closing one), the opening and
        the updates to any other (a pager, a chat)."""
        return status in (self.statuses if self.statuses is not None else self.default_statuses())

    def default_statuses(self) -> frozenset[str]:
        if self.kind == "alertmanager" or self.url.lower().startswith(MAIL_SCHEMES):
            return frozenset(RECORD_STATUSES)
        return PAGER_STATUSES


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    cooldown: timedelta = timedelta(minutes=15)
    targets: tuple[NotifyTarget, ...] = ()
    give_up_after: timedelta = timedelta(days=2)  # undelivered alerts older than this are dropped


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    listen: str = "127.0.0.1:9817"  # "" or "off" disables the endpoint
    tls_cert: Path | None = None
    tls_key: Path | None = None
    basic_auth: tuple[tuple[str, str], ...] = ()  # (user, "sha256:<hex of the password>")


def default_rules() -> dict[str, Any]:
    return {name: cls() for name, cls in RULE_SETTINGS.items()}


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """`fleet:`: the servers a central sentinel watches (see sentinel.fleet)."""

    enabled: bool = False  # the section is given: syslog host fields name the servers
    servers: tuple[str, ...] = ()  # the servers that may label metrics (a closed set)
    shared_accounts: bool = False  # one account base (LDAP, a shared passwd) for all servers


@dataclass(frozen=True, slots=True)
class Config:
    server_name: str
    timezone: tzinfo
    state_dir: Path = Path("/var/lib/sentinel")
    sources: tuple[SourceConfig, ...] = ()
    trusted_networks: tuple[IPNetwork, ...] = ()
    rules: dict[str, Any] = field(default_factory=default_rules)
    directories: tuple[DirectoryConfig, ...] = ()
    server_configs: tuple[ServerConfigCheck, ...] = ()
    notify: NotifyConfig = NotifyConfig()
    metrics: MetricsConfig = MetricsConfig()
    backfill: timedelta = timedelta(hours=1)  # first start on an existing log
    path: Path | None = None  # where it was read from; None for built-in defaults
    fleet: FleetConfig = FleetConfig()
    ipv6_prefix: int = 64  # `networks.ipv6_prefix`: address rules count IPv6 clients by block
