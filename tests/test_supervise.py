"""The daemon's directory supervisor: full audits, figures, downloads still present."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sentinel.config.model import Config, DirectoryConfig
from sentinel.events import Direction, Event, Kind
from sentinel.sinks.metrics import DirectoryStats
from sentinel.supervise import Supervisor


def test_a_downloaded_file_left_behind_is_reported(tmp_path: Path) -> None:
    outgoing = tmp_path / "outgoing"
    outgoing.mkdir()
    fetched, fresh = outgoing / "results-0412.hl7", outgoing / "results-0413.hl7"
    for path in (fetched, fresh):
        path.write_text("MSH|^~\\&|LAB|\n")
    two_days_ago = time.time() - 2 * 86400
    os.utime(fetched, (two_days_ago, two_days_ago))
    directory = DirectoryConfig(outgoing, delete_after_download=timedelta(hours=24))
    config = Config(server_name="ftp-test", timezone=UTC, directories=(directory,))
    figures: dict[str, DirectoryStats] = {}
    supervisor = Supervisor(config, figures, threading.Event(), time.time)
    assert supervisor.track_downloads
    when = datetime.fromtimestamp(two_days_ago + 60, UTC)
    supervisor.note_download(
        Event(
            when,
            Kind.TRANSFER,
            "vsftpd",
            "labsync",
            "192.0.2.4",
            path=str(fetched),
            nbytes=12,
            direction=Direction.DOWNLOAD,
        )
    )
    supervisor._full_round()
    found = supervisor.take()
    assert [a.rule for a in found] == ["stale_file"]
    assert found[0].details.get("reason") == "downloaded"
    assert "results-0413" not in found[0].to_json()
    assert figures[str(outgoing)].stale_files == 0


def test_quarantine_is_recorded_in_the_state_store(tmp_path: Path) -> None:
    from sentinel.sinks.store import Store

    outgoing, jail = tmp_path / "outgoing", tmp_path / "quarantine"
    (outgoing / "2019").mkdir(parents=True)
    old = outgoing / "2019" / "export.csv"
    old.write_text("id;result\n1;negative\n")
    three_days_ago = time.time() - 3 * 86400
    os.utime(old, (three_days_ago, three_days_ago))
    directory = DirectoryConfig(
        outgoing, max_age=timedelta(days=1), action="quarantine", quarantine_dir=jail
    )
    config = Config(server_name="ftp-test", timezone=UTC, directories=(directory,))
    supervisor = Supervisor(config, {}, threading.Event(), time.time)
    supervisor._full_round()
    assert [a.rule for a in supervisor.take()] == ["stale_file"]
    [record] = supervisor.take_actions()
    assert not old.exists()
    moved = jail / "2019" / "export.csv"
    assert moved.read_text() == "id;result\n1;negative\n"
    assert oct(moved.stat().st_mode & 0o777) == "0o600"
    store = Store(tmp_path / "state")
    store.record_actions([record])
    [kept] = store.list_actions()
    store.close()
    assert kept["action"] == "quarantine" and kept["path"] == "2019/export.csv"
    assert kept["done"] is True
    assert "negative" not in json.dumps(kept)
