"""The delivery workers: send what the state store's outbox holds, retrying with backoff.

The outbox lives in the store, so undelivered notifications survive a restart. Each
target has a lane of its own, a thread with its own Store (its own SQLite connection:
sqlite3 objects stay in the thread that made them), so that a slow, throttled or
unreachable target (Apprise waits seconds between two e-mails to one server) never
delays the others. A keeper thread gives up the too old, drops the rows of targets that
left the configuration and trims the alert history once an hour (`Store.prune_history`).
One lifecycle: start(), stop(timeout) sets the stop event and joins every thread.
Counters (`sent`, `failed`, `given_up`, `queue_size`, `store_errors`) are plain ints for
the metrics collector; `on_result("sent" | "failed" | "given_up")` is called once per
outcome too, under a lock.

When the store itself fails (a full disk, a read-only state directory), the daemon hands
the alerts it could not store to `send_unstored`: they wait in memory (bounded by
`MEMORY_MAX`, with the same routing, cooldown, backoff and give-up age) and are sent even
while the store stays unusable. Only a crash before they are sent loses them: the lines
that raised them are read again after a restart (their position was not stored either),
which raises and notifies them again.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentinel.alerts import Alert
from sentinel.config.model import NotifyConfig, NotifyTarget
from sentinel.sinks.notify import Dispatcher, Sender, mask_url
from sentinel.sinks.store import OutboxRow, Store, StoreError, holds_back, target_key

log = logging.getLogger("sentinel.notify")
POLL = 1.0  # seconds between two looks at the outbox when nothing wakes a worker
BATCH = 50
PRUNE_EVERY = 3600.0  # seconds between two trims of the alert history and cooldowns
MEMORY_MAX = 10_000  # notifications held in memory while the store fails; oldest dropped


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential delays with jitter: base, 2*base, 4*base, ... up to cap."""

    base: float = 2.0
    cap: float = 60.0  # a target back from an outage hears within a minute
    jitter: float = 0.2  # +/- this fraction, so targets that failed together spread out

    def delay(self, attempts: int) -> float:
        raw = min(self.cap, self.base * 2.0 ** min(attempts, 30))
        return min(self.cap, raw * random.uniform(1 - self.jitter, 1 + self.jitter))  # noqa: S311 (jitter, not a secret)


@dataclass(slots=True, eq=False)
class Unstored:
    """A notification the store could not take, waiting in memory."""

    target: NotifyTarget
    key: str  # target_key(target): the lane that sends it
    record: dict[str, Any]
    created_at: float
    attempts: int = 0
    next_attempt_at: float = 0.0


class Deliverer:
    """Threads that empty the outbox into the configured targets, one per target."""

    def __init__(
        self,
        state_dir: Path,
        notify: NotifyConfig,
        *,
        sender: Sender | None = None,
        backoff: Backoff = Backoff(),
        clock: Callable[[], float] = time.time,
        on_result: Callable[[str], None] | None = None,
        poll: float = POLL,
    ) -> None:
        self.state_dir = state_dir
        self.notify = notify
        self.sender = sender
        self.backoff = backoff
        self.clock = clock
        self.on_result = on_result
        self.poll = poll
        self.sent = 0
        self.failed = 0
        self.given_up = 0
        self.store_errors = 0
        self.queue_size = 0
        self._targets = {target_key(t): t for t in notify.targets}
        self._stop = threading.Event()
        self._wakes = {key: threading.Event() for key in (None, *self._targets)}
        self._threads: list[threading.Thread] = []
        self._prepared = threading.Semaphore(0)  # one release per lane once its sender is ready
        self._lock = threading.Lock()  # counters, the memory queue and its cooldowns
        self._memory: deque[Unstored] = deque()
        self._cooldown: dict[tuple[str, str], float] = {}  # (fingerprint, target) -> clock()
        self._stored_queue = 0

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._keep, name="sentinel-outbox")]
        self._threads += [
            threading.Thread(target=self._lane, args=(key,), name=f"sentinel-deliver-{n}")
            for n, key in enumerate(self._targets, 1)
        ]
        for thread in self._threads:
            thread.start()

    def wait_prepared(self, timeout: float) -> bool:
        """Waits until every lane's sender is ready (Apprise loaded, clients built), so that
        the first alert does not pay for it; False if some lane took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        for _ in self._targets:
            if not self._prepared.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return False
        return True

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.kick()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def kick(self) -> None:
        """New rows were queued: look at the outbox now rather than at the next poll."""
        for wake in self._wakes.values():
            wake.set()

    def send_unstored(self, alerts: Sequence[Alert]) -> int:
        """Queues in memory the notifications of alerts the store failed to take.

        Routing and cooldown as `Store.commit_batch` would apply them (the cooldown by wall
        clock, in memory). Returns how many were queued.
        """
        now = self.clock()
        cooldown = self.notify.cooldown.total_seconds()
        queued = 0
        with self._lock:
            for alert in alerts:
                record = json.loads(alert.to_json())
                held = holds_back(alert)
                for key, target in self._targets.items():
                    last = self._cooldown.get((alert.fingerprint, key))
                    if (
                        alert.severity < target.min_severity
                        or not target.wants(alert.status)
                        or (held and last is not None and now - last < cooldown)
                    ):
                        continue
                    self._cooldown[(alert.fingerprint, key)] = now
                    if len(self._memory) >= MEMORY_MAX:
                        self._memory.popleft()
                        self._count_locked("given_up", 1)
                    self._memory.append(Unstored(target, key, record, now, next_attempt_at=now))
                    queued += 1
            self._update_queue_size()
        if queued:
            self.kick()
        return queued

    # -- the threads --------------------------------------------------------------------

    def _worker(self, key: str | None, work: Callable[[Store | None], float]) -> None:
        """The loop of every thread: a store of its own, `work` rounds, waits between them.

        `work` gets None while the store cannot be opened: the in-memory notifications go
        out all the same. A failing store is logged when its error changes, not each round.
        """
        wake = self._wakes[key]
        store: Store | None = None
        reported: str | None = None
        while not self._stop.is_set():
            wait = self.poll
            try:
                if store is None:
                    opened = Store(self.state_dir, self.notify, clock=self.clock, required=False)
                    if opened.open_error is not None:
                        raise StoreError(opened.open_error)
                    store = opened
                wait = work(store)
                reported = None
            except StoreError as error:
                with self._lock:
                    self.store_errors += 1
                if str(error) != reported:
                    log.error("delivery from the outbox paused: %s", error)
                    reported = str(error)
                if store is None:
                    wait = min(wait, work(None))  # touches no store
            wake.wait(wait)
            wake.clear()
        if store is not None:
            store.close()

    def _keep(self) -> None:
        next_prune = 0.0

        def housekeeping(store: Store | None) -> float:
            nonlocal next_prune
            if store is None:
                return self.poll
            if time.monotonic() >= next_prune:
                store.prune_history()
                next_prune = time.monotonic() + PRUNE_EVERY
            too_old = self.clock() - self.notify.give_up_after.total_seconds()
            dropped = store.give_up(too_old)
            if dropped:
                log.warning(
                    "gave up %d notification(s) undelivered after %s",
                    dropped,
                    self.notify.give_up_after,
                )
                self._count("given_up", dropped)
            # the target left the configuration: nobody left to tell
            orphans = store.drop_targets_except(self._targets)
            if orphans:
                self._count("given_up", orphans)
            self._stored_queue = store.outbox_size()
            self._update_queue_size()
            return self.poll

        self._worker(None, housekeeping)

    def _lane(self, key: str) -> None:
        target = self._targets[key]
        sender = self.sender
        if sender is None:
            dispatcher = Dispatcher()
            dispatcher.prepare(target)  # now, not on the first alert (Apprise: ~0.3 s)
            sender = dispatcher
        self._prepared.release()

        def deliver(store: Store | None) -> float:
            wait = self._memory_round(sender, key)
            if store is None:
                return wait
            for row in store.due(self.clock(), BATCH, target=key):
                if self._stop.is_set() or not self._deliver(store, sender, target, row):
                    break  # failing: its other rows wait for the next probe
            self._stored_queue = store.outbox_size()
            self._update_queue_size()
            due = store.next_due(target=key)
            if due is None:
                return wait
            return max(0.0, min(wait, due - self.clock()))

        self._worker(key, deliver)

    def _memory_round(self, sender: Sender, key: str) -> float:
        """Sends this lane's in-memory notifications that are due; returns how long to sleep."""
        now = self.clock()
        oldest = now - self.notify.give_up_after.total_seconds()
        with self._lock:
            pending = [item for item in self._memory if item.key == key]
        wait = self.poll
        for item in pending:
            if self._stop.is_set():
                break
            if item.created_at < oldest:
                self._forget(item, "given_up")
                continue
            if item.next_attempt_at > now:
                wait = min(wait, item.next_attempt_at - now)
                continue
            try:
                sender.send(item.target, item.record)
            except Exception as error:  # a plugin's bug must not end the worker
                delay = self.backoff.delay(item.attempts)
                item.attempts += 1
                item.next_attempt_at = self.clock() + delay
                wait = min(wait, delay)
                self._report_failure(item.target, item.attempts, delay, error)
                continue
            self._forget(item, "sent")
        return max(0.0, wait)

    def _forget(self, item: Unstored, result: str) -> None:
        with self._lock:
            self._memory.remove(item)
            self._count_locked(result, 1)
            self._update_queue_size()

    def _deliver(self, store: Store, sender: Sender, target: NotifyTarget, row: OutboxRow) -> bool:
        """Sends one row; False when the target failed (the row and the target's others
        are then deferred by the backoff)."""
        try:
            sender.send(target, row.record)
        except Exception as error:  # a plugin's bug must not end the worker
            delay = self.backoff.delay(row.attempts)
            store.retry_later(row.id, self.clock() + delay, target=row.target)
            self._report_failure(target, row.attempts + 1, delay, error)
            return False
        # a target that answers again gets what waited for it now, not at each row's retry
        store.ack(row.id, resume=row.target if row.attempts else None)
        self._count("sent", 1)
        return True

    def _report_failure(
        self, target: NotifyTarget, attempt: int, delay: float, error: Exception
    ) -> None:
        log.warning(
            "notification to %s failed (attempt %d, next in %.0f s): %s",
            mask_url(target.url),
            attempt,
            delay,
            error,
        )
        self._count("failed", 1)

    # -- counters -----------------------------------------------------------------------

    def _update_queue_size(self) -> None:
        self.queue_size = self._stored_queue + len(self._memory)

    def _count(self, result: str, n: int) -> None:
        with self._lock:
            self._count_locked(result, n)

    def _count_locked(self, result: str, n: int) -> None:
        setattr(self, result, getattr(self, result) + n)
        if self.on_result is not None:
            for _ in range(n):
                self.on_result(result)
