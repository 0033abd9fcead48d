"""The state store: one SQLite file of positions, alert history, cooldowns, outbox, rule state.

Why one file and one transaction: the daemon commits the positions of the lines it read
together with the alerts those lines raised and the notifications they queue
(`commit_batch`), so a crash between two batches neither loses an alert nor repeats one.

Cooldown: for each (fingerprint, target), the event time and the wall-clock time of the
last alert queued. A new alert with that fingerprint is not queued again for that target
while EITHER is within `cooldown`: by event time, so that a backfill or a restart reading
an old stretch of log does not re-send an incident it already sent; by wall clock, so that
a backfill of hours of log that re-fires one incident every 20 minutes still pages once.
Every alert is recorded in the history whatever the cooldown says. The cooldown holds
back an incident's opening (a new incident of a fingerprint just notified) and its updates
in size; an update in kind (`details.change == "kind"`) and the closing record go out at
once. Which records a target gets at all is its `statuses` (NotifyTarget.wants).

Incidents: each record also replaces its incident's row in `incidents` (keyed by
fingerprint and first_seen, which all records of an incident share): its latest status
and extent, what `sentinel alerts` lists.

Targets are named in the store by a hash of their kind and URL (`target_key`), never by
their URL, whose user info and path often hold secrets.

Errors: every method raises `StoreError` (and only it) when SQLite or the file system
fails: full disk, read-only directory, a database file deleted or corrupted under us.
The daemon catches it, counts it (sentinel_state_store_errors_total) and carries on; a
failed `commit_batch` changed nothing. A database file deleted while open is noticed at
the next commit and recreated empty (its positions, cooldowns and outbox are gone).
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sentinel.alerts import CLOSED, UPDATE, Alert
from sentinel.config.model import NotifyConfig, NotifyTarget

DB_NAME = "sentinel.db"
HISTORY_MAX_ROWS = 100_000  # the oldest alerts beyond this are pruned (`prune_history`)
BUSY_TIMEOUT_MS = 5_000  # the delivery worker and the daemon share the file

SCHEMA = """
CREATE TABLE IF NOT EXISTS positions (
    source TEXT PRIMARY KEY, position TEXT NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY, recorded_at REAL NOT NULL, last_seen REAL NOT NULL,
    fingerprint TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts (last_seen);
CREATE TABLE IF NOT EXISTS cooldown (
    fingerprint TEXT NOT NULL, target TEXT NOT NULL, event_time REAL NOT NULL,
    queued_at REAL NOT NULL, PRIMARY KEY (fingerprint, target)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, target TEXT NOT NULL, record TEXT NOT NULL,
    created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at);
CREATE TABLE IF NOT EXISTS blobs (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY, recorded_at REAL NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
    fingerprint TEXT NOT NULL, first_seen TEXT NOT NULL, rule TEXT NOT NULL,
    status TEXT NOT NULL, last_seen REAL NOT NULL, updated_at REAL NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (fingerprint, first_seen)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents (last_seen);
"""


class StoreError(Exception):
    """The state store could not read or write; the operation changed nothing."""


def holds_back(alert: Alert) -> bool:
    """Whether the cooldown applies to this record: to an opening and to an update in size,
    not to an update in kind (an escalation) nor to the closing record (once per incident)."""
    if alert.status == CLOSED:
        return False
    return not (alert.status == UPDATE and alert.details.get("change") == "kind")


def target_key(target: NotifyTarget) -> str:
    """A stable name for a target that reveals nothing of its URL."""
    return hashlib.sha256(f"{target.kind}\x00{target.url}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    target: str  # target_key()
    record: dict[str, Any]
    created_at: float
    attempts: int


def _encode_position(position: object) -> str:
    if dataclasses.is_dataclass(position) and not isinstance(position, type):
        position = dataclasses.asdict(position)
    return json.dumps(position, default=_bytes_to_json, sort_keys=True)


def _bytes_to_json(value: object) -> object:
    if isinstance(value, bytes):
        return {"__bytes__": value.hex()}
    raise TypeError(f"position field of type {type(value).__name__} is not storable")


def _json_to_bytes(obj: dict[str, Any]) -> object:
    if set(obj) == {"__bytes__"}:
        return bytes.fromhex(obj["__bytes__"])
    return obj


def _secure_file(path: Path, uid: int, gid: int) -> None:
    """0600, and owned like the database: root running `sentinel alerts` must not leave a
    root-owned -shm file that the daemon's own user then cannot open."""
    with suppress(FileNotFoundError):
        path.chmod(0o600)
        if os.geteuid() == 0 and path.stat().st_uid != uid:
            os.chown(path, uid, gid)


@contextmanager
def _dir_lock(directory: Path) -> Iterator[None]:
    """An exclusive flock on the state directory itself (no lock file to leave behind)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _create_private(path: Path) -> None:
    """Creates the file 0600 whatever the umask, if it is not there; an existing one is
    left as it is (`_secure_file` makes it 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)  # the umask only ever narrows the mode given to open
    finally:
        os.close(fd)


def _why(state_dir: Path) -> str:
    """What SQLite's "unable to open database file" does not say, when it can be seen."""
    try:
        if os.statvfs(state_dir).f_flag & os.ST_RDONLY:
            return " (read-only file system)"
    except OSError as error:
        return f" ({error.strerror})"
    return ""


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with suppress(sqlite3.Error):  # the error that brought us here is worth reporting
            db.execute("ROLLBACK")


class Store:
    """One connection to the state store; use one Store per thread (sqlite3 objects are)."""

    def __init__(
        self,
        state_dir: Path,
        notify: NotifyConfig | None = None,
        clock: Callable[[], float] = time.time,
        *,
        required: bool = True,
    ) -> None:
        """Opens the store; raises StoreError when it cannot, unless not `required`: then
        `open_error` says why, and every use tries to open it again until it works."""
        self.path = state_dir / DB_NAME
        self.notify = notify or NotifyConfig()  # replaced on reload: routing and cooldown
        self.clock = clock
        self.open_error: str | None = None
        self._db: sqlite3.Connection | None = None
        self._inode: tuple[int, ...] | None = None
        try:
            self._open(state_dir)
        except (sqlite3.Error, OSError) as error:
            self.close()
            self.open_error = f"cannot open the state store {self.path}: {error}{_why(state_dir)}"
            if required:
                raise StoreError(self.open_error) from error

    def _open(self, state_dir: Path) -> None:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # One opener at a time, threads and processes alike: two connections reopening a
        # deleted database at once would otherwise each remove the -wal/-shm the other had
        # just made, and go on with a WAL of its own that the other never reads.
        with _dir_lock(state_dir):
            if not self.path.exists():
                # a -wal or -shm without its database belongs to one deleted under us:
                # SQLite would take them for the new file's and fail ("disk I/O error")
                for suffix in ("-wal", "-shm"):
                    self.path.with_name(DB_NAME + suffix).unlink(missing_ok=True)
                # Born private by its own mode, never by the umask, which is process-wide
                # and would reach every other thread: SQLite gives the -wal and -shm files
                # the mode of the database file, made 0600 here before SQLite opens it.
                _create_private(self.path)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
            self._db = db
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(SCHEMA)
        st = self.path.stat()
        for suffix in ("", "-wal", "-shm"):
            _secure_file(self.path.with_name(DB_NAME + suffix), st.st_uid, st.st_gid)
        self._inode = self._identity()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException as error:
            _rollback(db)
            if isinstance(error, sqlite3.Error | OSError):
                raise StoreError(f"state store {self.path}: {error}") from error
            raise

    def _identity(self) -> tuple[int, ...] | None:
        """The inodes of the database and of its WAL index (-shm), None if either is gone.

        The index counts too: a database deleted with its -wal and -shm while another
        connection recreated them in between leaves each connection with a WAL of its own,
        where the others never see what it writes; a changed -shm shows it.
        """
        try:
            db, shm = self.path.stat(), self.path.with_name(DB_NAME + "-shm").stat()
        except OSError:
            return None
        return (db.st_dev, db.st_ino, shm.st_ino)

    def _connection(self) -> sqlite3.Connection:
        """The open connection, reopened on a fresh file if ours was deleted or replaced."""
        current = self._identity()
        if self._db is None or current is None or current != self._inode:
            self.close()
            try:
                self._open(self.path.parent)
            except (sqlite3.Error, OSError) as error:
                self.close()
                raise StoreError(f"cannot reopen the state store {self.path}: {error}") from error
        assert self._db is not None
        return self._db

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except (sqlite3.Error, OSError) as error:
            raise StoreError(f"state store {self.path}: {error}") from error

    # -- positions and rule state -------------------------------------------------------

    def save_position(self, source: str, position: object) -> None:
        """Store a source's position: a JSON value or a dataclass of them (bytes allowed)."""
        with self._transaction() as db:
            self._put_position(db, source, position)

    def _put_position(self, db: sqlite3.Connection, source: str, position: object) -> None:
        db.execute(
            "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
            (source, _encode_position(position), self.clock()),
        )

    def load_position(self, source: str) -> Any:
        """The saved position (a dataclass comes back as a dict), or None."""
        rows = self._query("SELECT position FROM positions WHERE source = ?", (source,))
        return json.loads(rows[0][0], object_hook=_json_to_bytes) if rows else None

    def save_rule_state(self, blob: bytes) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO blobs VALUES ('rules', ?)", (blob,))

    def load_rule_state(self) -> bytes | None:
        rows = self._query("SELECT value FROM blobs WHERE name = 'rules'")
        return bytes(rows[0][0]) if rows else None

    # -- the batch commit -------------------------------------------------------------

    def commit_batch(
        self,
        positions: Mapping[str, object],
        alerts: Sequence[Alert],
        rule_state: bytes | None = None,
        *,
        notified: Sequence[Alert] = (),
    ) -> int:
        """Positions, alerts, their notifications and the rule state in one transaction.

        `notified` are alerts recorded late, whose notifications went out from memory while
        the store failed: history only, nothing queued. Returns how many notifications were
        queued (wake the deliverer when > 0).
        """
        now = self.clock()
        queued = 0
        with self._transaction() as db:
            for source, position in positions.items():
                self._put_position(db, source, position)
            for alert in notified:  # notified from memory already: history only
                self._record(db, alert, now)
            for alert in alerts:
                queued += self._route(db, alert, self._record(db, alert, now), now)
            if rule_state is not None:
                db.execute("INSERT OR REPLACE INTO blobs VALUES ('rules', ?)", (rule_state,))
        return queued

    @staticmethod
    def _record(db: sqlite3.Connection, alert: Alert, now: float) -> str:
        """Writes the alert into the history and its incident's row; returns its record."""
        record = alert.to_json()
        last_seen = alert.last_seen.timestamp()
        db.execute(
            "INSERT INTO alerts (recorded_at, last_seen, fingerprint, record) VALUES (?, ?, ?, ?)",
            (now, last_seen, alert.fingerprint, record),
        )
        db.execute(
            "INSERT OR REPLACE INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                alert.fingerprint,
                alert.first_seen.isoformat(),
                alert.rule,
                alert.status,
                last_seen,
                now,
                record,
            ),
        )
        return record

    def _route(self, db: sqlite3.Connection, alert: Alert, record: str, now: float) -> int:
        cooldown = self.notify.cooldown.total_seconds()
        event_time = alert.last_seen.timestamp()
        held = holds_back(alert)
        queued = 0
        for target in self.notify.targets:
            if alert.severity < target.min_severity or not target.wants(alert.status):
                continue
            key = target_key(target)
            last = db.execute(
                "SELECT event_time, queued_at FROM cooldown WHERE fingerprint = ? AND target = ?",
                (alert.fingerprint, key),
            ).fetchone()
            if (
                held
                and last is not None
                and (abs(event_time - last[0]) < cooldown or now - last[1] < cooldown)
            ):
                continue
            db.execute(
                "INSERT OR REPLACE INTO cooldown VALUES (?, ?, ?, ?)",
                (alert.fingerprint, key, event_time, now),
            )
            db.execute(
                "INSERT INTO outbox (target, record, created_at, next_attempt_at)"
                " VALUES (?, ?, ?, ?)",
                (key, record, now, now),
            )
            queued += 1
        return queued

    # -- history ------------------------------------------------------------------------

    def list_incidents(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Each incident's latest record (status and extent) whose last_seen is at or after
        `since`, oldest first."""
        start = since.timestamp() if since is not None else float("-inf")
        rows = self._query(
            "SELECT record FROM incidents WHERE last_seen >= ? ORDER BY last_seen, first_seen",
            (start,),
        )
        return [json.loads(row[0]) for row in rows]

    def list_alerts(self, since: datetime | None = None) -> list[dict[str, Any]]:
        """Recorded alerts whose last_seen (event time) is at or after `since`, oldest first."""
        start = since.timestamp() if since is not None else float("-inf")
        rows = self._query(
            "SELECT record FROM alerts WHERE last_seen >= ? ORDER BY last_seen, id", (start,)
        )
        return [json.loads(row[0]) for row in rows]

    def record_actions(self, records: Sequence[Mapping[str, object]]) -> None:
        """Quarantines and deletions done on exchange directories (paths, never contents)."""
        now = self.clock()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO actions (recorded_at, record) VALUES (?, ?)",
                [(now, json.dumps(record, sort_keys=True)) for record in records],
            )

    def list_actions(self) -> list[dict[str, Any]]:
        rows = self._query("SELECT record FROM actions ORDER BY id")
        return [json.loads(row[0]) for row in rows]

    def prune_history(self, max_rows: int = HISTORY_MAX_ROWS) -> int:
        """Drops the oldest recorded alerts beyond `max_rows` and stale cooldowns."""
        horizon = self.clock() - 2 * self.notify.cooldown.total_seconds()
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM alerts WHERE id <= (SELECT max(id) FROM alerts) - ?", (max_rows,)
            )
            db.execute("DELETE FROM cooldown WHERE queued_at < ?", (horizon,))
            db.execute(
                "DELETE FROM incidents WHERE last_seen < (SELECT min(last_seen) FROM alerts)"
            )
            return int(cursor.rowcount)

    # -- outbox -------------------------------------------------------------------------

    def outbox_size(self) -> int:
        return int(self._query("SELECT count(*) FROM outbox")[0][0])

    def due(self, now: float, limit: int = 50, *, target: str | None = None) -> list[OutboxRow]:
        """Notifications whose next attempt is due (for one target_key if given), the
        oldest due first."""
        rows = self._query(
            "SELECT id, target, record, created_at, attempts FROM outbox"
            " WHERE next_attempt_at <= ? AND (? IS NULL OR target = ?)"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (now, target, target, limit),
        )
        return [OutboxRow(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]

    def next_due(self, *, target: str | None = None) -> float | None:
        """When the earliest queued notification (for one target_key if given) is due, or
        None when there is none."""
        value = self._query(
            "SELECT min(next_attempt_at) FROM outbox WHERE ? IS NULL OR target = ?",
            (target, target),
        )[0][0]
        return float(value) if value is not None else None

    def drop_targets_except(self, keys: Collection[str]) -> int:
        """Drops the notifications of targets not in `keys` (gone from the configuration)."""
        present = {row[0] for row in self._query("SELECT DISTINCT target FROM outbox")}
        gone = [(key,) for key in present.difference(keys)]
        if not gone:
            return 0
        with self._transaction() as db:
            before = db.total_changes
            db.executemany("DELETE FROM outbox WHERE target = ?", gone)
            return db.total_changes - before

    def ack(self, row_id: int, *, resume: str | None = None) -> None:
        """Delivered (or dropped): the row leaves the outbox. `resume`: a target_key that
        answered again after failures, whose waiting rows are all due now."""
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
            if resume is not None:
                db.execute(
                    "UPDATE outbox SET next_attempt_at = min(next_attempt_at, ?) WHERE target = ?",
                    (self.clock(), resume),
                )

    def retry_later(
        self, row_id: int, next_attempt_at: float, *, target: str | None = None
    ) -> None:
        """The row failed: try again at `next_attempt_at`. With its `target` (target_key),
        the target's other rows wait as long: one probe at a time reaches a failing target."""
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                (next_attempt_at, row_id),
            )
            if target is not None:
                db.execute(
                    "UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?) WHERE target = ?",
                    (next_attempt_at, target),
                )

    def give_up(self, created_before: float) -> int:
        """Drops undelivered notifications queued before `created_before`; returns how many."""
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM outbox WHERE created_at < ?", (created_before,))
            return int(cursor.rowcount)
