"""A fleet's pieces on their own: config keys, path patterns, host fields, rule keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sentinel.alerts import fingerprint
from sentinel.config import ConfigError, parse_config
from sentinel.config.model import SourceConfig
from sentinel.config.summary import describe
from sentinel.events import Event, Kind
from sentinel.fleet import names_servers
from sentinel.fleet.naming import named, syslog_host
from sentinel.fleet.paths import PathPattern, fleet_source, source_files
from sentinel.parsers import PARSERS
from sentinel.parsers.context import ParseContext
from sentinel.pipeline import Pipeline
from sentinel.rules.fleet import FleetOptions, FleetView
from sentinel.rules.logins import BruteForceRule, SharedAccountRule
from sentinel.rules.settings import BruteForceSettings, SharedAccountSettings
from sentinel.stats import SourceStats

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
CTX = ParseContext("auth", UTC, T0)
SSH_FAILURE = "sshd[812]: Failed password for alice from 203.0.113.9 port 40022 ssh2"


def failure(second: float, ip: str, server: str | None = None, user: str = "alice") -> Event:
    ts = T0 + timedelta(seconds=second)
    return Event(ts, Kind.LOGIN_FAILURE, "auth", user, ip, server=server)


def feed(rule: BruteForceRule | SharedAccountRule, events: list[Event]) -> list[dict[str, object]]:
    return [a.to_dict() for e in events for a in rule.feed(e, e.ts.timestamp())]


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "f.yaml")
    return str(caught.value)


def test_fleet_keys_are_read_and_validated() -> None:
    config = parse_config(
        "fleet: {servers: [srv1, srv2], shared_accounts: true}\n"
        "networks: {trusted: [10.0.0.0/8], ipv6_prefix: 56}\n"
        "sources: [{path: '/var/log/remote/{server}/auth.log', format: openssh}]\n"
    )
    assert config.fleet.servers == ("srv1", "srv2") and config.fleet.shared_accounts
    assert config.ipv6_prefix == 56 and len(config.trusted_networks) == 1
    assert names_servers(config)
    assert not names_servers(parse_config("sources: [{path: /var/log/auth.log}]\n"))
    assert parse_config("").ipv6_prefix == 64
    assert "f.yaml:1" in error_of("fleet: {servers: [srv1, srv1]}\n")
    assert "listed twice" in error_of("fleet: {servers: [srv1, srv1]}\n")
    assert "unknown key" in error_of("fleet: {members: [a]}\n").lower()
    assert "at least 32" in error_of("networks: {ipv6_prefix: 16}\n")
    assert "at most 128" in error_of("networks: {ipv6_prefix: 129}\n")
    assert "once" in error_of("sources: [{path: '/l/{server}/{server}.log'}]\n")
    assert "placeholder" in error_of("sources: [{path: '/l/{host}/auth.log'}]\n")
    assert "invalid server name" in error_of("sources: [{path: /l/a.log, server: 'a b'}]\n")


def test_pattern_files_name_their_server(tmp_path: Path) -> None:
    for host in ("srv1", "srv-2.example.org", "bad host"):
        (tmp_path / host).mkdir()
        (tmp_path / host / "auth.log").write_text("")
        (tmp_path / host / "auth.log.1").write_text("")  # rotated: not a file of the source
    (tmp_path / "dir.log").mkdir()
    source = SourceConfig("fleet", "openssh", tmp_path / "{server}" / "auth.log")
    assert source.many
    files = source_files(source)
    assert [(f.server, f.key) for f in files] == [
        ("srv-2.example.org", f"fleet:{tmp_path}/srv-2.example.org/auth.log"),
        ("srv1", f"fleet:{tmp_path}/srv1/auth.log"),
    ]
    globbed = SourceConfig("x", "openssh", tmp_path / "srv*" / "auth.log", server="fallback")
    assert {f.server for f in source_files(globbed)} == {"fallback"}
    plain = SourceConfig("one", "vsftpd", tmp_path / "srv1" / "auth.log", server="srv1")
    assert [(f.key, f.server) for f in source_files(plain)] == [("one", "srv1")]
    assert PathPattern(source).match(f"{tmp_path}/a/b/auth.log") == (False, None)


def test_replayed_files_and_their_rotations_find_their_source(tmp_path: Path) -> None:
    config = parse_config(f"sources: [{{path: '{tmp_path}/{{server}}/auth.log'}}]\n")
    for name in ("auth.log", "auth.log.1", "auth.log.2.gz", "auth.log-20261122"):
        source, server = fleet_source(config, tmp_path / "srv3" / name)
        assert source is config.sources[0] and server == "srv3"
    assert fleet_source(config, tmp_path / "other.log") == (None, None)


def test_syslog_host_in_both_styles_and_none_elsewhere() -> None:
    assert syslog_host(f"Nov 22 11:46:07 srv1 {SSH_FAILURE}") == "srv1"
    assert syslog_host(f"2026-11-22T11:46:07.123456+01:00 srv2.lab {SSH_FAILURE}") == "srv2.lab"
    assert syslog_host("Tue Nov 22 11:46:07 2026 [pid 3] CONNECT: Client") is None  # vsftpd.log
    assert syslog_host("Nov 22 11:46:07 sshd[1]: no host field") is None
    assert syslog_host("") is None


def test_named_parser_sets_the_server_and_qualifies_sessions() -> None:
    line = f"Nov 22 11:46:07 srv1 {SSH_FAILURE}"
    event = named(PARSERS["openssh"], "fallback", from_host=True)(line, CTX)
    assert event is not None and event.server == "srv1" and event.session == "srv1/ssh:812"
    own = named(PARSERS["openssh"], "fallback", from_host=False)(line, CTX)
    assert own is not None and own.server == "fallback"
    plain = PARSERS["openssh"](line, CTX)
    assert plain is not None and plain.server is None and plain.session == "ssh:812"


def test_one_server_keeps_its_fingerprints() -> None:
    rule = BruteForceRule(BruteForceSettings(max_failures=3), server="ftp-test")
    (alert,) = feed(rule, [failure(i, "203.0.113.9") for i in range(3)])
    assert alert["fingerprint"] == fingerprint("ftp-test", "brute_force", "203.0.113.9")
    assert alert["server"] == "ftp-test" and "servers" not in alert


def test_an_address_counts_across_servers() -> None:
    rule = BruteForceRule(BruteForceSettings(max_failures=6), server="central")
    events = [failure(i * 3 + n, "203.0.113.9", f"srv{n}") for i in range(2) for n in range(3)]
    (alert,) = feed(rule, events)
    assert alert["servers"] == ["srv0", "srv1", "srv2"] and alert["server"] == "srv0"  # first
    assert alert["fingerprint"] == fingerprint("central", "brute_force", "203.0.113.9")


def test_ipv6_clients_count_by_block_unless_the_prefix_is_128() -> None:
    events = [failure(i, f"2001:db8:7:9::{i + 1:x}") for i in range(20)]
    events.append(failure(21, "2001:db8:7:a::1"))  # the next /64: not in the block
    (alert,) = feed(BruteForceRule(BruteForceSettings(), server="s"), events)
    assert alert["details"]["network"] == "2001:db8:7:9::/64"  # type: ignore[index]
    assert alert["ips"] == [f"2001:db8:7:9::{i:x}" for i in range(1, 11)] and "ip" not in alert
    per_address = BruteForceRule(BruteForceSettings(), server="s", fleet=FleetOptions(128))
    assert feed(per_address, events) == []
    view = FleetView(FleetOptions(48), 60.0, 10)
    assert view.address("2001:db8:7:9::1") == "2001:db8:7::/48"
    assert view.address("::ffff:198.51.100.7") == "198.51.100.7"
    assert view.address("198.51.100.7") == "198.51.100.7"


def test_accounts_are_per_server_unless_the_base_is_shared() -> None:
    def logins(server_a: str, server_b: str) -> list[Event]:
        return [
            Event(T0, Kind.LOGIN_SUCCESS, "auth", "alice", "198.51.100.1", server=server_a),
            Event(T0, Kind.LOGIN_SUCCESS, "auth", "alice", "198.51.100.2", server=server_b),
        ]

    settings = SharedAccountSettings()
    assert feed(SharedAccountRule(settings, server="c"), logins("srv1", "srv2")) == []
    (same,) = feed(SharedAccountRule(settings, server="c"), logins("srv1", "srv1"))
    assert same["server"] == "srv1"
    assert "network" not in same["details"]  # type: ignore[operator]  # no block: an account
    assert same["ips"] == ["198.51.100.1", "198.51.100.2"]
    shared = SharedAccountRule(settings, server="c", fleet=FleetOptions(shared_accounts=True))
    (alert,) = feed(shared, logins("srv1", "srv2"))
    assert alert["servers"] == ["srv1", "srv2"]
    assert alert["fingerprint"] == fingerprint("c", "shared_account", "alice")


def test_one_servers_pam_and_daemon_lines_pair_two_servers_do_not() -> None:
    config = parse_config("fleet: {}\n")
    pipeline = Pipeline(config)
    stats = SourceStats()
    pam = Event(T0, Kind.LOGIN_FAILURE, "auth", "alice", "203.0.113.9", detail="pam", server="a")
    own = pam._replace(detail=None)
    for event in (pam, own, pam._replace(server="b"), own._replace(server="c")):
        pipeline.process_event(event, stats)
    assert stats.duplicates == 1


def test_check_config_shows_the_fleet_and_what_a_pattern_matches(tmp_path: Path) -> None:
    (tmp_path / "srv1").mkdir(mode=0o755)
    (tmp_path / "srv1" / "auth.log").write_text("")
    config = parse_config(
        f"fleet: {{servers: [srv1], shared_accounts: true}}\n"
        f"networks: {{ipv6_prefix: 128}}\n"
        f"sources: [{{path: '{tmp_path}/{{server}}/auth.log', format: openssh, name: fleet}}]\n"
    )
    lines = describe(config)
    assert f"  fleet        openssh  {tmp_path}/{{server}}/auth.log  (1 file(s) now)" in lines
    assert "fleet: servers srv1; accounts shared by all servers" in lines
    assert "IPv6 clients counted by /128" in lines
    assert not any(line.startswith("fleet:") for line in describe(parse_config("")))
