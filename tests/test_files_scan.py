"""Walker, stale_file, downloaded-but-still-there and safe actions on real trees."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sentinel.config.model import DirectoryConfig
from sentinel.files.actions import act
from sentinel.files.scan import Filters, WalkStats, walk
from sentinel.files.stale import downloaded_still_present, stale_alert, stale_files
from sentinel.rules.settings import StaleFileSettings

DAY = 86400.0


def _file(path: Path, age: float = 0.0, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_walk_never_follows_links_and_applies_globs(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _file(outside / "secret.csv")
    root = tmp_path / "root"
    _file(root / "a.csv")
    _file(root / ".hidden")
    _file(root / "tmp" / "skip.csv")
    _file(root / "sub" / "b.txt")
    (root / "escape").symlink_to(outside)
    (root / "passwd").symlink_to("/etc/passwd")
    stats = WalkStats()
    filters = Filters(include=("*.csv", "*.txt"), exclude=(".*", "tmp/*"))
    rels = sorted(f.rel for f in walk(root, filters, stats))
    assert rels == ["a.csv", "sub/b.txt"]
    assert stats.symlinks == 2 and stats.excluded >= 2


def test_one_stale_alert_per_directory(tmp_path: Path) -> None:
    for i in range(7):
        _file(tmp_path / f"old{i}.csv", age=(10 + i) * DAY)
    _file(tmp_path / "new.csv", age=DAY)
    directory = DirectoryConfig(path=tmp_path, max_age=timedelta(days=7))
    now = datetime.now(UTC)
    facts = list(walk(tmp_path, Filters()))
    old = stale_files(facts, directory, now.timestamp())
    alert = stale_alert("srv", directory, old, now, StaleFileSettings())
    assert alert is not None and alert.count == 7
    assert alert.details["examples"][0] == "old6.csv" and "and 2 more" in alert.summary
    assert alert.details["oldest_age_seconds"] >= 16 * DAY - 60
    by_atime = DirectoryConfig(path=tmp_path, max_age=timedelta(days=7), age_by="atime")
    os.utime(tmp_path / "old0.csv", (time.time(), time.time() - 10 * DAY))  # read just now
    fresh = list(walk(tmp_path, Filters()))
    assert len(stale_files(fresh, by_atime, now.timestamp())) == 6


def test_downloaded_but_still_there(tmp_path: Path) -> None:
    _file(tmp_path / "out" / "result.pdf", age=5 * DAY)
    _file(tmp_path / "out" / "kept.pdf", age=5 * DAY)
    directory = DirectoryConfig(path=tmp_path, delete_after_download=timedelta(days=1))
    now = datetime.now(UTC)
    downloads = [
        ("/out/result.pdf", "labsync", now - timedelta(days=2)),  # chrooted path
        (str(tmp_path / "out" / "kept.pdf"), "labsync", now - timedelta(hours=1)),  # too recent
    ]
    alert = downloaded_still_present(
        server="srv",
        directory=directory,
        downloads=downloads,
        facts=walk(tmp_path, Filters()),
        now=now,
        settings=StaleFileSettings(),
    )
    assert alert is not None and alert.count == 1 and "out/result.pdf" in alert.summary
    assert "labsync" not in alert.summary


def test_delete_refuses_changed_and_recent_files(tmp_path: Path) -> None:
    old = _file(tmp_path / "old.csv", age=2 * DAY)
    recent = _file(tmp_path / "recent.csv", age=1)
    directory = DirectoryConfig(path=tmp_path, action="delete")
    now = datetime.now(UTC)
    facts = {f.rel: f for f in walk(tmp_path, Filters())}
    record = act(directory, facts["recent.csv"], now)
    assert record is not None and not record.done and record.reason == "still being written"
    old.write_text("grown since the scan")
    os.utime(old, (time.time() - 2 * DAY, time.time() - 2 * DAY))
    record = act(directory, facts["old.csv"], now)
    assert record is not None and not record.done and old.exists()
    fact = next(f for f in walk(tmp_path, Filters()) if f.rel == "old.csv")
    old.unlink()
    old.symlink_to("/etc/passwd")  # swapped for a link after the scan
    record = act(directory, fact, now)
    assert record is not None and not record.done and Path("/etc/passwd").exists()
    assert recent.exists()


def test_quarantine_keeps_relative_path(tmp_path: Path) -> None:
    root, quarantine = tmp_path / "root", tmp_path / "q"
    _file(root / "a" / "b.csv", age=2 * DAY)
    _file(quarantine / "a" / "b.csv")  # a previous one of the same name stays
    directory = DirectoryConfig(path=root, action="quarantine", quarantine_dir=quarantine)
    (fact,) = list(walk(root, Filters()))
    record = act(directory, fact, datetime.now(UTC))
    assert record is not None and record.done
    assert record.destination == str(quarantine / "a" / "b.csv.1")
    assert (Path(record.destination).stat().st_mode & 0o777) == 0o600
    assert not (root / "a" / "b.csv").exists()
