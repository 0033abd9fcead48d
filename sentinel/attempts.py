"""Counts each sshd authentication attempt once, however many lines sshd and PAM wrote for it.

One guess often shows as several lines of one connection (one sshd pid):
- echoes, logged just before the attempt's own `Failed ...` line: `error: PAM:
  Authentication failure for X from H` (keyboard-interactive; its `Failed
  keyboard-interactive/pam` line is logged only at LogLevel VERBOSE for the first
  MaxAuthTries/2 failures of a valid user, so the PAM line is the one always there), and
  `ROOT LOGIN REFUSED FROM H` (root authenticated, refused by PermitRootLogin). An echo
  counts; the `Failed` line that follows it within ECHO_WINDOW is the same attempt.
- summaries, logged after the attempts: `maximum authentication attempts exceeded`, the
  `Too many authentication failures` disconnect, `PAM N more authentication failures`,
  and a connection closed, reset or disconnected while authenticating. A summary stands
  for its attempts only where none of the connection's failures was logged one by one
  (LogLevel ERROR, publickey failures at VERBOSE, a client that named a user and left):
  then it counts as its own (`times`: 1, N for PAM's line), if the connection's lines
  name an address.
A failure rsyslog folded into `message repeated N times` counts N (`Event.times`).

State: per connection (source, `ssh:<pid>`), the failures counted, the pending echo, the
address and user (for a connection whose one line is a failure, that event), in two
generations of CONNECTIONS_TRACKED / 2 connections each (the current one, and the one
before it, dropped whole when the current one fills: at most CONNECTIONS_TRACKED, each
kept for at least the next CONNECTIONS_TRACKED / 2 connections' lines), and none older
than IDLE seconds (event time), so that a reused pid starts afresh.
Plain dicts rather than a KeyTable: this runs on every failure of a flood. Not carried
across a restart: a summary line read just after one may count attempts already counted.
"""

from __future__ import annotations

from sentinel.events import Event, Kind

CONNECTIONS_TRACKED = 4_096  # sshd keeps MaxStartups (default 100) unauthenticated at most
_GENERATION = CONNECTIONS_TRACKED // 2
IDLE = 600.0  # seconds: well past sshd's LoginGraceTime (120 s), after which it is over
ECHO_WINDOW = 1.0  # seconds: the echo and its `Failed` line are logged together
SUMMARIES = frozenset({"max_tries", "too_many", "pam_more", "preauth_closed"})
# echo -> the methods of the `Failed` line it stands for (None: any)
ECHOES: dict[str, str | None] = {"pam_error": "keyboard-interactive", "root_refused": None}
_LOGIN_FAILURE, _INVALID_USER = Kind.LOGIN_FAILURE, Kind.INVALID_USER
_PLAIN = frozenset({None, "invalid_user"})  # the detail of a `Failed ...` line


_Connection = tuple[int, str | None, float, str | None, str | None, float]
"""What the ledger knows of one connection: failures counted, the pending echo (its
detail and time), address, user, time of the last line. A tuple of plain values, replaced
on each line: built in C, and the garbage collector soon stops tracking it (a flood of
new connections would otherwise make every collection longer)."""
_NEW: _Connection = (0, None, 0.0, None, None, 0.0)
_State = _Connection | Event
"""A connection whose only line so far is a failure logged one by one (a flood's every
line) keeps that event itself: its state, made only if another line of it comes."""


def _state(state: _State) -> _Connection:
    if type(state) is Event:
        return (state.times, None, 0.0, state.ip, state.user, state.ts.timestamp())
    return state  # type: ignore[return-value] # not an Event: a _Connection


class AttemptLedger:
    """Decides which of sshd's failure lines count, and for how many attempts."""

    __slots__ = ("_current", "_previous", "_previous_last", "_source", "evictions")

    def __init__(self) -> None:
        # a connection's key: its session, for the first source seen (most runs read one
        # auth.log: no tuple to build and hash on every line), else (source, session)
        self._current: dict[str | tuple[str, str], _State] = {}
        self._previous: dict[str | tuple[str, str], _State] = {}
        # the time of the last line of the previous generation (None: not looked at yet);
        # that generation is never written to, so it is found once, when an expiry asks
        self._previous_last: float | None = None
        self._source: str | None = None
        self.evictions = 0  # connections forgotten with their generation

    def apply(self, event: Event, t: float) -> Event | None:
        """The event to count (its address filled in from the connection), or None when the
        attempts it stands for are already counted. sshd's failures; others pass."""
        session = event.session
        # `ssh:<pid>`, or in a fleet `<server>/ssh:<pid>` (inline: on every failure)
        if session is None or (session[:4] != "ssh:" and "/ssh:" not in session):
            return event
        source = event.source
        key: str | tuple[str, str] = session
        if source != self._source:
            if self._source is None:
                self._source = source
            else:
                key = (source, session)
        current = self._current
        found = current.get(key) or self._previous.get(key)
        if found is None and event.detail in _PLAIN and event.kind is _LOGIN_FAILURE:
            # a connection's first failure, logged one by one (a flood's every line): recorded
            current[key] = event
            if len(current) >= _GENERATION:
                self._rotate()
            return event
        state = _NEW if found is None else _state(found)
        if t - state[5] > IDLE:
            state = _NEW
        counted, state = _decide(event, t, state)
        current[key] = state
        if len(current) >= _GENERATION:
            self._rotate()
        return counted

    def _rotate(self) -> None:
        """The current generation becomes the previous one; the previous one is dropped."""
        self.evictions += len(self._previous)
        self._previous, self._current = self._current, {}
        self._previous_last = None

    def expire(self, now: float) -> None:
        """Forget the generation before the current one once all of it is IDLE."""
        previous = self._previous
        if not previous:
            return
        last = self._previous_last
        if last is None:
            last = self._previous_last = max(_state(c)[5] for c in previous.values())
        if now - last > IDLE:
            self._previous = {}


def _decide(event: Event, t: float, state: _Connection) -> tuple[Event | None, _Connection]:
    """The event to count, or None, and the connection's state after it."""
    failures, echo, echo_t, ip, user, _ = state
    ip, user = event.ip or ip, event.user or user
    found: Event | None = event
    if event.kind is _LOGIN_FAILURE:
        detail = event.detail
        if detail in SUMMARIES:
            if failures or ip is None:
                found = None  # counted one by one; or nothing says who it was
        elif detail in ECHOES:
            echo, echo_t = detail, t
        elif echo is not None:
            if t - echo_t <= ECHO_WINDOW and _echoed(echo, event):
                found = None
            echo = None
        if found is not None:
            failures += event.times
            if event.ip is None:
                # `Disconnecting: Too many authentication failures for X` names no address
                ts, kind, source, name, _, *rest = event
                found = Event._make((ts, kind, source, name or user, ip, *rest))
    return found, (failures, echo, echo_t, ip, user, t)


def _echoed(echo: str, event: Event) -> bool:
    """Whether this `Failed` line is the attempt the pending echo already counted."""
    method = ECHOES[echo]
    return method is None or (event.action or "").startswith(method)
