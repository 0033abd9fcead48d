"""Rule state: the capped key table, a flood of keys, bytes per key, snapshots across versions."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from sentinel.events import Direction, Event, Kind
from sentinel.rules.base import KeyTable, Rule
from sentinel.rules.logins import BruteForceRule, PasswordSprayRule, SharedAccountRule
from sentinel.rules.settings import (
    BruteForceSettings,
    BulkDownloadSettings,
    PasswordSpraySettings,
    SharedAccountSettings,
)
from sentinel.rules.volume import BulkDownloadRule

T0 = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
SERVER = "ftp-test"


def address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def failure(second: float, ip: str, user: str = "root") -> Event:
    ts = T0 + timedelta(seconds=second)
    return Event(ts, Kind.LOGIN_FAILURE, "test", user, ip)


def feed_all(rule: Rule, events: list[Event]) -> list[dict[str, Any]]:
    return [a.to_dict() for e in events for a in rule.feed(e, e.ts.timestamp())]


def test_key_table_evicts_the_least_recently_touched() -> None:
    table: KeyTable[int] = KeyTable(3)
    for key in "abc":
        table.touch(key, 1)
    table.touch("a", 2)  # b is now the stalest
    table.touch("d", 1)
    assert table.evictions == 1
    assert [k for k, _ in table.items()] == ["c", "a", "d"]
    table.touch("c", 3)  # touched while among the stale keys
    table.touch("e", 1)
    assert [k for k, _ in table.items()] == ["d", "c", "e"]
    assert (table.get("a"), table.get("c"), len(table), table.evictions) == (None, 3, 3, 2)
    assert table.pop("d") == 1
    assert [k for k, _ in table.items()] == ["c", "e"]


def test_key_table_swap_and_amend_are_pop_then_put() -> None:
    """`swap` then `amend` leave the table as `pop` then `put` of the amended state would,
    also when the swap reached the cap (the swapped key then sits among the stale ones)."""
    swapped: KeyTable[int] = KeyTable(3)
    popped: KeyTable[int] = KeyTable(3)
    for table in (swapped, popped):
        for key in "abc":
            table.touch(key, 1)
    assert swapped.swap("b", 0) == 1
    swapped.amend("b", 2)
    assert popped.pop("b") == 1
    popped.put("b", 2)
    assert swapped.swap("d", 5) is None  # over the cap: "a" goes, and "d" is stale now
    swapped.amend("d", 6)
    popped.put("d", 6)
    for table in (swapped, popped):
        table.touch("e", 7)  # evicts the stalest: "c"
    assert swapped.items() == popped.items() == [("b", 2), ("d", 6), ("e", 7)]
    assert (len(swapped), swapped.evictions) == (len(popped), popped.evictions) == (3, 2)


def test_key_table_expires_stalest_first_and_stops_at_a_fresh_key() -> None:
    table: KeyTable[float] = KeyTable(4)
    for n in range(6):  # two evictions: 2..5 left, some in each of the two dicts
        table.touch(n, float(n))
    table.touch(7, 7.0)
    table.touch(6, 6.0)
    table.expire(lambda value: value < 5.0)
    assert [k for k, _ in table.items()] == [5, 7, 6]
    table.touch(5, 1.0)
    table.expire(lambda value: value < 7.0)  # stops at 7: keys touched after it stay
    assert [k for k, _ in table.items()] == [7, 6, 5]


def test_a_flood_of_a_million_addresses_stays_at_max_tracked() -> None:
    rule = BruteForceRule(BruteForceSettings(max_tracked=10_000), server=SERVER)
    t = T0.timestamp()
    event = failure(0, "")
    for n in range(1_000_000):
        rule.feed(event._replace(ip=address(n)), t + n * 0.0002)
    assert len(rule.table) == 10_000
    assert rule.evictions == 990_000
    # the freshest addresses are the ones kept, and a brute force among them still alerts
    assert rule.table.get(address(999_999)) is not None
    assert rule.table.get(address(0)) is None


def test_every_keyed_rule_is_capped() -> None:
    cap = 100
    rules: list[Rule] = [
        BruteForceRule(BruteForceSettings(max_tracked=cap), server=SERVER),
        PasswordSprayRule(PasswordSpraySettings(max_tracked=cap), server=SERVER),
        SharedAccountRule(SharedAccountSettings(max_tracked=cap), server=SERVER),
        BulkDownloadRule(BulkDownloadSettings(max_tracked=cap), server=SERVER),
    ]
    events = []
    for n in range(1000):
        ts = T0 + timedelta(seconds=n)
        events += [
            Event(ts, Kind.LOGIN_FAILURE, "test", f"u{n}", address(n)),
            Event(ts, Kind.LOGIN_SUCCESS, "test", f"u{n}", address(n)),
            Event(ts, Kind.TRANSFER, "test", f"u{n}", address(n), path="/f", nbytes=1,
                  direction=Direction.DOWNLOAD),
        ]  # fmt: skip
    for rule in rules:
        feed_all(rule, [e for e in events if e.kind in rule.kinds])
        table = rule.table  # type: ignore[attr-defined]
        views = 2 if isinstance(rule, BulkDownloadRule) else 1  # by user and by address
        assert len(table) == views * cap, rule.name
        assert rule.evictions == views * (1000 - cap), rule.name


def bytes_per_key(rule: Rule, keys: int) -> float:
    """Memory the rule's state takes per address, addresses and user names included."""
    t = T0.timestamp()
    events = [failure(n, address(n), f"user{n}") for n in range(keys)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n, event in enumerate(events):
            rule.feed(event, t + n)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / keys


def test_state_per_address_is_compact() -> None:
    # an address (~55 bytes) and a user name (~55) live in the events; the rest is the state
    brute = bytes_per_key(BruteForceRule(BruteForceSettings(), server=SERVER), 20_000)
    spray = bytes_per_key(PasswordSprayRule(PasswordSpraySettings(), server=SERVER), 20_000)
    assert brute < 250  # 174 with Python 3.11: a dict slot, (times, name), a 1-tuple
    assert spray < 160  # 118: a dict slot and one (name, time) tuple


def roundtrip(rule: Rule, fresh: Rule) -> None:
    saved = json.loads(json.dumps(rule.dump()))
    fresh.load(saved)
    assert json.loads(json.dumps(fresh.dump())) == saved


def test_state_survives_a_snapshot_round_trip() -> None:
    events = [failure(n, address(n % 3), f"user{n % 7}") for n in range(40)]
    for make in (
        lambda: BruteForceRule(BruteForceSettings(), server=SERVER),
        lambda: PasswordSprayRule(PasswordSpraySettings(), server=SERVER),
    ):
        rule = make()
        feed_all(rule, events)
        roundtrip(rule, make())


def test_snapshots_of_the_previous_version_still_load() -> None:
    # written by the rules that kept a dict per key: the format has not changed
    brute = BruteForceRule(BruteForceSettings(max_failures=3), server=SERVER)
    brute.load(
        {
            "table": [["203.0.113.9", [T0.timestamp(), T0.timestamp() + 1], [["a", 0], ["b", 1]]]],
            "gate": [],
        }
    )
    alerts = feed_all(brute, [failure(2, "203.0.113.9", "c")])
    assert [(a["count"], a["details"]["users"]) for a in alerts] == [(3, ["a", "b", "c"])]
    spray = PasswordSprayRule(PasswordSpraySettings(max_users=3), server=SERVER)
    spray.load({"table": [["203.0.113.9", [["a", T0.timestamp()], ["b", T0.timestamp()]]]]
                , "gate": []})  # fmt: skip
    alerts = feed_all(spray, [failure(2, "203.0.113.9", "c")])
    assert [a["details"]["users"] for a in alerts] == [["a", "b", "c"]]
    bulk = BulkDownloadRule(BulkDownloadSettings(max_files=2), server=SERVER)
    bulk.load({"table": [[["u", "lab"], [T0.timestamp()] * 2, [5, 5], ["10.0.0.1"]]], "gate": []})
    download = Event(T0 + timedelta(seconds=1), Kind.TRANSFER, "test", "lab", "10.0.0.1",
                     path="/f", nbytes=5, direction=Direction.DOWNLOAD)  # fmt: skip
    assert [a["bytes"] for a in feed_all(bulk, [download])] == [15]
