"""One audit of one supervised directory: walk, inspect, alerts, actions, metric values."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sentinel.alerts import Alert
from sentinel.config.model import DirectoryConfig
from sentinel.files import findings, stale
from sentinel.files.cache import InspectionCache, cache_key
from sentinel.files.safeopen import Refused, open_entry, open_fact, parent_dir
from sentinel.files.scan import (
    SETTLE_SECONDS,
    FileFact,
    Filters,
    Listing,
    WalkStats,
    fact_from_stat,
    listings,
    settled,
)
from sentinel.files.sweep import Inspect, Sweep
from sentinel.files.writers import WriterScan
from sentinel.rules.settings import (
    ExposedFileSettings,
    StaleFileSettings,
    UnencryptedPersonalDataSettings,
)

if TYPE_CHECKING:
    from sentinel.files.actions import ActionRecord
    from sentinel.files.inspect import Inspection

# Imported where they are used: a scan that neither reads contents nor moves files does not
# pay for the inspection machinery (regexes, archives) nor for the actions' (shutil, logging).


@dataclass(frozen=True, slots=True)
class DirectoryFigures:
    """Values for the gauges sentinel_stale_files, _oldest_file_age_seconds, ..._personal_data."""

    stale_files: int = 0
    oldest_file_age_seconds: float = 0.0
    personal_data_files: int = 0


@dataclass(frozen=True, slots=True)
class DirectoryReport:
    """Everything one scan of one directory found. `directory` is the configured path."""

    directory: str
    alerts: tuple[Alert, ...]
    figures: DirectoryFigures
    actions: tuple[ActionRecord, ...] = ()
    files: int = 0
    inspected: int = 0
    deferred: int = 0  # changed too recently to be read: looked at on the next scan
    encrypted: int = 0
    walk: WalkStats = field(default_factory=WalkStats)
    facts: tuple[FileFact, ...] = ()  # only when asked (for downloaded_still_present)
    unreadable: int = 0  # could not be opened or read: not judged
    # judged on what they held when read, though they may still be being written
    unsettled: tuple[Unsettled, ...] = ()  # the first MAX_UNSETTLED of them
    unsettled_total: int = 0


MAX_UNSETTLED = 100  # files named in a report as possibly half-written; all are counted
OPEN_FOR_WRITING = "open for writing by another process"
CHANGED_WHILE_READ = "changed while it was read"


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A recent file judged on what it held when read, which may not be its final content."""

    rel: str
    reason: str  # OPEN_FOR_WRITING or CHANGED_WHILE_READ


def _act(
    directory: DirectoryConfig, fact: FileFact, now: datetime, *, dry_run: bool, settle: float
) -> ActionRecord | None:
    from sentinel.files.actions import act

    return act(directory, fact, now, dry_run=dry_run, settle=settle)


def _settings(rules: Mapping[str, Any], name: str, default: type) -> Any:
    return rules.get(name) or default()


class DirectoryAuditor:
    """Audits configured directories. State: the inspection cache (bounded LRU) only."""

    def __init__(
        self,
        server: str,
        rules: Mapping[str, Any],
        cache: InspectionCache | None = None,
        settle: float = SETTLE_SECONDS,
        *,
        read_settle: float | None = None,
    ) -> None:
        """`settle`: a file changed this recently is neither moved nor deleted. `read_settle`
        (default: `settle`): nor read, until a later scan. A one-shot scan reads every file
        (0) and says which ones may still be being written."""
        self.server = server
        self.stale_settings: StaleFileSettings = _settings(rules, "stale_file", StaleFileSettings)
        self.personal: UnencryptedPersonalDataSettings = _settings(
            rules, "unencrypted_personal_data", UnencryptedPersonalDataSettings
        )
        self.exposed: ExposedFileSettings = _settings(rules, "exposed_file", ExposedFileSettings)
        self.cache = cache if cache is not None else InspectionCache()
        self.settle = settle
        self.read_settle = settle if read_settle is None else read_settle

    def audit(
        self,
        directory: DirectoryConfig,
        now: datetime,
        *,
        dry_run: bool = False,
        keep_facts: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> DirectoryReport:
        """A full scan: one stale_file alert at most, per-file findings, actions."""
        stats = WalkStats()
        scope = findings.Scope(self.server, directory, now)
        out = _FileResults()
        wants_inspect = directory.inspect or directory.anonymous
        inspect = self._entry_inspector(scope, out) if wants_inspect else None
        sweep = Sweep(directory, now.timestamp(), self.read_settle, inspect, keep_facts=keep_facts)
        for listing in listings(
            directory.path, Filters(directory.include, directory.exclude), stats
        ):
            sweep.add(listing)
            if progress is not None:
                progress(sweep.files)
        for fact in sweep.flagged:
            record = _act(directory, fact, now, dry_run=dry_run, settle=self.settle)
            out.actions.extend([record] if record else [])
        stale_alert = stale.summary_alert(
            self.server, directory, sweep.summary(), now, self.stale_settings
        )
        zone = findings.writable_zone_alert(scope, self._writable(directory, stats), self.exposed)
        alerts = [a for a in (stale_alert, zone) if a is not None]
        oldest = sweep.oldest
        figures = DirectoryFigures(
            stale_files=sweep.stale_count,
            oldest_file_age_seconds=max(now.timestamp() - oldest, 0.0) if oldest else 0.0,
            personal_data_files=out.personal,
        )
        return DirectoryReport(
            directory=str(directory.path),
            alerts=tuple(alerts + out.alerts),
            figures=figures,
            actions=tuple(out.actions),
            files=sweep.files,
            inspected=out.inspected,
            deferred=sweep.deferred,
            encrypted=out.encrypted,
            walk=stats,
            facts=tuple(sweep.facts),
            unreadable=out.unreadable,
            unsettled=tuple(out.unsettled),
            unsettled_total=out.unsettled_total,
        )

    def audit_paths(
        self,
        directory: DirectoryConfig,
        rels: Iterable[str],
        now: datetime,
        *,
        dry_run: bool = False,
    ) -> DirectoryReport:
        """New or changed files reported by the watcher: per-file findings and actions only."""
        facts = [f for f in (self._lstat(directory, rel) for rel in rels) if f is not None]
        filters = Filters(directory.include, directory.exclude)
        facts = [f for f in facts if filters.wants_file(f.rel, f.name)]
        report = self._files(findings.Scope(self.server, directory, now), facts, set(), dry_run)
        return DirectoryReport(
            directory=str(directory.path),
            alerts=tuple(report.alerts),
            figures=DirectoryFigures(personal_data_files=report.personal),
            actions=tuple(report.actions),
            files=len(facts),
            inspected=report.inspected,
            deferred=report.deferred,
            encrypted=report.encrypted,
            unreadable=report.unreadable,
            unsettled=tuple(report.unsettled),
            unsettled_total=report.unsettled_total,
        )

    @staticmethod
    def _lstat(directory: DirectoryConfig, rel: str) -> FileFact | None:
        try:
            with parent_dir(directory.path, rel) as (fd, name):
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            return None
        reachable = False  # unknown without the parents' modes; the full scan judges it
        return fact_from_stat(rel, st, reachable) if stat.S_ISREG(st.st_mode) else None

    @staticmethod
    def _writable(directory: DirectoryConfig, stats: WalkStats) -> list[str]:
        try:
            root_writable = bool(directory.path.stat().st_mode & 0o002)
        except OSError:
            root_writable = False
        return ([""] if root_writable else []) + stats.world_writable_dirs

    def inspect(self, directory: DirectoryConfig, fact: FileFact) -> Inspection | None:
        """The cached or fresh inspection of one file; None when it cannot be opened safely."""
        key = (fact.dev, fact.ino, fact.size, fact.mtime_ns)
        found = self.cache.get(key)
        if found is not None:
            return found
        from sentinel.files.inspect import inspect_fd

        try:
            with open_fact(directory.path, fact) as fd:
                found = inspect_fd(fd, directory.max_inspect_size)
                key = cache_key(os.fstat(fd))
        except (Refused, OSError):
            return None
        self.cache.put(key, found)
        return found

    def _entry_inspector(self, scope: findings.Scope, out: _FileResults) -> Inspect:
        """`inspect` for the walk: each file opened in its directory's fd and checked against
        the walk's lstat, read whole when small, judged."""
        from sentinel.files.inspect import inspect_open

        max_size, cache = scope.directory.max_inspect_size, self.cache
        recent = scope.now.timestamp() - SETTLE_SECONDS  # files changed since may be uploading

        def inspect(listing: Listing, name: str, st: os.stat_result) -> bool:
            key = cache_key(st)
            found = cache.get(key) if cache.limit else None
            if found is None:
                try:
                    fd = open_entry(listing.fd, name, st)
                except OSError:  # Refused included: not the file the walk saw
                    out.unreadable += 1
                    return False
                try:
                    found = inspect_open(fd, st.st_size, max_size)
                    if st.st_mtime > recent:
                        out.check_settled(listing.prefix + name, st, os.fstat(fd))
                finally:
                    os.close(fd)
                cache.put(key, found)
            return self._judge(
                scope,
                found,
                out,
                lambda: fact_from_stat(listing.prefix + name, st, listing.reachable),
            )

        return inspect

    def _files(
        self, scope: findings.Scope, facts: list[FileFact], stale_rels: set[str], dry_run: bool
    ) -> _FileResults:
        directory, now = scope.directory, scope.now
        out = _FileResults()
        wants_inspect = directory.inspect or directory.anonymous
        for fact in facts:
            flagged = fact.rel in stale_rels
            if wants_inspect and fact.size:
                if not settled(fact, now.timestamp(), self.read_settle):
                    out.deferred += 1
                    continue
                flagged = self._inspect_one(scope, fact, out) or flagged
            if flagged:
                record = _act(directory, fact, now, dry_run=dry_run, settle=self.settle)
                out.actions.extend([record] if record else [])
        return out

    def _inspect_one(self, scope: findings.Scope, fact: FileFact, out: _FileResults) -> bool:
        found = self.inspect(scope.directory, fact)
        if found is None:
            out.unreadable += 1
            return False
        return self._judge(scope, found, out, lambda: fact)

    def _judge(
        self,
        scope: findings.Scope,
        found: Inspection,
        out: _FileResults,
        fact_of: Callable[[], FileFact],
    ) -> bool:
        """Counts an inspection and makes its alerts; True when the file holds personal data."""
        out.inspected += 1
        out.unreadable += found.skipped == "unreadable"
        out.encrypted += found.encrypted is not None
        if not found.counts and self.personal.min_matches > 0:
            return False  # nothing found: no alert could come of it (most files)
        fact = fact_of()
        personal = findings.personal_data_alert(scope, fact, found, self.personal)
        exposed = findings.exposed_alert(
            scope, fact, found, self.exposed, self.personal.min_matches
        )
        out.alerts.extend(a for a in (personal, exposed) if a is not None)
        has_data = findings.holds_personal_data(found, self.personal.min_matches)
        out.personal += has_data
        return has_data


@dataclass(slots=True)
class _FileResults:
    alerts: list[Alert] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    personal: int = 0
    inspected: int = 0
    deferred: int = 0
    encrypted: int = 0
    unreadable: int = 0
    unsettled: list[Unsettled] = field(default_factory=list)
    unsettled_total: int = 0
    writers: WriterScan | None = None  # made the first time a recent file is read

    def check_settled(self, rel: str, seen: os.stat_result, after: os.stat_result) -> None:
        """Notes a recent file that changed while read, or that a process has open to write."""
        if (after.st_size, after.st_mtime_ns) != (seen.st_size, seen.st_mtime_ns):
            reason = CHANGED_WHILE_READ
        else:
            if self.writers is None:
                self.writers = WriterScan()
            if not self.writers.is_open_for_writing(seen.st_dev, seen.st_ino):
                return
            reason = OPEN_FOR_WRITING
        self.unsettled_total += 1
        if len(self.unsettled) < MAX_UNSETTLED:
            self.unsettled.append(Unsettled(rel, reason))
