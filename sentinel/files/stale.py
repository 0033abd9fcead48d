"""stale_file: one alert per directory and scan, and files left after their download."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from pathlib import PurePosixPath
from typing import Any

from sentinel.alerts import Alert, human_size, make_alert
from sentinel.config.model import DirectoryConfig
from sentinel.files.scan import FileFact
from sentinel.rules.settings import StaleFileSettings
from sentinel.textsafe import neutral

EXAMPLES = 5  # file names quoted in an alert
RULE = "stale_file"


def age_of(age_by: str, attribute: str = "{}") -> Callable[[Any], float]:
    """The time a file's age counts from, as a function of the file: mtime by default, or
    atime, ctime, the newest of the three. `attribute` names the times on what it is given:
    "{}" for a FileFact (`mtime`), "st_{}" for an os.stat_result (`st_mtime`)."""
    if age_by != "newest":
        return attrgetter(attribute.format(age_by if age_by in ("atime", "ctime") else "mtime"))
    mtime, atime, ctime = (attrgetter(attribute.format(n)) for n in ("mtime", "atime", "ctime"))
    return lambda file: max(mtime(file), atime(file), ctime(file))


def age_timestamp(fact: FileFact, age_by: str) -> float:
    """The time a file's age counts from: mtime by default, or atime, ctime, the newest."""
    return float(age_of(age_by)(fact))


def stale_files(
    facts: Iterable[FileFact], directory: DirectoryConfig, now: float
) -> list[FileFact]:
    """Files older than the directory's max_age, oldest first; none when max_age is unset."""
    if directory.max_age is None:
        return []
    limit = now - directory.max_age.total_seconds()
    found = [f for f in facts if age_timestamp(f, directory.age_by) <= limit]
    return sorted(found, key=lambda f: age_timestamp(f, directory.age_by))


def _days(seconds: float) -> str:
    days = seconds / 86400
    return f"{days:.0f} days" if days >= 2 else f"{seconds / 3600:.0f} h"


def _stamp(ts: float, now: datetime) -> datetime:
    return datetime.fromtimestamp(ts, tz=now.tzinfo)


@dataclass(frozen=True, slots=True)
class StaleSummary:
    """What the stale_file alert tells of a directory's stale files."""

    count: int
    nbytes: int
    oldest: float  # age timestamps (see `age_timestamp`) of the oldest and the newest
    newest: float
    examples: tuple[str, ...]  # paths below the root of the oldest ones, oldest first


def stale_alert(
    server: str,
    directory: DirectoryConfig,
    stale: Sequence[FileFact],
    now: datetime,
    settings: StaleFileSettings,
) -> Alert | None:
    """One alert for all the stale files of a directory (oldest first, see `stale_files`)."""
    if not stale:
        return None
    times = [age_timestamp(f, directory.age_by) for f in stale]
    summary = StaleSummary(
        count=len(stale),
        nbytes=sum(f.size for f in stale),
        oldest=min(times),
        newest=max(times),
        examples=tuple(f.rel for f in stale[:EXAMPLES]),
    )
    return summary_alert(server, directory, summary, now, settings)


def summary_alert(
    server: str,
    directory: DirectoryConfig,
    stale: StaleSummary,
    now: datetime,
    settings: StaleFileSettings,
) -> Alert | None:
    """One alert for all the stale files of a directory: count, size, oldest age, examples."""
    if not stale.count or not settings.enabled or directory.max_age is None:
        return None
    oldest_age = now.timestamp() - stale.oldest
    examples = [neutral(rel, limit=80) for rel in stale.examples[:EXAMPLES]]
    where = str(directory.path)
    more = f" and {stale.count - len(examples)} more" if stale.count > len(examples) else ""
    noun = "file" if stale.count == 1 else "files"
    summary = (
        f"{stale.count} {noun} older than {_days(directory.max_age.total_seconds())} in {where} "
        f"({human_size(stale.nbytes)}), oldest {_days(oldest_age)}: {', '.join(examples)}{more}"
    )
    return make_alert(
        rule=RULE,
        severity=settings.severity,
        server=server,
        subject=where,
        summary=summary,
        first_seen=_stamp(stale.oldest, now),
        last_seen=_stamp(stale.newest, now),
        path=where,
        count=stale.count,
        nbytes=stale.nbytes,
        details={
            "directory": where,
            "age_by": directory.age_by,
            "max_age_seconds": int(directory.max_age.total_seconds()),
            "oldest_age_seconds": int(oldest_age),
            "examples": examples,
        },
    )


Download = tuple[str, str | None, datetime]  # path as logged, user, time of the download


def _matches(logged: str, root: PurePosixPath, rel: str) -> bool:
    """A logged path names the file absolutely, or relative to a chroot ending in `rel`."""
    path = PurePosixPath(logged)
    return path == root / rel or str(path).endswith("/" + rel) or str(path) == rel


def downloaded_still_present(
    *,
    server: str,
    directory: DirectoryConfig,
    downloads: Iterable[Download],
    facts: Iterable[FileFact],
    now: datetime,
    settings: StaleFileSettings,
) -> Alert | None:
    """Files downloaded more than `delete_after_download` ago and still there, unchanged since.

    One alert per directory; users are counted, never named in the summary.
    """
    keep = directory.delete_after_download
    if keep is None or not settings.enabled:
        return None
    root = PurePosixPath(directory.path)
    by_name: dict[str, list[FileFact]] = {}
    for fact in facts:
        by_name.setdefault(fact.name, []).append(fact)
    left: dict[str, tuple[FileFact, datetime]] = {}
    users: set[str] = set()
    for logged, user, ts in downloads:
        if now - ts < keep:
            continue
        for fact in by_name.get(PurePosixPath(logged).name, ()):
            if _matches(logged, root, fact.rel) and fact.mtime <= ts.timestamp():
                first = left.get(fact.rel)
                left[fact.rel] = (fact, ts if first is None else min(first[1], ts))
                users.update([user] if user else [])
    return _downloaded_alert(
        server=server,
        directory=directory,
        left=left,
        users=len(users),
        now=now,
        settings=settings,
        keep=keep,
    )


def _downloaded_alert(
    *,
    server: str,
    directory: DirectoryConfig,
    left: dict[str, tuple[FileFact, datetime]],
    users: int,
    now: datetime,
    settings: StaleFileSettings,
    keep: timedelta,
) -> Alert | None:
    if not left:
        return None
    ordered = sorted(left.values(), key=lambda item: item[1])
    examples = [neutral(f.rel, limit=80) for f, _ in ordered[:EXAMPLES]]
    where = str(directory.path)
    total = sum(f.size for f, _ in ordered)
    summary = (
        f"{len(left)} files in {where} still present more than {_days(keep.total_seconds())} "
        f"after their download ({human_size(total)}, {users} users): {', '.join(examples)}"
    )
    return make_alert(
        rule=RULE,
        severity=settings.severity,
        server=server,
        subject=f"{where}\x00downloaded",
        summary=summary,
        first_seen=ordered[0][1],
        last_seen=ordered[-1][1],
        path=where,
        count=len(left),
        nbytes=total,
        details={"directory": where, "reason": "downloaded", "examples": examples, "users": users},
    )
