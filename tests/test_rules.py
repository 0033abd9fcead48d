"""Rules on events: thresholds exactly, one alert per incident, bounded memory, restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from sentinel.events import Direction, Event, Kind
from sentinel.rules.access import AnonymousAccessRule, OffHoursRule, UntrustedNetworkRule
from sentinel.rules.base import Rule
from sentinel.rules.logins import BruteForceRule, PasswordSprayRule, SharedAccountRule
from sentinel.rules.settings import (
    AnonymousAccessSettings,
    BruteForceSettings,
    BulkDownloadSettings,
    HoursRange,
    OffHoursSettings,
    PasswordSpraySettings,
    SharedAccountSettings,
    UntrustedNetworkSettings,
    Weekdays,
)
from sentinel.rules.volume import BulkDownloadRule

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
SERVER = "ftp-test"


def ev(kind: Kind, second: float, **fields: object) -> Event:
    return Event(ts=T0 + timedelta(seconds=second), kind=kind, source="test", **fields)  # type: ignore[arg-type]


def run(rule: Rule, events: list[Event]) -> list[dict[str, object]]:
    alerts = []
    for event in events:
        alerts.extend(a.to_dict() for a in rule.feed(event, event.ts.timestamp()))
    return alerts


def failures(
    n: int, ip: str = "203.0.113.7", user: str = "alice", step: float = 1.0
) -> list[Event]:
    return [ev(Kind.LOGIN_FAILURE, i * step, ip=ip, user=user) for i in range(n)]


def test_brute_force_fires_exactly_at_threshold() -> None:
    rule = BruteForceRule(BruteForceSettings(max_failures=10), server=SERVER)
    assert run(rule, failures(9)) == []
    rule = BruteForceRule(BruteForceSettings(max_failures=10), server=SERVER)
    alerts = run(rule, failures(10))
    assert len(alerts) == 1
    assert alerts[0]["count"] == 10
    assert alerts[0]["ip"] == "203.0.113.7"
    assert alerts[0]["user"] == "alice"
    assert alerts[0]["first_seen"] == T0.isoformat()
    assert alerts[0]["severity"] == "warning"


def test_brute_force_of_25_attempts_is_one_alert() -> None:
    rule = BruteForceRule(BruteForceSettings(), server=SERVER)
    assert len(run(rule, failures(25))) == 1


def test_brute_force_window_slides() -> None:
    # 10 failures spread over 10 min never have 10 within 5 min
    rule = BruteForceRule(BruteForceSettings(), server=SERVER)
    assert run(rule, failures(10, step=60.0)) == []


def test_brute_force_new_incident_after_quiet_window() -> None:
    rule = BruteForceRule(BruteForceSettings(), server=SERVER)
    first = failures(10)
    later = [ev(Kind.LOGIN_FAILURE, 3600 + i, ip="203.0.113.7", user="alice") for i in range(10)]
    alerts = run(rule, first + later)
    assert len(alerts) == 2
    assert alerts[0]["fingerprint"] == alerts[1]["fingerprint"]


def test_password_spray_counts_distinct_users() -> None:
    settings = PasswordSpraySettings(max_users=5)
    same_user = failures(8, ip="198.51.100.9")
    assert run(PasswordSprayRule(settings, server=SERVER), same_user) == []
    four = [ev(Kind.LOGIN_FAILURE, i, ip="198.51.100.9", user=f"u{i}") for i in range(4)]
    assert run(PasswordSprayRule(settings, server=SERVER), four) == []
    six = [ev(Kind.LOGIN_FAILURE, i, ip="198.51.100.9", user=f"u{i}") for i in range(6)]
    alerts = run(PasswordSprayRule(settings, server=SERVER), six)
    assert len(alerts) == 1
    assert alerts[0]["count"] == 5
    assert alerts[0]["details"] == {"users": ["u0", "u1", "u2", "u3", "u4"]}


def logins(user: str, ips: list[str], step: float = 60.0, **extra: object) -> list[Event]:
    return [ev(Kind.LOGIN_SUCCESS, i * step, user=user, ip=ip, **extra) for i, ip in enumerate(ips)]


def test_shared_account_more_than_max_ips() -> None:
    settings = SharedAccountSettings(max_ips=1)
    one_place = logins("carol", ["192.0.2.5"] * 5)
    assert run(SharedAccountRule(settings, server=SERVER), one_place) == []
    alerts = run(
        SharedAccountRule(settings, server=SERVER),
        logins("carol", ["192.0.2.5", "192.0.2.6", "192.0.2.7"]),
    )
    assert len(alerts) == 1
    assert alerts[0]["ips"] == ["192.0.2.5", "192.0.2.6"]
    assert alerts[0]["user"] == "carol"


def test_shared_account_ignores_anonymous_and_old_logins() -> None:
    settings = SharedAccountSettings(max_ips=1, window=timedelta(hours=1))
    rule = SharedAccountRule(settings, server=SERVER)
    anon = logins("anonymous", ["192.0.2.5", "192.0.2.6"], anonymous=True)
    assert run(rule, anon) == []
    apart = logins("dave", ["192.0.2.5", "192.0.2.6"], step=7200.0)
    assert run(rule, apart) == []


def downloads(n: int, user: str, ip: str, size: int = 1000, step: float = 1.0) -> list[Event]:
    return [
        ev(
            Kind.TRANSFER,
            i * step,
            user=user,
            ip=ip,
            path=f"/out/f{i}.csv",
            nbytes=size,
            direction=Direction.DOWNLOAD,
        )
        for i in range(n)
    ]


def test_bulk_download_more_than_max_files_one_alert_for_both_views() -> None:
    settings = BulkDownloadSettings(max_files=100)
    assert (
        run(BulkDownloadRule(settings, server=SERVER), downloads(100, "labsync", "10.1.1.1")) == []
    )
    alerts = run(BulkDownloadRule(settings, server=SERVER), downloads(150, "labsync", "10.1.1.1"))
    assert len(alerts) == 1
    assert alerts[0]["user"] == "labsync"
    assert alerts[0]["ip"] == "10.1.1.1"
    assert alerts[0]["count"] == 101
    assert alerts[0]["bytes"] == 101_000
    assert "labsync downloaded 101 files" in str(alerts[0]["summary"])


def test_bulk_download_by_bytes() -> None:
    settings = BulkDownloadSettings(max_bytes=5_000_000)  # type: ignore[arg-type]
    alerts = run(
        BulkDownloadRule(settings, server=SERVER), downloads(6, "bob", "10.1.1.2", 1_000_000)
    )
    assert len(alerts) == 1
    assert alerts[0]["bytes"] == 6_000_000


def test_bulk_download_address_view_for_several_users() -> None:
    settings = BulkDownloadSettings(max_files=100)
    events = downloads(60, "u1", "10.9.9.9") + downloads(60, "u2", "10.9.9.9")
    events.sort(key=lambda e: e.ts)
    alerts = run(BulkDownloadRule(settings, server=SERVER), events)
    assert len(alerts) == 1
    assert alerts[0]["ip"] == "10.9.9.9"
    assert "user" not in alerts[0]
    assert alerts[0]["details"] == {"users": ["u1", "u2"]}


def test_uploads_are_not_bulk_downloads() -> None:
    events = [
        ev(Kind.TRANSFER, i, user="u", ip="10.0.0.1", nbytes=1, direction=Direction.UPLOAD)
        for i in range(200)
    ]
    assert run(BulkDownloadRule(BulkDownloadSettings(), server=SERVER), events) == []


def test_anonymous_access_one_alert_per_address_and_incident() -> None:
    rule = AnonymousAccessRule(AnonymousAccessSettings(), server=SERVER)
    events = [ev(Kind.LOGIN_SUCCESS, 0, user="anonymous", ip="192.0.2.1", anonymous=True)]
    events += [
        ev(
            Kind.TRANSFER,
            i + 1,
            user="anonymous",
            ip="192.0.2.1",
            anonymous=True,
            path="/pub/x",
            nbytes=5,
            direction=Direction.DOWNLOAD,
        )
        for i in range(5)
    ]
    events.append(ev(Kind.LOGIN_SUCCESS, 10, user="alice", ip="192.0.2.1"))
    alerts = run(rule, events)
    assert len(alerts) == 1
    assert alerts[0]["severity"] == "critical"
    assert alerts[0]["summary"] == "anonymous login from 192.0.2.1"


def test_untrusted_network() -> None:
    import ipaddress

    rule = UntrustedNetworkRule(
        UntrustedNetworkSettings(),
        server=SERVER,
        trusted=[ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32")],
    )
    events = logins("alice", ["10.2.3.4", "2001:db8::1", "198.51.100.4", "198.51.100.4"])
    alerts = run(rule, events)
    assert [a["ip"] for a in alerts] == ["198.51.100.4"]


def test_trusted_networks_answer_as_ipaddress_does() -> None:
    """The integer reading of dotted IPv4 addresses gives ipaddress's verdict on each."""
    import ipaddress

    from sentinel.rules.networks import VERDICTS_KEPT, TrustedNetworks

    networks = [
        ipaddress.ip_network(text)
        for text in ("10.0.0.0/8", "192.168.10.0/24", "203.0.113.7/32", "2001:db8::/32")
    ]
    trusted = TrustedNetworks(networks)
    texts = [
        "10.0.0.0", "10.255.255.255", "11.0.0.0", "9.255.255.255", "192.168.10.77",
        "192.168.11.1", "203.0.113.7", "203.0.113.8", "0.0.0.0", "255.255.255.255",
        "010.0.0.1", "10.0.0", "10.0.0.1.2", "10.0.0.256", "1O.0.0.1", "10.0.0.\u0661",
        "::ffff:10.0.0.1", "2001:db8::1", "2001:db9::1", "fe80::1%eth0", "", "unknown",
    ]  # fmt: skip
    for text in texts:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            expected = False
        else:
            expected = any(address in net for net in networks)
        assert (text in trusted) is expected, text
        assert (text in trusted) is expected, text  # the verdict remembered
    everything = TrustedNetworks([ipaddress.ip_network("0.0.0.0/0")])
    assert "198.51.100.4" in everything and "2001:db8::1" not in everything
    assert "10.0.0.1" not in TrustedNetworks([])
    for i in range(VERDICTS_KEPT + 10):  # bounded: cleared whole when full
        assert f"10.0.{i >> 8}.{i & 255}" in trusted
    assert len(trusted._verdicts) <= VERDICTS_KEPT


def test_off_hours_in_configured_zone() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    settings = OffHoursSettings(
        enabled=True, hours=HoursRange(time(7), time(20)), days=Weekdays(range(5))
    )
    rule = OffHoursRule(settings, server=SERVER, tz=paris)
    # 2026-11-23 is a Monday. 05:30 UTC = 06:30 Paris: off hours; 06:30 UTC = 07:30: fine.
    early = Event(datetime(2026, 11, 23, 5, 30, tzinfo=UTC), Kind.LOGIN_SUCCESS, "t", user="a")
    fine = Event(datetime(2026, 11, 23, 6, 30, tzinfo=UTC), Kind.LOGIN_SUCCESS, "t", user="b")
    sunday = Event(datetime(2026, 11, 22, 12, 0, tzinfo=UTC), Kind.LOGIN_SUCCESS, "t", user="c")
    alerts = run(rule, [early, fine, sunday])
    assert [a["user"] for a in alerts] == ["a", "c"]


def test_memory_is_bounded_under_a_flood_of_addresses() -> None:
    rule = BruteForceRule(BruteForceSettings(max_tracked=1000), server=SERVER)
    for i in range(20_000):
        event = ev(Kind.LOGIN_FAILURE, i * 0.001, ip=f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
        rule.feed(event, event.ts.timestamp())
    assert len(rule.table) == 1000
    assert rule.evictions == 19_000


def test_expiry_forgets_keys_out_of_window() -> None:
    rule = BruteForceRule(BruteForceSettings(), server=SERVER)
    run(rule, failures(3))
    rule.expire((T0 + timedelta(minutes=6)).timestamp())
    assert len(rule.table) == 0


def test_state_survives_a_restart_mid_incident() -> None:
    settings = BulkDownloadSettings(max_files=100)
    events = downloads(101, "labsync", "10.1.1.1")
    before = BulkDownloadRule(settings, server=SERVER)
    assert run(before, events[:60]) == []
    saved = json.loads(json.dumps(before.dump()))
    after = BulkDownloadRule(settings, server=SERVER)
    after.load(saved)
    assert len(run(after, events[60:])) == 1


def test_alert_fields_are_neutralised() -> None:
    rule = BruteForceRule(BruteForceSettings(max_failures=2), server=SERVER)
    alerts = run(rule, failures(2, user="evil\x1b[31m\nuser"))
    assert "\n" not in str(alerts[0]["summary"])
    assert "\x1b" not in str(alerts[0]["user"])


def test_events_slightly_out_of_order_keep_first_before_last() -> None:
    events = failures(10)
    events[3], events[7] = events[7], events[3]
    alerts = run(BruteForceRule(BruteForceSettings(), server=SERVER), events)
    assert len(alerts) == 1
    assert alerts[0]["first_seen"] == T0.isoformat()
    assert alerts[0]["last_seen"] == (T0 + timedelta(seconds=9)).isoformat()
    assert "within 9 s" in str(alerts[0]["summary"])
