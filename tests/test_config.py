"""The configuration loader: SPEC's example, defaults, every kind of error, units, fuzzing."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import shutil
import zoneinfo
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentinel.alerts import Severity
from sentinel.config import (
    Config,
    ConfigError,
    load_config,
    loader,
    parse_config,
    resolve_config_path,
)
from sentinel.config.model import DEFAULT_CONFIG_PATH
from sentinel.config.rules import field_readers
from sentinel.config.summary import show
from sentinel.config.system import host_name, system_timezone
from sentinel.config.units import format_duration, format_size, parse_duration, parse_size
from sentinel.rules.settings import RULE_SETTINGS, HoursRange, Weekdays

# SPEC's example, verbatim but for the "…" of the mail URL.
SPEC_EXAMPLE = """\
server_name: ftp-exchange-01          # default: the host name
timezone: Europe/Paris                # default: the system's
state_dir: /var/lib/sentinel          # embedded state store (SQLite): offsets, alerts, outbox

sources:                              # logs to follow
  - path: /var/log/vsftpd.log
    format: vsftpd                    # vsftpd | xferlog | proftpd | pureftpd | openssh | auto
    name: vsftpd                      # label in alerts and metrics; default: the format
  - path: /var/log/auth.log
    format: openssh

networks:
  trusted: [10.0.0.0/8, 192.168.10.0/24]

rules:                                # each rule has defaults; `enabled: false` turns it off
  bulk_download: {window: 10m, max_files: 100, max_bytes: 1GiB, severity: critical}
  brute_force: {window: 5m, max_failures: 10}
  password_spray: {window: 10m, max_users: 5}
  shared_account: {window: 1h, max_ips: 1}
  off_hours: {enabled: true, hours: "07:00-20:00", days: [mon, tue, wed, thu, fri]}
  source_silent: {after: 1h}

directories:                          # trees to supervise
  - path: /srv/ftp/outgoing
    max_age: 7d
    include: ["*"]
    exclude: [".*"]
    inspect: true                     # look inside new and changed files for personal data
    anonymous: false                  # true for a public zone
    action: report                    # report | quarantine | delete (delete only when written here)
    quarantine_dir: /var/lib/sentinel/quarantine
    served_as: /outgoing              # the path FTP/SFTP clients see this directory under

server_configs:                       # posture checks
  - {path: /etc/vsftpd.conf, kind: vsftpd}

notify:
  cooldown: 15m                       # the same fingerprint is not re-sent within this
  targets:
    - {url: "mailto://ops:Sup3rSecretPw@mail.example.org", min_severity: warning}
    - {url: "json://alerts.example.org/hook", min_severity: critical}

metrics:
  listen: 127.0.0.1:9817
"""
FILE = "/etc/sentinel/sentinel.yaml"


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, FILE)
    return caught.value


# --- accepted configurations --------------------------------------------------------------


def test_spec_example_is_accepted_with_its_values() -> None:
    config = parse_config(SPEC_EXAMPLE, FILE)
    assert config.server_name == "ftp-exchange-01"
    assert config.timezone == zoneinfo.ZoneInfo("Europe/Paris")
    assert config.state_dir == Path("/var/lib/sentinel")
    assert [(s.name, s.format, s.path) for s in config.sources] == [
        ("vsftpd", "vsftpd", Path("/var/log/vsftpd.log")),
        ("openssh", "openssh", Path("/var/log/auth.log")),
    ]
    assert config.trusted_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.10.0/24"),
    )
    bulk = config.rules["bulk_download"]
    assert (bulk.window, bulk.max_files, bulk.max_bytes) == (timedelta(minutes=10), 100, 1 << 30)
    assert bulk.severity is Severity.CRITICAL
    off = config.rules["off_hours"]
    assert off.enabled and off.hours == HoursRange(time(7), time(20))
    assert off.days == Weekdays({0, 1, 2, 3, 4})
    assert config.rules["source_silent"].after == timedelta(hours=1)
    (directory,) = config.directories
    assert directory.max_age == timedelta(days=7) and directory.inspect and not directory.anonymous
    assert directory.quarantine_dir == Path("/var/lib/sentinel/quarantine")
    assert directory.served_as == "/outgoing"
    assert config.server_configs[0].kind == "vsftpd"
    assert config.notify.cooldown == timedelta(minutes=15)
    assert [(t.kind, t.min_severity) for t in config.notify.targets] == [
        ("apprise", Severity.WARNING),
        ("apprise", Severity.CRITICAL),
    ]
    assert config.metrics.listen == "127.0.0.1:9817"
    assert set(config.rules) == set(RULE_SETTINGS)


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n  # another\n", "---\n", "~\n"])
def test_empty_or_comment_only_file_gives_defaults(text: str) -> None:
    config = parse_config(text, FILE)
    assert config.server_name == host_name()
    assert config.sources == () and config.notify.targets == ()
    assert config.rules["bulk_download"] == RULE_SETTINGS["bulk_download"]()


def test_no_path_gives_built_in_defaults() -> None:
    config = load_config(None)
    assert config.path is None
    assert config.server_name == host_name()
    assert config.timezone == system_timezone()
    assert config.state_dir == Path("/var/lib/sentinel")
    assert config.metrics.listen == "127.0.0.1:9817"


def test_loaded_file_records_its_path(tmp_path: Path) -> None:
    path = tmp_path / "sentinel.yaml"
    path.write_text("server_name: box\n", encoding="utf-8")
    config = load_config(path)
    assert (config.path, config.server_name) == (path, "box")


def test_every_rule_setting_reads_back_as_shown() -> None:
    """Writing every field of every rule as check-config shows it gives the same settings."""
    for name, cls in RULE_SETTINGS.items():
        defaults = cls()
        lines = [f"rules:\n  {name}:"]
        for field in dataclasses.fields(cls):
            value = getattr(defaults, field.name)
            shown = show(value).lower() if isinstance(value, bool) else show(value)
            lines.append(
                f"    {field.name}: {f'[{shown}]' if isinstance(value, Weekdays) else shown}"
            )
        config = parse_config("\n".join(lines) + "\n", FILE)
        assert config.rules[name] == defaults, name


def test_every_rule_field_type_has_a_reader() -> None:
    for cls in RULE_SETTINGS.values():
        assert set(field_readers(cls)) == {f.name for f in dataclasses.fields(cls)}


def test_rule_overrides_and_disabling() -> None:
    text = """
rules:
  anonymous_access: {enabled: false}
  brute_force: {severity: critical, window: 1h30m, max_failures: 3}
  off_hours: {enabled: true, hours: "22:00-24:00", days: [Saturday, sun]}
  bulk_download: {max_bytes: 500MB}
  source_silent:
"""
    rules = parse_config(text, FILE).rules
    assert rules["anonymous_access"].enabled is False
    brute = rules["brute_force"]
    assert (brute.severity, brute.window, brute.max_failures) == (
        Severity.CRITICAL,
        timedelta(minutes=90),
        3,
    )
    assert rules["off_hours"].hours == HoursRange(time(22), time(0))
    assert rules["off_hours"].days == Weekdays({5, 6})
    assert rules["bulk_download"].max_bytes == 500_000_000
    assert rules["source_silent"] == RULE_SETTINGS["source_silent"]()


def test_sources_journal_names_and_timezones() -> None:
    text = """
sources:
  - {path: /var/log/vsftpd.log, format: vsftpd, timezone: UTC}
  - {journal: ssh.service, format: openssh, name: sshd-journal}
  - {path: /var/log/proftpd/xferlog}
"""
    first, second, third = parse_config(text, FILE).sources
    assert first.timezone == zoneinfo.ZoneInfo("UTC") and first.journal is None
    assert (second.name, second.journal, second.path) == ("sshd-journal", "ssh.service", None)
    assert (third.name, third.format) == ("auto", "auto")


def test_directories_defaults_and_quarantine_under_state_dir() -> None:
    text = """
state_dir: /srv/state
directories:
  - {path: /srv/ftp/in, action: quarantine, max_inspect_size: 1MiB, age_by: newest}
  - {path: /srv/ftp/pub, anonymous: true, max_age: 30d, delete_after_download: 2h, served_as: /pub/}
"""
    first, second = parse_config(text, FILE).directories
    assert (first.served_as, second.served_as) == (None, "/pub")
    assert first.quarantine_dir == Path("/srv/state/quarantine")
    assert (first.max_inspect_size, first.age_by, first.max_age) == (1 << 20, "newest", None)
    assert second.anonymous and second.quarantine_dir is None
    assert second.delete_after_download == timedelta(hours=2)
    assert (second.include, second.exclude) == (("*",), (".*",))


def test_notify_and_metrics_sections() -> None:
    digest = "AB" * 32
    text = f"""
notify:
  cooldown: 0s
  give_up_after: 7d
  targets:
    - url: alertmanager://127.0.0.1:9093
    - url: alertmanagers://am.example.org:443/prefix
      min_severity: critical
    - url: tgram://123456789:ABCdefGHI/42
    - url: mailtos://ops:pw@mail.example.org
    - url: json://hooks.example.org/pager
      statuses: [open, closed]
metrics:
  listen: "[::1]:9817"
  tls_cert: /etc/sentinel/tls.crt
  tls_key: /etc/sentinel/tls.key
  basic_auth: {{prometheus: "sha256:{digest}"}}
backfill: 0s
"""
    config = parse_config(text, FILE)
    assert config.notify.cooldown == timedelta(0)
    assert config.notify.give_up_after == timedelta(days=7)
    kinds = ["alertmanager", "alertmanager", "apprise", "apprise", "apprise"]
    assert [t.kind for t in config.notify.targets] == kinds
    # every record to Alertmanager and mail; a pager hears the opening and the escalations
    wanted = [
        [status for status in ("open", "update", "closed") if t.wants(status)]
        for t in config.notify.targets
    ]
    assert wanted == [
        ["open", "update", "closed"],
        ["open", "update", "closed"],
        ["open", "update"],
        ["open", "update", "closed"],
        ["open", "closed"],
    ]
    assert config.metrics.listen == "[::1]:9817"
    assert config.metrics.basic_auth == (("prometheus", "sha256:" + digest.lower()),)
    assert config.backfill == timedelta(0)


@pytest.mark.parametrize("value", ["off", "false", "no", '""', "", "OFF"])
def test_metrics_can_be_turned_off(value: str) -> None:
    assert parse_config(f"metrics:\n  listen: {value}\n", FILE).metrics.listen == "off"


@pytest.mark.parametrize("value", [":9817", "0.0.0.0:9817", "localhost:0", "[::]:9817"])
def test_metrics_listen_forms(value: str) -> None:
    assert parse_config(f'metrics: {{listen: "{value}"}}\n', FILE).metrics.listen == value


def test_host_address_is_a_slash_32_network() -> None:
    config = parse_config("networks: {trusted: [203.0.113.7, '2001:db8::/32']}\n", FILE)
    assert [str(n) for n in config.trusted_networks] == ["203.0.113.7/32", "2001:db8::/32"]


# --- errors: one line naming file, line and key path ------------------------------------

ERRORS = [
    # (document, line, key path, part of the message)
    (
        "rules:\n  bulk_download:\n    window: ten\n",
        3,
        "rules.bulk_download.window",
        "invalid duration 'ten' (use 30s",
    ),
    (
        "rules:\n  bulk_download: {window: 10}\n",
        2,
        "rules.bulk_download.window",
        "expected a duration",
    ),
    ("rules:\n  brute_force: {window: 0s}\n", 2, "rules.brute_force.window", "longer than zero"),
    (
        "rules:\n  bulk_download: {max_bytes: 1XB}\n",
        2,
        "rules.bulk_download.max_bytes",
        "invalid size '1XB'",
    ),
    ("rules:\n  bulk_download: {max_bytes: 0}\n", 2, "rules.bulk_download.max_bytes", "at least 1"),
    (
        "rules:\n  bulk_download: {max_files: -3}\n",
        2,
        "rules.bulk_download.max_files",
        "at least 1",
    ),
    (
        "rules:\n  bulk_download: {max_files: '100'}\n",
        2,
        "rules.bulk_download.max_files",
        "expected an integer, got a string",
    ),
    (
        "rules:\n  bulk_download: {max_files: 1.5}\n",
        2,
        "rules.bulk_download.max_files",
        "expected an integer, got a number",
    ),
    (
        "rules:\n  bulk_download: {enabled: 'true'}\n",
        2,
        "rules.bulk_download.enabled",
        "expected a boolean",
    ),
    (
        "rules:\n  bulk_download: {enabled: 1}\n",
        2,
        "rules.bulk_download.enabled",
        "expected a boolean",
    ),
    (
        "rules:\n  bulk_download: {severity: fatal}\n",
        2,
        "rules.bulk_download.severity",
        "unknown severity 'fatal'",
    ),
    (
        "rules:\n  bulk_download: {windw: 10m}\n",
        2,
        "rules.bulk_download",
        "unknown key 'windw' (did you mean 'window'?)",
    ),
    (
        "rules:\n  bulk_downloads: {}\n",
        2,
        "rules",
        "unknown key 'bulk_downloads' (did you mean 'bulk_download'?)",
    ),
    ("rules:\n  bulk_download: off\n", 2, "rules.bulk_download", "expected a mapping"),
    ("rules:\n  off_hours: {hours: '7-20'}\n", 2, "rules.off_hours.hours", "invalid hours '7-20'"),
    ("rules:\n  off_hours: {hours: '08:00-08:00'}\n", 2, "rules.off_hours.hours", "same time"),
    ("rules:\n  off_hours: {hours: '25:00-08:00'}\n", 2, "rules.off_hours.hours", "invalid hours"),
    (
        "rules:\n  off_hours:\n    days:\n      - mon\n      - funday\n",
        5,
        "rules.off_hours.days[1]",
        "unknown day 'funday'",
    ),
    ("rules:\n  off_hours: {days: []}\n", 2, "rules.off_hours.days", "at least one day"),
    ("rules:\n  off_hours: {days: mon}\n", 2, "rules.off_hours.days", "expected a list"),
    ("colour: blue\n", 1, "", "unknown key 'colour'"),
    ("server_name: a\nserver_name: b\n", 2, "", "duplicate key 'server_name'"),
    ("server_name: 42\n", 1, "server_name", "expected a server name, got an integer"),
    ("server_name: ''\n", 1, "server_name", "empty string"),
    ("timezone: Mars/Olympus\n", 1, "timezone", "unknown time zone 'Mars/Olympus'"),
    ("timezone: ../../etc/passwd\n", 1, "timezone", "unknown time zone"),
    ("state_dir: var/lib/sentinel\n", 1, "state_dir", "not an absolute path"),
    ("- just\n- a list\n", 1, "", "expected a mapping"),
    ("sources:\n  - format: vsftpd\n", 2, "sources[0]", "exactly one of path"),
    ("sources:\n  - {path: /a, journal: ssh}\n", 2, "sources[0]", "exactly one of path"),
    (
        "sources:\n  - {path: /a, format: wuftpd}\n",
        2,
        "sources[0].format",
        "'wuftpd' is not one of vsftpd",
    ),
    (
        "sources:\n  - {path: /a, name: 'my source'}\n",
        2,
        "sources[0].name",
        "invalid name 'my source'",
    ),
    (
        "sources:\n  - {path: /a, name: 'x', timezone: Nowhere}\n",
        2,
        "sources[0].timezone",
        "unknown time zone",
    ),
    (
        "sources:\n  - {path: /a, format: vsftpd}\n  - {path: /b, format: vsftpd}\n",
        3,
        "sources[1]",
        "name 'vsftpd' is already used by sources[0] (line 2)",
    ),
    (
        "sources:\n  - {path: /a, name: a}\n  - {path: /a, name: b}\n",
        3,
        "sources[1]",
        "log '/a' is already used by sources[0]",
    ),
    ("sources:\n  - {journal: 'ssh service'}\n", 2, "sources[0].journal", "invalid systemd unit"),
    ("sources:\n  - /var/log/vsftpd.log\n", 2, "sources[0]", "expected a mapping"),
    ("sources: {path: /a}\n", 1, "sources", "expected a list"),
    (
        "networks:\n  trusted: [10.0.0.1/8]\n",
        2,
        "networks.trusted[0]",
        "host bits set (did you mean 10.0.0.0/8?)",
    ),
    ("networks:\n  trusted: [10.0.0.0/33]\n", 2, "networks.trusted[0]", "invalid network"),
    ("networks:\n  trusted: [lan]\n", 2, "networks.trusted[0]", "invalid network 'lan'"),
    ("networks:\n  untrusted: []\n", 2, "networks", "unknown key 'untrusted'"),
    ("directories:\n  - {max_age: 7d}\n", 2, "directories[0]", "missing path"),
    ("directories:\n  - {path: srv/ftp}\n", 2, "directories[0].path", "not an absolute path"),
    (
        "directories:\n  - {path: /srv, action: shred}\n",
        2,
        "directories[0].action",
        "'shred' is not one of report",
    ),
    (
        "directories:\n  - {path: /srv, age_by: birth}\n",
        2,
        "directories[0].age_by",
        "not one of atime",
    ),
    (
        "directories:\n  - {path: /srv, inspect: yes please}\n",
        2,
        "directories[0].inspect",
        "expected a boolean",
    ),
    (
        "directories:\n  - {path: /srv, include: []}\n",
        2,
        "directories[0].include",
        "at least one pattern",
    ),
    (
        "directories:\n  - {path: /srv, include: '*'}\n",
        2,
        "directories[0].include",
        "expected a list",
    ),
    (
        "directories:\n  - {path: /srv, max_age: 7 days}\n",
        2,
        "directories[0].max_age",
        "invalid duration",
    ),
    (
        "directories:\n  - {path: /srv, action: quarantine, quarantine_dir: /srv/q}\n",
        2,
        "directories[0].quarantine_dir",
        "inside the supervised",
    ),
    (
        "directories:\n  - {path: /srv}\n  - {path: /srv}\n",
        3,
        "directories[1]",
        "already listed at directories[0]",
    ),
    ("directories:\n  - {path: /srv, served_as: pub}\n", 2, "directories[0].served_as", "plain"),
    (
        "directories:\n  - {path: /srv, served_as: /pub/../etc}\n",
        2,
        "directories[0].served_as",
        "not a plain absolute path",
    ),
    ("server_configs:\n  - {path: /etc/vsftpd.conf}\n", 2, "server_configs[0]", "missing kind"),
    (
        "server_configs:\n  - {path: /etc/x.conf, kind: apache}\n",
        2,
        "server_configs[0].kind",
        "not one of vsftpd, proftpd",
    ),
    ("notify:\n  targets:\n    - {min_severity: info}\n", 3, "notify.targets[0]", "missing url"),
    ("notify:\n  targets:\n    - {url: ''}\n", 3, "notify.targets[0].url", "empty string"),
    ("notify:\n  targets:\n    - {url: 'mailto://…'}\n", 3, "notify.targets[0].url", "placeholder"),
    (
        "notify:\n  targets:\n    - {url: 'not a url'}\n",
        3,
        "notify.targets[0].url",
        "expected scheme://",
    ),
    (
        "notify:\n  targets:\n    - {url: 'alertmanager://am.example.org'}\n",
        3,
        "notify.targets[0].url",
        "use alertmanager://host:port",
    ),
    (
        "notify:\n  targets:\n    - {url: 'json://x', min_severity: loud}\n",
        3,
        "notify.targets[0].min_severity",
        "unknown severity",
    ),
    (
        "notify:\n  targets:\n    - {url: 'json://x', statuses: [open, resolved]}\n",
        3,
        "notify.targets[0].statuses[1]",
        "unknown status 'resolved'",
    ),
    (
        "notify:\n  targets:\n    - {url: 'json://x', statuses: []}\n",
        3,
        "notify.targets[0].statuses",
        "non-empty list",
    ),
    ("notify:\n  cooldown: 15\n", 2, "notify.cooldown", "expected a duration"),
    ("notify:\n  retries: 3\n", 2, "notify", "unknown key 'retries'"),
    ("metrics:\n  listen: 9817\n", 2, "metrics.listen", "expected host:port"),
    ("metrics:\n  listen: '127.0.0.1'\n", 2, "metrics.listen", "invalid listen address"),
    ("metrics:\n  listen: '::1:9817'\n", 2, "metrics.listen", "invalid listen address"),
    ("metrics:\n  listen: '[::g]:9817'\n", 2, "metrics.listen", "invalid IPv6 address"),
    ("metrics:\n  listen: '127.0.0.1:70000'\n", 2, "metrics.listen", "out of range"),
    ("metrics:\n  listen: true\n", 2, "metrics.listen", "use host:port"),
    ("metrics:\n  tls_cert: /etc/c.pem\n", 2, "metrics", "go together"),
    (
        "metrics:\n  basic_auth: {prom: hunter2}\n",
        2,
        "metrics.basic_auth.prom",
        "plain passwords are not accepted",
    ),
    ("metrics:\n  basic_auth: [prom]\n", 2, "metrics.basic_auth", "expected a mapping"),
    ("backfill: soon\n", 1, "backfill", "invalid duration 'soon'"),
    ("server_name: [unclosed\n", 2, "", "invalid YAML"),
    (
        "a: 1\n---\nb: 2\n",
        2,
        "",
        "invalid YAML: expected a single document in the stream, but found another",
    ),
    ("server_name: x\n\tsources: []\n", 2, "", "invalid YAML"),
    ("server_name: *nothing\n", 1, "", "invalid YAML"),
    ("server_name: 'bell\x07'\n", 1, "", "invalid YAML"),
    ("? [a, b]\n: c\n", 1, "", "unknown key"),
    ("rules: !!python/object:os.system {}\n", 1, "rules", "expected a mapping"),
    ("<<: {server_name: x}\n", 1, "", "unknown key '<<'"),
]


@pytest.mark.parametrize(("text", "line", "key", "message"), ERRORS)
def test_errors_name_file_line_and_key(text: str, line: int, key: str, message: str) -> None:
    error = error_of(text)
    prefix = f"{FILE}:{line}: {key}: " if key else f"{FILE}:{line}: "
    assert str(error).startswith(prefix), str(error)
    assert message in str(error)
    assert "\n" not in str(error)
    assert (error.file, error.line, error.key) == (FILE, line, key)


def test_errors_in_the_spec_example_point_at_its_line() -> None:
    text = SPEC_EXAMPLE.replace("max_failures: 10", "max_failures: ten")
    error = error_of(text)
    line = 1 + SPEC_EXAMPLE[: SPEC_EXAMPLE.index("max_failures: 10")].count("\n")
    assert str(error).startswith(f"{FILE}:{line}: rules.brute_force.max_failures: expected an")


def test_plain_password_is_never_echoed() -> None:
    error = error_of("metrics:\n  basic_auth: {prom: CorrectHorseBattery}\n")
    assert "CorrectHorseBattery" not in str(error)


def test_alertmanager_url_error_masks_its_password() -> None:
    error = error_of(
        "notify:\n  targets:\n    - url: alertmanager://ops:TopSecret1@am.example.org\n"
    )
    assert "TopSecret1" not in str(error) and "ops:***@am.example.org" in str(error)


def test_unreadable_files(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"server_name: a\nbad: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"binary\.yaml:2: not UTF-8 text$"):
        load_config(binary)
    with pytest.raises(ConfigError, match=r": cannot read: Is a directory$"):
        load_config(tmp_path)
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_config(huge)


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfserver_name: bom\n")
    assert load_config(path).server_name == "bom"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    error = error_of("a: " + "[" * 50_000 + "]" * 50_000 + "\n")
    assert "invalid YAML" in str(error) or "unknown key" in str(error)


# --- where the configuration comes from ---------------------------------------------------


def test_resolve_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli, env, default = (tmp_path / n for n in ("cli.yaml", "env.yaml", "default.yaml"))
    for path in (cli, env, default):
        path.write_text("", encoding="utf-8")
    monkeypatch.setattr(loader, "DEFAULT_CONFIG_PATH", default)
    monkeypatch.setenv("SENTINEL_CONFIG", str(env))
    assert resolve_config_path(str(cli), required=True) == cli
    assert resolve_config_path(None, required=True) == env
    monkeypatch.setenv("SENTINEL_CONFIG", "")
    assert resolve_config_path(None, required=True) == default
    default.unlink()
    assert resolve_config_path(None, required=False) is None
    with pytest.raises(ConfigError, match=r"default\.yaml: no such file \(give a configuration"):
        resolve_config_path(None, required=True)


def test_explicit_missing_paths_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such file \(given by -c\)"):
        resolve_config_path(str(missing), required=False)
    monkeypatch.setenv("SENTINEL_CONFIG", str(missing))
    with pytest.raises(ConfigError, match=r"given by SENTINEL_CONFIG"):
        resolve_config_path(None, required=False)


def test_default_path_is_specs() -> None:
    assert Path("/etc/sentinel/sentinel.yaml") == DEFAULT_CONFIG_PATH


def test_system_timezone_sources(tmp_path: Path) -> None:
    assert system_timezone({"TZ": "Asia/Tokyo"}) == zoneinfo.ZoneInfo("Asia/Tokyo")
    assert system_timezone({"TZ": ":Europe/Paris"}) == zoneinfo.ZoneInfo("Europe/Paris")
    zone_file = Path(zoneinfo.TZPATH[0]) / "America" / "New_York"
    link = tmp_path / "localtime"
    link.symlink_to(zone_file)
    assert system_timezone({}, link) == zoneinfo.ZoneInfo("America/New_York")
    copy = tmp_path / "copied"
    shutil.copyfile(zone_file, copy)
    copied = system_timezone({"TZ": "Not/AZone"}, copy)
    assert copied.utcoffset(datetime(2026, 1, 15)) == timedelta(hours=-5)
    assert system_timezone({}, tmp_path / "absent") is not None


# --- units --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("10m", 600),
        ("1h", 3600),
        ("7d", 604800),
        ("1h30m", 5400),
        ("2w", 1209600),
        ("0s", 0),
        (" 5m ", 300),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "10", "ten", "1.5h", "-5m", "1 h", "5y", "h", "99999d", "5M", "1H"]
)
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("500MB", 500_000_000),
        ("1GiB", 1 << 30),
        ("64MiB", 64 << 20),
        ("10k", 10_000),
        ("1.5GB", 1_500_000_000),
        ("2 KiB", 2048),
        ("1gib", 1 << 30),
        ("123", 123),
        ("7B", 7),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "1XB", "1.5B", "-1MB", "1e9", "1,5GB"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


@given(st.integers(min_value=0, max_value=3650 * 86400))
def test_duration_display_reads_back(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@given(st.integers(min_value=1, max_value=1 << 50))
def test_size_display_reads_back(size: int) -> None:
    assert parse_size(format_size(size)) == size


# --- fuzzing: a Config or a ConfigError, never anything else -------------------------------

KEYS = sorted(
    set(loader.TOP_KEYS)
    | set(RULE_SETTINGS)
    | {f.name for cls in RULE_SETTINGS.values() for f in dataclasses.fields(cls)}
    | {"path", "journal", "format", "name", "trusted", "targets", "url", "min_severity", "listen"}
    | {"statuses", "open", "update", "closed"}
    | {"kind", "action", "max_age", "include", "inspect", "cooldown", "basic_auth", "tls_cert"}
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "10m",
            "1GiB",
            "vsftpd",
            "/var/log/x",
            "10.0.0.0/8",
            "07:00-20:00",
            "mon",
            "critical",
            "json://h.example/x",
            "alertmanager://h:1",
            ":9817",
            "Europe/Paris",
            "quarantine",
            "sshd",
            "auto",
            "off",
            "sha256:" + "0" * 64,
        ]
    ),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=25,
)


def _parse_or_error(text: str) -> None:
    try:
        result = parse_config(text, FILE)
    except ConfigError as error:
        assert str(error).startswith(FILE) and "\n" not in str(error)
    else:
        assert isinstance(result, Config)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_fuzz_structured_documents(document: object) -> None:
    _parse_or_error(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(loader.TOP_KEYS), DOCUMENTS, max_size=4))
def test_fuzz_top_level_sections(document: dict[str, object]) -> None:
    _parse_or_error(yaml.safe_dump(document, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"abc:-[]{}?!&*#'\"|>%@`,\n\t \\0.~", "\x85", "é"])))
def test_fuzz_raw_text(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_one_value_of_the_spec_example(data: st.DataObject) -> None:
    """Any one value of SPEC's example replaced by anything: accepted or a precise error."""
    lines = SPEC_EXAMPLE.splitlines()
    candidates = [i for i, line in enumerate(lines) if re.match(r"\s*[a-z_]+: \S", line)]
    index = data.draw(st.sampled_from(candidates))
    value = data.draw(SCALARS)
    key = lines[index].split(":", 1)[0]
    dumped = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    lines[index] = f"{key}: {dumped}"
    try:
        parse_config("\n".join(lines) + "\n", FILE)
    except ConfigError as error:
        assert error.line is not None and error.line <= index + 2, str(error)
        assert "\n" not in str(error)


def test_utc_default_is_not_assumed() -> None:
    """The default zone is the system's: with TZ set it follows TZ, not UTC."""
    assert system_timezone({"TZ": "Pacific/Auckland"}) != UTC
