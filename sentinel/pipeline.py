"""Wires parsers to rules: the one path every line takes, in `run` and in `replay` alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sentinel.alerts import OPEN, Alert
from sentinel.attempts import AttemptLedger
from sentinel.config.model import Config
from sentinel.events import Direction, Event, Kind, new_event
from sentinel.fleet import names_servers
from sentinel.incidents import IncidentTracker
from sentinel.parsers import timeparse
from sentinel.parsers.context import ParseContext, Parser
from sentinel.rules.base import KeyTable, Rule, reads
from sentinel.rules.registry import build_log_rules
from sentinel.stats import SourceStats

MAX_LINE = 64 * 1024  # longer lines are no server's log line: counted, never parsed
LONG_TEXT = MAX_LINE // 4 - 2  # characters: a line no longer is under MAX_LINE bytes in UTF-8
EXPIRE_EVERY = 60.0  # seconds of event time between two expiries of the rules' windows
SESSIONS_TRACKED = 65_536
TRANSFER_PAIRING = 2.0  # seconds: vsftpd writes its log and xferlog lines within this
FAILURE_PAIRING = 5.0  # seconds: pam_unix logs ~2 s before vsftpd (whole seconds both)
# seconds an unpaired line is kept: far past either pairing, so that a line read late from
# another file (sources are read in turns) still finds its mirror
DEDUP_KEPT = 60.0
MAX_FEEDS = 1_000  # an event of `times` N is fed to the rules min(N, this) times


Feed = Callable[[Event, float], Sequence[Alert]]
# Enum members as module globals: `Kind.TRANSFER` looks the member up in its class, a
# cost paid on every line.
_TRANSFER, _LOGIN_SUCCESS, _LOGIN_FAILURE = Kind.TRANSFER, Kind.LOGIN_SUCCESS, Kind.LOGIN_FAILURE
_SESSION_START, _SESSION_END, _DOWNLOAD = Kind.SESSION_START, Kind.SESSION_END, Direction.DOWNLOAD
COUNTED = frozenset({_TRANSFER, _LOGIN_FAILURE, _LOGIN_SUCCESS})
SESSION_KINDS = frozenset({_SESSION_START, _SESSION_END})
LEDGER_KINDS = frozenset({_LOGIN_FAILURE, Kind.INVALID_USER})  # what the attempt ledger reads
_DIRECTIONS = {direction: direction.value for direction in Direction}
# the labels of sentinel_logins_total: (kind, anonymous) -> (result, anonymous), as one
# dict per value of anonymous (a dict lookup by kind, not a tuple built and hashed)
_NAMED_LOGINS, _ANONYMOUS_LOGINS = (
    {
        kind: (result, label)
        for kind, result in ((_LOGIN_SUCCESS, "success"), (_LOGIN_FAILURE, "failure"))
    }
    for label in ("false", "true")
)


def split_lines(chunk: bytes) -> list[bytes]:
    """A chunk's lines, each with its newline (the last one may have none)."""
    lines = chunk.split(b"\n")
    last = lines.pop()
    found = [line + b"\n" for line in lines]
    if last:
        found.append(last)
    return found


class SessionJoin:
    """Fills in user and address of events that only carry their session key.

    internal-sftp logs `open`/`close` lines with its pid but without the client: the
    `session opened` line of the same pid has them. State: one (user, ip) per open
    session, at most `SESSIONS_TRACKED`, stalest dropped first.
    """

    __slots__ = ("_sessions",)

    def __init__(self) -> None:
        self._sessions: KeyTable[tuple[str | None, str | None]] = KeyTable(SESSIONS_TRACKED)

    def apply(self, event: Event) -> Event:
        key = event.session
        if key is None:
            return event
        kind = event.kind
        if kind is _SESSION_START:
            self._sessions.touch(key, (event.user, event.ip))
            return event
        if kind is _SESSION_END:
            known = self._sessions.pop(key)
        elif event.user is not None and event.ip is not None:
            return event  # vsftpd and the like: every line names its client
        else:
            known = self._sessions.get(key)
        if known is None:
            return event
        # what event._replace(user=..., ip=...) does, without its keyword machinery (and
        # new_event, not Event._make: its length check is a Python call on each sftp file)
        ts, kind, source, user, ip, *rest = event
        return new_event((ts, kind, source, user or known[0], ip or known[1], *rest))


class CrossSourceDedup:
    """Pairs the two log lines two sources write for one act, and keeps only the first.

    vsftpd with `dual_log_enable` writes each transfer to its log and to xferlog; pam_unix
    writes a failure line about 2 s before vsftpd's or ProFTPD's own (for an unknown account
    its `ruser=` names the user), in auth.log or, when the daemon logs through syslog, in the
    same file. One line consumes at most one line of the other kind, so two real acts stay
    two; without `transfers`, only failures pair (one source: a PAM line and its daemon's). sshd's
    failures never pair: the PAM lines read are FTP services'. State: the unpaired lines of
    the last few seconds per signature, at most 65,536 signatures; a signature goes once
    its lines are paired, or once its last line is DEDUP_KEPT seconds older than the
    newest event (`expire`).
    """

    __slots__ = ("_transfers", "_unpaired")

    def __init__(self, *, transfers: bool = True) -> None:
        self._transfers = transfers
        self._unpaired: KeyTable[list[tuple[float, str, bool]]] = KeyTable(SESSIONS_TRACKED)

    def is_duplicate(self, event: Event, t: float) -> bool:
        kind = event.kind
        mirror = False
        if kind is _TRANSFER:
            if not self._transfers:
                return False
            # one server's two logs pair, never two servers' (event.server: None but in a fleet)
            signature: tuple[Any, ...] = (
                event.ip,
                event.path,
                event.nbytes or 0,
                event.direction,
                event.server,
            )
            window = TRANSFER_PAIRING
        elif kind is _LOGIN_FAILURE:
            session = event.session
            if session is not None and "ssh:" in session:  # `ssh:pid`, or `server/ssh:pid`
                return False
            # the user too: a spray from one address fails for many names at once
            signature = (kind, event.ip, event.user, event.server)
            mirror = event.detail == "pam"
            window = FAILURE_PAIRING
        else:
            return False
        unpaired = self._unpaired.get(signature)
        if unpaired is None:
            unpaired = []
        else:
            unpaired[:] = [u for u in unpaired if abs(t - u[0]) <= window]
        for index, (_, source, other_mirror) in enumerate(unpaired):
            # a PAM line pairs with the daemon's own line, whatever the files are called;
            # transfers pair across two different sources only
            paired = other_mirror != mirror if kind is _LOGIN_FAILURE else source != event.source
            if paired:
                del unpaired[index]
                if unpaired:
                    self._unpaired.touch(signature, unpaired)
                else:
                    self._unpaired.pop(signature)
                return True
        unpaired.append((t, event.source, mirror))
        self._unpaired.touch(signature, unpaired)
        return False

    def __len__(self) -> int:
        return len(self._unpaired)

    def expire(self, now: float) -> None:
        """Forget the signatures whose last line is long past pairing (event time `now`)."""
        oldest = now - DEDUP_KEPT
        self._unpaired.expire(lambda unpaired: not unpaired or unpaired[-1][0] < oldest)


class Pipeline:
    """Events in, incident records out, counters on the side.

    `process_line` is the hot path: parse, count, join, dedup, dispatch by kind to the
    rules that want it, then to the incident tracker when a rule fired or an incident is
    open. Rule windows expire on event time; the wall clock (`clock`, the daemon's) only
    closes incidents of a log that went quiet (`close_idle`). sshd's
    failures go through the attempt ledger first, which counts each attempt once. An event
    that stands for N (`Event.times`, rsyslog's repeat notice) counts N in the metrics and
    is fed to the rules N times (at most MAX_FEEDS).
    """

    def __init__(
        self,
        config: Config,
        rules: Sequence[Rule] | None = None,
        *,
        pair_sources: bool | None = None,
        clock: Callable[[], float] | None = None,
        progress: bool = True,
    ) -> None:
        """`progress` false: only each incident's last record (replay without --updates)."""
        self.config = config
        self.rules: list[Rule] = list(build_log_rules(config) if rules is None else rules)
        self.incidents = IncidentTracker(self.rules, clock=clock, progress=progress)
        self._anchors = self.incidents.anchors  # the same dicts, for the check on every line
        self._closed: list[Alert] = []  # closed by an expiry, out with the next records
        # the rules fed each kind of event: of named sessions, and of anonymous ones
        self.by_kind, self.anonymous_by_kind = (
            self._feeds(anonymous) for anonymous in (False, True)
        )
        self.stats: dict[str, SourceStats] = {}
        self.alert_counts: dict[tuple[str, str], int] = {}
        self.sessions = SessionJoin()
        self.attempts = AttemptLedger()
        self.dedup: CrossSourceDedup | None = None
        if pair_sources is None:  # a fleet's auth.log holds a PAM line and vsftpd's for one act
            pair_sources = len(config.sources) > 1 or names_servers(config)
        self.pair_sources(pair_sources)
        self._next_expiry = 0.0
        # who fetched what, for directories with `delete_after_download` (set by the daemon)
        self.on_download: Callable[[Event], None] | None = None
        self._last_ts: object = None
        self._last_t = 0.0

    def _feeds(self, anonymous: bool) -> dict[Kind, list[Feed]]:
        return {
            kind: [rule.feed for rule in self.rules if reads(rule, kind, anonymous)]
            for kind in Kind
        }

    def pair_sources(self, enabled: bool) -> None:
        """Look for one act logged by two sources; one source alone pairs only the PAM lines
        of failures with their daemon's, from the first PAM failure on (see process_event)."""
        self.dedup = CrossSourceDedup() if enabled else None

    def stats_for(self, source: str) -> SourceStats:
        stats = self.stats.get(source)
        if stats is None:
            stats = self.stats[source] = SourceStats()
        return stats

    def process_raw(
        self, raw: bytes, parse: Parser, ctx: ParseContext, stats: SourceStats
    ) -> Sequence[Alert]:
        """One line as read from a file (bytes, newline stripped or not)."""
        event = self.parse_raw(raw, parse, ctx, stats)
        if event is None:
            return ()
        return self.process_event(event, stats)

    def process_chunk(
        self, chunk: bytes, parse: Parser, ctx: ParseContext, stats: SourceStats
    ) -> list[Alert]:
        """Whole lines as read from a file, many at a time: what `process_raw` does to each.

        The chunk is decoded and split at once. A chunk with invalid UTF-8 or with a line
        that may be over `MAX_LINE` goes through `process_raw` line by line instead, which
        counts and decodes each leniently.
        """
        try:
            text = chunk.decode()
        except UnicodeDecodeError:
            text = ""
        lines = text.split("\n")
        unended = lines.pop()  # "" after a final newline; else a last line without one
        if not text or max(map(len, lines), default=0) > LONG_TEXT or len(unended) > LONG_TEXT:
            # undecodable, or a line that may be over MAX_LINE bytes: each line on its own
            alerts: list[Alert] = []
            for raw in split_lines(chunk):
                alerts.extend(self.process_raw(raw, parse, ctx, stats))
            return alerts
        if "\r" in text:  # CRLF: the CR of a line that ends with a newline goes too
            lines = [line[:-1] if line.endswith("\r") else line for line in lines]
        if unended:
            lines.append(unended)
        process = self.process_event
        alerts = []
        unparsed = 0
        for line in lines:
            event = parse(line, ctx)
            if event is None:
                unparsed += 1
                continue
            found = process(event, stats)
            if found:
                alerts.extend(found)
        stats.lines += len(lines)
        stats.unparsed += unparsed
        return alerts

    @staticmethod
    def parse_raw(raw: bytes, parse: Parser, ctx: ParseContext, stats: SourceStats) -> Event | None:
        """Decode, count and parse one line; the event, or None for a line without one."""
        stats.lines += 1
        if len(raw) > MAX_LINE:
            stats.oversized += 1
            stats.unparsed += 1
            return None
        try:
            line = raw.decode()
        except UnicodeDecodeError:
            stats.invalid_utf8 += 1
            line = raw.decode(errors="replace")
        if line.endswith("\n"):
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        event = parse(line, ctx)
        if event is None:
            stats.unparsed += 1
        return event

    def process_event(  # noqa: PLR0912, PLR0915 - the hot path inline: a call costs, every line
        self, event: Event, stats: SourceStats
    ) -> Sequence[Alert]:
        ts = event.ts
        if ts is self._last_ts:  # parsers hand out one datetime per distinct timestamp
            t = self._last_t
        else:
            made = timeparse.stamp  # the time of the stamp its parser just made, if it did
            t = self._last_t = made[1] if made[0] is ts else ts.timestamp()
            self._last_ts = ts
        if t > stats.last_event:  # noqa: PLR1730 (max() is a call, on every line)
            stats.last_event = t
        kind = event.kind
        # the session join has nothing to do for a line that names its client (vsftpd's)
        if event.session is not None and (
            event.user is None or event.ip is None or kind in SESSION_KINDS
        ):
            event = self.sessions.apply(event)
        if kind in LEDGER_KINDS and event.session is not None:
            found = self.attempts.apply(event, t)
            if found is None:
                stats.counted_before += 1
                return ()
            event = found
        if kind in COUNTED:
            dedup = self.dedup
            if dedup is None and event.detail == "pam":
                # PAM's line and the daemon's may share one file: pair them from now on
                dedup = self.dedup = CrossSourceDedup(transfers=False)
            if dedup is not None and dedup.is_duplicate(event, t):
                stats.duplicates += 1
                return ()
            if kind is _TRANSFER:
                self._count_transfer(event, stats)
            else:  # a login, counted inline: a call is a cost on every line
                logins = stats.logins
                key = (_ANONYMOUS_LOGINS if event.anonymous else _NAMED_LOGINS)[kind]
                logins[key] = logins.get(key, 0) + event.times
        if t >= self._next_expiry:
            self.expire(t)
        feeds = self.by_kind[kind]
        if event.anonymous:
            feeds = self.anonymous_by_kind[kind]
        if not feeds:
            return self._take_closed() if self._closed else ()
        alerts: Sequence[Alert]
        if event.times != 1:
            alerts = self._feed_all(feeds, event, t)
        elif len(feeds) == 1:
            alerts = feeds[0](event, t)
        else:  # nearly every event: each rule once, inline (a call is a cost on every line)
            fired: list[Alert] = []
            for feed in feeds:
                more = feed(event, t)
                if more:
                    fired.extend(more)
            alerts = fired
        if not alerts:
            # Only an event naming the user or address of an event that opened an incident
            # of a rule of its kind may add to one (every rule's subject is made of those):
            # `anchors` counts them per kind (None is never one), and the tracker asks only
            # the rules whose own incidents they anchor. An IPv6 client may belong to the
            # /64 block an incident is keyed by: its rules say.
            anchors, ip = self._anchors[kind], event.ip
            if not (ip in anchors or event.user in anchors or (ip is not None and ":" in ip)):
                return self._take_closed() if self._closed else ()
        records = self.incidents.observe(event, t, alerts)
        if self._closed:
            records = [*self._take_closed(), *records]
        elif not records:
            return records
        if alerts:
            self.count_alerts(alerts)  # the incidents the rules opened
        return records

    def _take_closed(self) -> list[Alert]:
        closed, self._closed = self._closed, []
        return closed

    @staticmethod
    def _feed_all(feeds: list[Feed], event: Event, t: float) -> Sequence[Alert]:
        """An event that stands for N to each rule, N times (at most MAX_FEEDS)."""
        alerts: list[Alert] = []
        for _ in range(min(event.times, MAX_FEEDS)):
            for feed in feeds:
                found = feed(event, t)
                if found:
                    alerts.extend(found)
        return alerts

    def count_alerts(self, alerts: Sequence[Alert]) -> None:
        """sentinel_alerts_total: the incidents opened, by the rules and elsewhere."""
        counts = self.alert_counts
        for alert in alerts:
            if alert.status != OPEN:
                continue
            key = (alert.rule, alert.severity.label)
            counts[key] = counts.get(key, 0) + 1

    def _count_transfer(self, event: Event, stats: SourceStats) -> None:
        """The transfer's file and bytes in the source's counters (its logins: inline)."""
        if not event.ok or event.direction is None:
            return
        if self.on_download is not None and event.direction is _DOWNLOAD:
            self.on_download(event)
        direction = _DIRECTIONS[event.direction]
        times = event.times
        stats.transfers[direction] = stats.transfers.get(direction, 0) + times
        stats.transfer_bytes[direction] = (
            stats.transfer_bytes.get(direction, 0) + (event.nbytes or 0) * times
        )

    def expire(self, now: float) -> None:
        for rule in self.rules:
            rule.expire(now)
        self._closed.extend(self.incidents.close_idle(now))
        self.attempts.expire(now)
        if self.dedup is not None:
            self.dedup.expire(now)
        self._next_expiry = now + EXPIRE_EVERY

    def close_idle(self, wall: float) -> list[Alert]:
        """Incidents closed since the last records: by event time, or because no event
        added to them for their window by the wall clock `wall` (a live log gone quiet)."""
        return [*self._take_closed(), *self.incidents.close_idle(self._latest(), wall)]

    def finish(self) -> list[Alert]:
        """The end of a replay: every incident's last record (closed, or open if it went
        on when the log ended)."""
        return [*self._take_closed(), *self.incidents.finish(self._latest())]

    def _latest(self) -> float:
        return max((stats.last_event for stats in self.stats.values()), default=0.0)

    def dump_state(self) -> dict[str, Any]:
        return {rule.name: rule.dump() for rule in self.rules}

    def load_state(self, state: dict[str, Any]) -> None:
        for rule in self.rules:
            if rule.name in state:
                rule.load(state[rule.name])


__all__ = ["Direction", "Pipeline", "SessionJoin"]
