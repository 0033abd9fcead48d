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

State: per connection (source, `ssh:<pid>`), the failures counted and the pending echo,
in a KeyTable capped at CONNECTIONS_TRACKED and forgotten IDLE seconds (event time) after
its last line. Not carried across a restart: a summary line read just after one may count
attempts already counted before it.
"""

from __future__ import annotations

from sentinel.events import Event, Kind
from sentinel.rules.base import KeyTable

CONNECTIONS_TRACKED = 65_536
IDLE = 600.0  # seconds: well past sshd's LoginGraceTime (120 s), after which it is over
ECHO_WINDOW = 1.0  # seconds: the echo and its `Failed` line are logged together
SUMMARIES = frozenset({"max_tries", "too_many", "pam_more", "preauth_closed"})
# echo -> the methods of the `Failed` line it stands for (None: any)
ECHOES: dict[str, str | None] = {"pam_error": "keyboard-interactive", "root_refused": None}
_LOGIN_FAILURE, _INVALID_USER = Kind.LOGIN_FAILURE, Kind.INVALID_USER


class _Connection:
    """What the ledger knows of one sshd connection."""

    __slots__ = ("echo", "echo_t", "failures", "ip", "t", "user")

    def __init__(self) -> None:
        self.failures = 0
        self.echo: str | None = None  # the pending echo's detail
        self.echo_t = 0.0
        self.user: str | None = None
        self.ip: str | None = None
        self.t = 0.0


class AttemptLedger:
    """Decides which of sshd's failure lines count, and for how many attempts."""

    __slots__ = ("_connections",)

    def __init__(self) -> None:
        self._connections: KeyTable[_Connection] = KeyTable(CONNECTIONS_TRACKED)

    @property
    def evictions(self) -> int:
        return self._connections.evictions

    def apply(self, event: Event, t: float) -> Event | None:
        """The event to count (its address filled in from the connection), or None when the
        attempts it stands for are already counted. Only sshd's failures and notices."""
        conn = self._connections.renew((event.source, event.session), _Connection)
        conn.t = t
        if event.ip is not None:
            conn.ip = event.ip
        if event.user is not None:
            conn.user = event.user
        if event.kind is not _LOGIN_FAILURE:
            return event
        detail = event.detail
        if detail in SUMMARIES:
            if conn.failures or (event.ip is None and conn.ip is None):
                return None  # counted one by one; or nothing says who it was
        elif detail in ECHOES:
            conn.echo, conn.echo_t = detail, t
        elif conn.echo is not None and self._echoed(conn, event, t):
            conn.echo = None
            return None
        conn.failures += event.times
        if event.ip is None and conn.ip is not None:
            # `Disconnecting: Too many authentication failures for X` names no address
            ts, kind, source, user, _, *rest = event
            return Event._make((ts, kind, source, user or conn.user, conn.ip, *rest))
        return event

    @staticmethod
    def _echoed(conn: _Connection, event: Event, t: float) -> bool:
        """Whether this `Failed` line is the attempt the pending echo already counted."""
        method = ECHOES[conn.echo] if conn.echo is not None else None
        if t - conn.echo_t > ECHO_WINDOW:
            conn.echo = None
            return False
        return method is None or (event.action or "").startswith(method)

    def expire(self, now: float) -> None:
        oldest = now - IDLE
        self._connections.expire(lambda conn: conn.t < oldest)
