"""brute_force_success on events: both variants, exact thresholds, typos, incidents, state."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sentinel.alerts import fingerprint
from sentinel.config import ConfigError, parse_config
from sentinel.events import Event, Kind
from sentinel.pipeline import Pipeline
from sentinel.rules.breakin import BruteForceSuccessRule
from sentinel.rules.registry import build_log_rules
from sentinel.rules.settings import BruteForceSuccessSettings
from tests.test_rule_state import address, bytes_per_key, failure

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
SERVER = "ftp-test"
ATTACKER = "203.0.113.7"


def rule(**settings: Any) -> BruteForceSuccessRule:
    return BruteForceSuccessRule(BruteForceSuccessSettings(**settings), server=SERVER)


def fail(second: float, ip: str | None = ATTACKER, user: str | None = "alice") -> Event:
    return Event(T0 + timedelta(seconds=second), Kind.LOGIN_FAILURE, "test", user, ip)


def ok(second: float, ip: str | None = ATTACKER, user: str = "alice", **more: Any) -> Event:
    return Event(T0 + timedelta(seconds=second), Kind.LOGIN_SUCCESS, "test", user, ip, **more)


def run(detector: BruteForceSuccessRule, events: list[Event]) -> list[dict[str, Any]]:
    return [a.to_dict() for e in events for a in detector.feed(e, e.ts.timestamp())]


def guesses(n: int, ip: str = ATTACKER, user: str = "alice", start: float = 0) -> list[Event]:
    return [fail(start + 2 * i, ip, user) for i in range(n)]


def test_success_after_max_failures_from_the_address_is_one_critical_alert() -> None:
    [alert] = run(rule(), [*guesses(5), ok(20)])
    assert alert["rule"] == "brute_force_success"
    assert alert["severity"] == "critical"
    assert (alert["ip"], alert["user"], alert["count"]) == (ATTACKER, "alice", 5)
    assert alert["fingerprint"] == fingerprint(SERVER, "brute_force_success", f"ip:{ATTACKER}")
    assert alert["first_seen"] == T0.isoformat()
    assert alert["last_seen"] == (T0 + timedelta(seconds=20)).isoformat()
    assert alert["details"] == {
        "variant": "address",
        "failures": 5,
        "first_failure": T0.isoformat(),
        "last_failure": (T0 + timedelta(seconds=8)).isoformat(),
        "success": (T0 + timedelta(seconds=20)).isoformat(),
        "users_tried": ["alice"],
    }
    assert alert["summary"] == (
        f"alice logged in from {ATTACKER} after 5 failed logins from {ATTACKER} since 10:00:00"
    )


def test_threshold_is_exact_and_failures_count_only_within_the_window() -> None:
    assert run(rule(), [*guesses(4), ok(20)]) == []
    late = ok(3600 + 8 + 1)  # the first guess is now more than an hour before
    assert run(rule(), [*guesses(5), late]) == []
    assert len(run(rule(), [*guesses(5), ok(3600)])) == 1
    assert len(run(rule(max_failures=3, window=timedelta(minutes=1)), [*guesses(3), ok(9)])) == 1


def test_failures_after_the_success_do_not_count() -> None:
    assert run(rule(), [ok(0), *guesses(6, start=1)]) == []


def test_a_user_who_mistypes_and_gets_in_raises_nothing_even_day_long() -> None:
    events = []
    for n in range(12):  # one typo then a login, every five minutes, from home and office
        ip = "198.51.100.1" if n % 2 else "198.51.100.2"
        events += [fail(300 * n, ip), ok(300 * n + 5, ip)]
    assert run(rule(), events) == []


def test_a_guessed_password_after_valid_logins_of_another_account_still_alerts() -> None:
    # the attacker logs in as bob between guesses at alice: bob's success forgets only bob's
    events = [*guesses(3), ok(7, user="bob"), *guesses(2, start=10), ok(20)]
    [alert] = run(rule(), events)
    assert (alert["user"], alert["details"]["users_tried"]) == ("alice", ["alice"])


def test_one_alert_per_incident_and_a_new_one_after_a_quiet_window() -> None:
    detector = rule()
    events = [*guesses(5), ok(20), ok(600), *guesses(5, start=700), ok(720)]
    assert len(run(detector, events)) == 1
    later = [*guesses(5, start=720 + 3601), ok(720 + 3601 + 20)]
    [again] = run(detector, later)
    assert again["fingerprint"] == fingerprint(SERVER, "brute_force_success", f"ip:{ATTACKER}")


def test_account_targeted_from_other_addresses() -> None:
    events = [fail(i, f"192.0.2.{i}") for i in range(1, 6)]  # one guess each, 5 addresses
    [alert] = run(rule(), [*events, ok(30, "198.51.100.9")])
    assert (alert["ip"], alert["user"], alert["count"]) == ("198.51.100.9", "alice", 5)
    assert alert["details"]["variant"] == "account"
    assert alert["details"]["failed_from"] == [f"192.0.2.{i}" for i in range(1, 6)]
    assert alert["fingerprint"] == fingerprint(SERVER, "brute_force_success", "user:alice")
    assert "5 other addresses" in alert["summary"]


def test_account_guessed_from_one_other_address_is_that_address_brute_force_only() -> None:
    # its guesses all failed: they tell nothing of who logged in elsewhere
    assert run(rule(), [*guesses(12, ip="192.0.2.1"), ok(60, "198.51.100.9")]) == []
    two = [*guesses(4, ip="192.0.2.1"), fail(9, "192.0.2.2")]
    assert len(run(rule(), [*two, ok(60, "198.51.100.9")])) == 1


def test_failures_for_accounts_the_server_has_not_are_kept_by_address_only() -> None:
    detector = rule()
    flood = [
        Event(T0 + timedelta(seconds=n), Kind.LOGIN_FAILURE, "t", f"u{n}", f"10.0.0.{n}",
              detail="invalid_user")
        for n in range(1, 6)
    ]  # fmt: skip
    run(detector, flood)
    assert (len(detector.addresses), len(detector.accounts)) == (5, 0)


def test_account_variant_does_not_count_the_success_address_own_failures() -> None:
    others = [fail(i, f"192.0.2.{i}") for i in range(1, 5)]  # 4 from elsewhere
    own = guesses(4, ip="198.51.100.9", start=10)  # 4 typos from where she logs in
    assert run(rule(), [*others, *own, ok(30, "198.51.100.9")]) == []
    # the success forgot her own typos: one more failure from elsewhere makes 5
    detector = rule()
    run(detector, [*others, *own, ok(30, "198.51.100.9")])
    assert len(run(detector, [fail(40, "192.0.2.99"), ok(50, "198.51.100.9")])) == 1


def test_account_failures_kept_are_enough_when_the_address_tried_too() -> None:
    # 4 failures from the success's own address interleaved with 5 from others: the
    # account keeps 2 * 5 - 1 = 9, enough to find the 5 others
    events = []
    for i in range(5):
        events += [fail(10 * i, f"192.0.2.{i}"), fail(10 * i + 1, "198.51.100.9")]
    events = events[:-1]
    [alert] = run(rule(), [*events, ok(60, "198.51.100.9")])
    assert alert["details"]["variant"] == "account"


def test_anonymous_successes_and_lines_without_client_are_ignored() -> None:
    events = [*guesses(6, user="anonymous")]
    anon = Event(T0 + timedelta(seconds=30), Kind.LOGIN_SUCCESS, "t", "anonymous", ATTACKER, True)
    assert run(rule(), [*events, anon]) == []
    bare = Event(T0 + timedelta(seconds=30), Kind.LOGIN_SUCCESS, "t")
    assert run(rule(), [*guesses(6), bare]) == []


def test_hostile_user_names_are_neutralised_in_the_alert() -> None:
    name = "root\x1b[2J\u202e"
    [alert] = run(rule(), [*guesses(5, user=name), ok(20)])
    text = json.dumps(alert, ensure_ascii=False)
    assert "\x1b" not in text and "\u202e" not in text
    assert alert["details"]["users_tried"] == ["root\\x1b[2J\\u202e"]


def test_state_is_capped_and_expires_on_event_time() -> None:
    detector = rule(max_tracked=100)
    run(detector, [fail(n, f"10.0.{n >> 8}.{n & 255}", f"u{n}") for n in range(1000)])
    assert (len(detector.addresses), len(detector.accounts)) == (100, 100)
    assert detector.evictions == 2 * 900
    detector.expire((T0 + timedelta(seconds=999 + 3601)).timestamp())
    assert (len(detector.addresses), len(detector.accounts)) == (0, 0)


def test_failures_kept_per_key_are_bounded() -> None:
    detector = rule()
    run(detector, guesses(1000))
    assert len(detector.addresses.get(ATTACKER) or ()) == 2 + 2 * 5
    assert len(detector.accounts.get("alice") or ()) == 2 + 2 * 9
    [alert] = run(detector, [ok(2000)])
    assert alert["count"] == 1000  # every failure of the streak counted, few kept


def test_state_survives_a_snapshot_round_trip() -> None:
    detector = rule()
    run(detector, [*guesses(4), fail(8, "192.0.2.1", "bob"), *guesses(2, start=100)])
    run(detector, [*guesses(5, ip="198.51.100.3", user="carol"), ok(200, "198.51.100.3", "carol")])
    saved = json.loads(json.dumps(detector.dump()))
    fresh = rule()
    fresh.load(saved)
    assert json.loads(json.dumps(fresh.dump())) == saved
    [alert] = run(fresh, [ok(300)])
    assert (alert["count"], alert["details"]["users_tried"]) == (6, ["alice"])
    # carol's incident is still open after the restart: no second alert for it
    again = [
        *guesses(5, ip="198.51.100.3", user="carol", start=400),
        ok(420, "198.51.100.3", "carol"),
    ]
    assert run(fresh, again) == []


def test_on_by_default_in_the_pipeline_and_its_state_in_the_snapshot() -> None:
    config = parse_config("{}", "x.yaml")
    assert "brute_force_success" in [r.name for r in build_log_rules(config)]
    pipeline = Pipeline(config)
    found = [
        a for e in [*guesses(5), ok(20)] for a in pipeline.process_event(e, pipeline.stats_for("t"))
    ]
    assert [a.rule for a in found] == ["brute_force_success"]
    assert "brute_force_success" in pipeline.dump_state()


def test_config_keys_are_validated() -> None:
    text = "rules:\n  brute_force_success: {window: 30m, max_failures: 3, severity: warning}\n"
    settings = parse_config(text, "x.yaml").rules["brute_force_success"]
    assert (settings.window, settings.max_failures, settings.severity.label) == (
        timedelta(minutes=30),
        3,
        "warning",
    )
    disabled = parse_config("rules:\n  brute_force_success: {enabled: false}\n", "x.yaml")
    assert "brute_force_success" not in [r.name for r in build_log_rules(disabled)]
    for bad, key in (
        ("{max_failures: 0}", "rules.brute_force_success.max_failures"),
        ("{window: soon}", "rules.brute_force_success.window"),
        ("{max_failure: 5}", "rules.brute_force_success: unknown key 'max_failure'"),
    ):
        with pytest.raises(ConfigError) as error:
            parse_config(f"rules:\n  brute_force_success: {bad}\n", "x.yaml")
        assert key in str(error.value)
        assert str(error.value).startswith("x.yaml:2:")


def test_state_per_key_is_compact() -> None:
    # an address and a user name (~55 bytes each) live in the events; the rest is the state
    guessed = bytes_per_key(rule(max_tracked=100_000), 20_000)
    assert guessed < 260  # 209 with Python 3.11: an address and an account, a 4-tuple each
    invented = rule(max_tracked=100_000)
    t = T0.timestamp()
    events = [
        failure(n, address(n), f"user{n}")._replace(detail="invalid_user") for n in range(20_000)
    ]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, event in enumerate(events):
            invented.feed(event, t + n)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert (after - before) / 20_000 < 150  # 117: the address's 4-tuple, its float, a slot


def test_an_unreadable_snapshot_raises_what_the_runtime_catches() -> None:
    for bad in ([], {"addresses": [["1.2.3.4", 1]]}, {"gate": [[1]]}):
        with pytest.raises((TypeError, ValueError)):
            rule().load(bad)
