"""The sections of the configuration file, each read into its model dataclasses."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from sentinel.alerts import Severity
from sentinel.config import fleet, values
from sentinel.config.model import (
    FORMATS,
    RECORD_STATUSES,
    DirectoryConfig,
    IPNetwork,
    MetricsConfig,
    NotifyConfig,
    NotifyTarget,
    ServerConfigCheck,
    SourceConfig,
)
from sentinel.config.nodes import TAG, At, boolean, choice, mapping, sequence, string, strings
from sentinel.config.urls import classify

SOURCE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
JOURNAL_UNIT = re.compile(r"[A-Za-z0-9@_.:\\-]{1,256}")
SERVER_KINDS = ("vsftpd", "proftpd", "pureftpd", "sshd")
AGE_BY = ("atime", "mtime", "ctime", "newest")
ACTIONS = ("report", "quarantine", "delete")
_LISTEN = re.compile(r"(\[[^\]]*\]|[^:\[\]]*):(\d{1,5})")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})")
_SHA256 = re.compile(r"sha256:[0-9a-fA-F]{64}")


def sources(at: At) -> tuple[SourceConfig, ...]:
    """`sources:`; names label metrics, so they are unique and plain; a log is followed once."""
    result: list[SourceConfig] = []
    names: dict[str, At] = {}
    followed: dict[str, At] = {}
    for item in sequence(at):
        source = one_source(item)
        for seen, key in ((names, source.name), (followed, str(source.path or source.journal))):
            if key in seen:
                first = seen[key]
                what = "name" if seen is names else "log"
                raise item.error(
                    f"{what} {key!r} is already used by {first.key} (line {first.line})"
                )
            seen[key] = item
        result.append(source)
    return tuple(result)


def one_source(at: At) -> SourceConfig:
    entries = mapping(at, ("path", "journal", "format", "name", "timezone", "server"))
    if ("path" in entries) == ("journal" in entries):
        raise at.error("give exactly one of path (a log file) or journal (a systemd unit)")
    fmt = choice(entries["format"], FORMATS) if "format" in entries else "auto"
    name = string(entries["name"]) if "name" in entries else fmt
    if not SOURCE_NAME.fullmatch(name):
        where = entries.get("name", at)
        raise where.error(f"invalid name {name!r} (1 to 64 of A-Z a-z 0-9 _ . -)")
    journal = None
    if "journal" in entries:
        journal = string(entries["journal"], what="a systemd unit name")
        if not JOURNAL_UNIT.fullmatch(journal):
            raise entries["journal"].error(f"invalid systemd unit name {journal!r}")
    return SourceConfig(
        name=name,
        format=fmt,
        path=fleet.source_path(entries["path"]) if "path" in entries else None,
        journal=journal,
        timezone=values.timezone(entries["timezone"]) if "timezone" in entries else None,
        server=fleet.server_name(entries["server"]) if "server" in entries else None,
    )


def trusted_networks(at: At) -> tuple[IPNetwork, ...]:
    entries = mapping(at, ("trusted", "ipv6_prefix"))
    if "trusted" not in entries:
        return ()
    return tuple(values.network(item) for item in sequence(entries["trusted"]))


DIRECTORY_KEYS = (
    "path",
    "max_age",
    "age_by",
    "include",
    "exclude",
    "inspect",
    "anonymous",
    "action",
    "quarantine_dir",
    "delete_after_download",
    "max_inspect_size",
    "served_as",
)


def directories(at: At, state_dir: Path) -> tuple[DirectoryConfig, ...]:
    """`directories:`; a tree is supervised once (its path labels metrics)."""
    result: list[DirectoryConfig] = []
    seen: dict[Path, At] = {}
    for item in sequence(at):
        directory = one_directory(item, state_dir)
        if directory.path in seen:
            first = seen[directory.path]
            raise item.error(f"{str(directory.path)!r} is already listed at {first.key}")
        seen[directory.path] = item
        result.append(directory)
    return tuple(result)


def one_directory(at: At, state_dir: Path) -> DirectoryConfig:
    entries = mapping(at, DIRECTORY_KEYS)
    if "path" not in entries:
        raise at.error("missing path (the directory to supervise)")
    path = values.absolute_path(entries["path"])
    action = choice(entries["action"], ACTIONS) if "action" in entries else "report"
    quarantine = (
        values.optional_path(entries["quarantine_dir"]) if "quarantine_dir" in entries else None
    )
    if action == "quarantine" and quarantine is None:
        quarantine = state_dir / "quarantine"
    if quarantine is not None and (quarantine == path or path in quarantine.parents):
        raise entries.get("quarantine_dir", at).error(
            "the quarantine directory cannot lie inside the supervised directory"
        )
    include = strings(entries["include"]) if "include" in entries else ("*",)
    if not include:
        raise entries["include"].error('give at least one pattern ("*" for every file)')
    defaults = DirectoryConfig(path)
    return DirectoryConfig(
        path=path,
        max_age=values.optional_duration(entries["max_age"]) if "max_age" in entries else None,
        age_by=choice(entries["age_by"], AGE_BY) if "age_by" in entries else defaults.age_by,
        include=include,
        exclude=strings(entries["exclude"]) if "exclude" in entries else defaults.exclude,
        inspect=boolean(entries["inspect"]) if "inspect" in entries else defaults.inspect,
        anonymous=boolean(entries["anonymous"]) if "anonymous" in entries else defaults.anonymous,
        action=action,
        quarantine_dir=quarantine,
        delete_after_download=(
            values.optional_duration(entries["delete_after_download"])
            if "delete_after_download" in entries
            else None
        ),
        max_inspect_size=(
            values.size(entries["max_inspect_size"])
            if "max_inspect_size" in entries
            else defaults.max_inspect_size
        ),
        served_as=values.served_path(entries["served_as"]) if "served_as" in entries else None,
    )


def server_configs(at: At) -> tuple[ServerConfigCheck, ...]:
    result = []
    for item in sequence(at):
        entries = mapping(item, ("path", "kind"))
        for required in ("path", "kind"):
            if required not in entries:
                raise item.error(f"missing {required}")
        kind = choice(entries["kind"], SERVER_KINDS)
        result.append(ServerConfigCheck(values.absolute_path(entries["path"]), kind))
    return tuple(result)


def notify(at: At) -> NotifyConfig:
    entries = mapping(at, ("cooldown", "targets", "give_up_after"))
    defaults = NotifyConfig()
    return NotifyConfig(
        cooldown=(
            values.duration(entries["cooldown"], allow_zero=True)
            if "cooldown" in entries
            else defaults.cooldown
        ),
        targets=tuple(target(item) for item in sequence(entries["targets"]))
        if "targets" in entries
        else (),
        give_up_after=(
            values.duration(entries["give_up_after"])
            if "give_up_after" in entries
            else defaults.give_up_after
        ),
    )


def target(at: At) -> NotifyTarget:
    entries = mapping(at, ("url", "min_severity", "statuses"))
    if "url" not in entries:
        raise at.error("missing url")
    url_at = entries["url"]
    url = string(url_at, what="a URL")
    try:
        kind = classify(url)
    except ValueError as error:
        raise url_at.error(str(error)) from None
    severity = (
        values.severity(entries["min_severity"]) if "min_severity" in entries else Severity.WARNING
    )
    chosen = statuses(entries["statuses"]) if "statuses" in entries else None
    return NotifyTarget(url=url, kind=kind, min_severity=severity, statuses=chosen)


def statuses(at: At) -> frozenset[str]:
    """Which records of an incident a target gets: a non-empty list of open, update, closed."""
    items = sequence(at)
    if not items:
        raise at.error(f"expected a non-empty list of {', '.join(RECORD_STATUSES)}")
    chosen = set()
    for item in items:
        status = string(item)
        if status not in RECORD_STATUSES:
            raise item.error(f"unknown status {status!r} ({', '.join(RECORD_STATUSES)})")
        chosen.add(status)
    return frozenset(chosen)


def metrics(at: At) -> MetricsConfig:
    entries = mapping(at, ("listen", "tls_cert", "tls_key", "basic_auth"))
    cert = values.optional_path(entries["tls_cert"]) if "tls_cert" in entries else None
    key = values.optional_path(entries["tls_key"]) if "tls_key" in entries else None
    if (cert is None) != (key is None):
        raise at.error("tls_cert and tls_key go together: give both or neither")
    return MetricsConfig(
        listen=listen(entries["listen"]) if "listen" in entries else MetricsConfig().listen,
        tls_cert=cert,
        tls_key=key,
        basic_auth=basic_auth(entries["basic_auth"]) if "basic_auth" in entries else (),
    )


def listen(at: At) -> str:
    """host:port, [v6]:port or :port (every address); off, false or empty disables."""
    if at.is_null() or (at.node.tag == TAG + "str" and not str(at.node.value).strip()):
        return "off"
    if at.node.tag == TAG + "bool":
        if boolean(at):
            raise at.error("use host:port to serve metrics, off to disable them")
        return "off"
    text = string(at, what="host:port or off")
    if text.lower() == "off":
        return "off"
    match = _LISTEN.fullmatch(text)
    hint = "use 127.0.0.1:9817, [::1]:9817, :9817 or off"
    if not match:
        raise at.error(f"invalid listen address {text!r} ({hint})")
    host, port = match.groups()
    if int(port) > 65535:
        raise at.error(f"port {port} is out of range")
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise at.error(f"invalid IPv6 address {host!r} ({hint})") from None
    elif host and not _HOST.fullmatch(host):
        raise at.error(f"invalid host {host!r} ({hint})")
    return text


def basic_auth(at: At) -> tuple[tuple[str, str], ...]:
    """user: "sha256:<hex>" pairs; a plain password is refused and never echoed."""
    result = []
    for user, item in mapping(at).items():
        if not user or ":" in user or any(ord(c) < 33 for c in user):
            raise item.error(f"invalid user name {user!r}")
        if item.node.tag != TAG + "str" or not _SHA256.fullmatch(str(item.node.value).strip()):
            raise item.error(
                "expected sha256:<64 hex digits>, the SHA-256 of the password "
                "(printf %s 'password' | sha256sum); plain passwords are not accepted"
            )
        result.append((user, str(item.node.value).strip().lower()))
    return tuple(result)
