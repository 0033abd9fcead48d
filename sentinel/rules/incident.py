"""One alert per incident: a key stays in an incident while its events keep coming."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sentinel.rules.base import KeyTable
from sentinel.rules.fleet import FleetView


class IncidentGate:
    """Remembers, per key, when its incident last saw an event.

    `opens(key, t)` is true when `key` has no incident within `window` seconds before `t`:
    that event starts a new incident (and its alert); later ones only extend it.
    State: one float per key, at most `max_keys` keys.
    """

    __slots__ = ("_last", "window")

    def __init__(self, window: float, max_keys: int) -> None:
        self.window = window
        self._last: KeyTable[float] = KeyTable(max_keys)

    @property
    def evictions(self) -> int:
        return self._last.evictions

    def opens(self, key: object, t: float) -> bool:
        last = self._last.swap(key, t)
        if last is None:
            return True
        if last > t:  # two logs read in turn are not quite in time order
            self._last.amend(key, last)
        return t - last > self.window

    def extend(self, key: object, t: float) -> None:
        """Mark `key` as in an incident at `t` without asking (the other view of one incident)."""
        last = self._last.swap(key, t)
        if last is not None and last > t:
            self._last.amend(key, last)

    def active(self, key: object, t: float) -> bool:
        last = self._last.get(key)
        return last is not None and t - last <= self.window

    def expire(self, now: float) -> None:
        window = self.window
        self._last.expire(lambda last: now - last > window)

    def dump(self) -> list[list[object]]:
        return [[key, last] for key, last in self._last.items()]

    def load(self, data: list[list[object]]) -> None:
        for key, last in data:
            self._last.touch(tuple(key) if isinstance(key, list) else key, float(last))  # type: ignore[arg-type]


def moment(t: float, tz: tzinfo | None) -> datetime:
    """An epoch time back as an aware datetime in the zone of the events."""
    return datetime.fromtimestamp(t, tz=tz)


def duration_text(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"


class GatedRule:
    """State plumbing for rules whose only memory is their incident gate."""

    gate: IncidentGate
    fleet: FleetView | None = None

    @property
    def evictions(self) -> int:
        return self.gate.evictions

    def expire(self, now: float) -> None:
        self.gate.expire(now)
        if self.fleet is not None:
            self.fleet.expire(now)

    def dump(self) -> Any:
        return self.gate.dump()

    def load(self, data: Any) -> None:
        self.gate.load(data)
