"""What every log rule shares: the Rule protocol and a bounded, time-ordered key table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from sentinel.alerts import Alert, make_alert
from sentinel.events import Event, Kind

if TYPE_CHECKING:
    from sentinel.extent import Extent

NO_ALERTS: Sequence[Alert] = ()


def rule_alert(rule: Any, **fields: Any) -> Alert:
    """An alert of `rule` (its name, configured severity and server) with the given fields."""
    return make_alert(rule=rule.name, severity=rule.settings.severity, server=rule.server, **fields)


Counts = Literal["events", "users", "ips"]
Sessions = Literal["any", "anonymous", "named"]
"""The events a rule reads (`sessions`, "any" when it has none): all; only anonymous
sessions'; or none of them."""


def reads(rule: Rule, kind: Kind, anonymous: bool) -> bool:
    """Whether `rule` is fed the events of `kind` of anonymous sessions (`anonymous`), or
    of the others: what the pipeline feeds it, and what the incident tracker asks it."""
    if kind not in rule.kinds:
        return False
    sessions = getattr(rule, "sessions", "any")
    return sessions == "any" or (sessions == "anonymous") == anonymous


class Rule(Protocol):
    """A detector fed with events in (roughly) event-time order.

    `feed` returns the alerts an event completes; `expire` forgets what fell out of the
    rule's window by `now` (event time); `evictions` counts keys dropped by the cap.
    `dump`/`load` carry the rule's windows across a restart as JSON-able data.

    Incidents (sentinel.incidents.IncidentTracker owns them; a rule never keeps one):
    - `feed` returns an alert (`rule_alert(self, subject=..., ...)`) when the rule fires:
      that opens an incident keyed by its `subject`, with the alert's figures (count,
      bytes, ip/ips, user or details["users"], path or files) as its starting extent.
      Fire once per incident (an IncidentGate does it); firing again within `window`
      only adds the event to the open incident.
    - `adds(event, t)` names the subjects, in order of preference, of this rule's incidents
      the event would add to (() for an event that adds nothing). It is asked only while
      the rule has open incidents, for events of its `kinds` that share a field named in
      `keyed_by` ("ip", "user": what its subjects are made of) with an event that opened
      one; the first open one grows by the event's address, user, file and bytes.
    - `counts` says what `count` is: "events" (each event adds one), "users" or "ips"
      (the distinct user names or addresses of the incident).
    - `level(extent)` is a (kind, size) pair: an `update` record goes out when it
      changes, in kind (e.g. an anonymous session starts downloading: sent at once) or
      in size (e.g. 10 times the threshold: at most once per notify.cooldown).
    - `describe(subject, extent)` is the summary of a record of the incident of
      `subject` covering `extent`.
    - `window` (seconds): the incident closes after that long without an event of it.

    Optional: `sessions` ("any" without it), "anonymous" for a rule that reads only
    anonymous sessions' events, "named" for one that reads none of them: the pipeline does
    not feed it the others, and its `feed` and `adds` must do nothing with them either.

    Optional: `opens_as_record` (False without it), True for a rule whose alert is, field
    for field and in its summary, the record the tracker would make of the extent it opens
    with (`describe` of one event). The tracker then makes no extent for an incident that
    never grows, and closes it with that alert (one server, one address, no fleet: the
    cases a test compares with the records made the long way). anonymous_access is not
    one: an anonymous download that opens an incident is said otherwise by `describe`.

    A new rule adopts it with a few lines: `counts = "events"`, `keyed_by = ("ip",)`,
    `self.window` from its
    settings, `adds` returning the subject its `feed` alerts with (e.g. `(event.ip,)`),
    `level` returning `(0, magnitude(extent.count / threshold))` and `describe` phrasing
    its summary from the extent; the registry (rules/registry.py) is all the wiring.
    """

    name: str
    kinds: frozenset[Kind]
    counts: Counts
    keyed_by: tuple[str, ...]
    window: float

    def adds(self, event: Event, t: float) -> Sequence[str]: ...

    def level(self, extent: Extent) -> tuple[int, int]: ...

    def describe(self, subject: str, extent: Extent) -> str: ...

    @property
    def evictions(self) -> int: ...

    def feed(self, event: Event, t: float) -> Sequence[Alert]: ...

    def expire(self, now: float) -> None: ...

    def dump(self) -> Any: ...

    def load(self, data: Any) -> None: ...


T = TypeVar("T")


class KeyTable(Generic[T]):
    """Per-key state, least recently touched first, capped at `max_keys`.

    `touch` makes a key the freshest, so expiry starts from the stalest keys and stops at
    the first one still in its window, and the cap evicts the stalest. Memory is bounded
    by `max_keys` entries whatever an attacker sends.

    Two plain dicts, rather than an OrderedDict (half the bytes per key): `_fresh` in
    touch order, and `_stale`, the keys that were there when the cap was last reached,
    stalest *last*. Every key of `_stale` was touched before every key of `_fresh`, so
    the stalest key of all is `_stale`'s last, which `popitem` drops in O(1); dropping
    the first key of a dict over and over would rescan the holes left at its front.
    """

    __slots__ = ("_fresh", "_stale", "evictions", "max_keys")

    def __init__(self, max_keys: int) -> None:
        self._fresh: dict[Any, T] = {}
        self._stale: dict[Any, T] = {}
        self.max_keys = max_keys
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._fresh) + len(self._stale)

    def __bool__(self) -> bool:
        return bool(self._fresh or self._stale)

    def get(self, key: Any) -> T | None:
        value = self._fresh.get(key)
        if value is None and self._stale:
            return self._stale.get(key)
        return value

    def pop(self, key: Any) -> T | None:
        value = self._fresh.pop(key, None)
        if value is None and self._stale:
            return self._stale.pop(key, None)
        return value

    def touch(self, key: Any, value: T) -> None:
        fresh = self._fresh
        if fresh.pop(key, None) is None and self._stale:
            self._stale.pop(key, None)
        fresh[key] = value
        if len(fresh) + len(self._stale) > self.max_keys:
            self._evict()

    def put(self, key: Any, value: T) -> None:
        """`touch` for a key not in the table (just `pop`ped): `pop` then `put` replaces an
        immutable state in half the dict operations of `get` then `touch`."""
        fresh, stale = self._fresh, self._stale
        fresh[key] = value
        if len(fresh) + len(stale) > self.max_keys:
            if stale:  # `_evict` inline: a flood past the cap evicts on every new key
                stale.popitem()
                self.evictions += 1
            else:
                self._evict()

    def swap(self, key: Any, value: T) -> T | None:
        """`pop` then `put` in one call: `value` becomes the key's state, the freshest, and
        the state it had (None: none) is returned. Where the new state depends on the old,
        put the likely one (a new key's: most keys of a flood) and `amend` it if need be."""
        fresh, stale = self._fresh, self._stale
        old = fresh.pop(key, None)
        if old is None and stale:
            old = stale.pop(key, None)
        fresh[key] = value
        if len(fresh) + len(stale) > self.max_keys:
            if stale:  # `_evict` inline, as in `put`
                stale.popitem()
                self.evictions += 1
            else:
                self._evict()
        return old

    def amend(self, key: Any, value: T) -> None:
        """Replace the state just put by `swap`, where it is (the freshest; in `_stale`,
        its first, if putting it reached the cap)."""
        fresh = self._fresh
        if key in fresh:
            fresh[key] = value
        else:
            self._stale[key] = value

    def renew(self, key: Any, make: Callable[[], T]) -> T:
        """The key's state, made the freshest; `make()` when it has none. For mutable states:
        `get` then `touch` in half the dict operations."""
        fresh = self._fresh
        value = fresh.pop(key, None)
        if value is None:
            value = self._stale.pop(key, None) if self._stale else None
            if value is None:
                value = make()
        fresh[key] = value
        if len(fresh) + len(self._stale) > self.max_keys:
            self._evict()
        return value

    def _evict(self) -> None:
        if not self._stale:
            self._stale = dict(reversed(self._fresh.items()))
            self._fresh = {}
        self._stale.popitem()
        self.evictions += 1

    def expire(self, is_stale: Callable[[T], bool]) -> None:
        """Drop keys, stalest first, while `is_stale(value)`; stop at the first fresh one."""
        stale = self._stale
        while stale:
            key, value = stale.popitem()
            if not is_stale(value):
                stale[key] = value  # back where it was: the last, the stalest
                return
        fresh = self._fresh
        gone = []
        for key, value in fresh.items():  # one pass: the dict's front may be full of holes
            if not is_stale(value):
                break
            gone.append(key)
        for key in gone:
            del fresh[key]

    def items(self) -> list[tuple[Any, T]]:
        """Every key and its state, stalest first."""
        return [*reversed(self._stale.items()), *self._fresh.items()]
