"""What every log rule shares: the Rule protocol and a bounded, time-ordered key table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from sentinel.alerts import Alert, make_alert
from sentinel.events import Event, Kind

NO_ALERTS: Sequence[Alert] = ()


def rule_alert(rule: Any, **fields: Any) -> Alert:
    """An alert of `rule` (its name, configured severity and server) with the given fields."""
    return make_alert(rule=rule.name, severity=rule.settings.severity, server=rule.server, **fields)


class Rule(Protocol):
    """A detector fed with events in (roughly) event-time order.

    `feed` returns the alerts an event completes; `expire` forgets what fell out of the
    rule's window by `now` (event time); `evictions` counts keys dropped by the cap.
    `dump`/`load` carry the rule's windows across a restart as JSON-able data.
    """

    name: str
    kinds: frozenset[Kind]

    @property
    def evictions(self) -> int: ...

    def feed(self, event: Event, t: float) -> Sequence[Alert]: ...

    def expire(self, now: float) -> None: ...

    def dump(self) -> Any: ...

    def load(self, data: Any) -> None: ...


T = TypeVar("T")


class KeyTable(Generic[T]):
    """Per-key state, least recently touched first, capped at `max_keys`.

    `touch` moves a key to the end, so the front always holds the stalest keys: expiry
    stops at the first key still in its window and eviction drops the stalest. Memory is
    bounded by `max_keys` entries whatever an attacker sends.
    """

    __slots__ = ("_items", "evictions", "max_keys")

    def __init__(self, max_keys: int) -> None:
        self._items: dict[Any, T] = {}
        self.max_keys = max_keys
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Any) -> T | None:
        return self._items.get(key)

    def pop(self, key: Any) -> T | None:
        return self._items.pop(key, None)

    def touch(self, key: Any, value: T) -> None:
        items = self._items
        items.pop(key, None)
        items[key] = value
        if len(items) > self.max_keys:
            del items[next(iter(items))]
            self.evictions += 1

    def expire(self, is_stale: Any) -> None:
        """Drop keys from the front while `is_stale(value)`; stop at the first fresh one."""
        items = self._items
        while items:
            key = next(iter(items))
            if not is_stale(items[key]):
                return
            del items[key]

    def items(self) -> Iterator[tuple[Any, T]]:
        return iter(list(self._items.items()))
