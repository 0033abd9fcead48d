"""The daemon's runtime without its threads: the rule-state snapshot and its restore."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from pathlib import Path

from sentinel.alerts import Alert
from sentinel.config import load_config
from sentinel.runtime import Runtime
from tests.daemonproc import failed_login


def runtime(tmp_path: Path, log: Path) -> Runtime:
    config_path = tmp_path / "sentinel.yaml"
    config_path.write_text(
        f"state_dir: {tmp_path / 'state'}\nmetrics: {{listen: 'off'}}\n"
        f"sources:\n  - {{path: {log}, format: vsftpd, name: vsftpd}}\n"
    )
    return Runtime(load_config(config_path), wake=threading.Event(), clock=time.time)


def first_run(tmp_path: Path, log: Path) -> bytes | None:
    """A runtime reads the log and saves its snapshot, then stops: the rule state it saved."""
    first = runtime(tmp_path, log)
    first.sources.start()
    first.sources.drain(first.commit)
    first.snapshot(force=True)
    blob = first.store.load_rule_state()
    first.sources.stop()
    first.store.close()
    return blob


def second_run(tmp_path: Path, log: Path) -> list[Alert]:
    """A runtime restored from that snapshot reads on: the records it makes."""
    second = runtime(tmp_path, log)
    found: list[Alert] = []
    second.sources.start()
    second.sources.drain(lambda positions, alerts: found.extend(alerts))
    second.sources.stop()
    second.store.close()
    return found


def test_the_snapshot_carries_an_incident_across_a_restart(tmp_path: Path) -> None:
    log = tmp_path / "vsftpd.log"
    now = datetime.now().astimezone()
    log.write_text("".join(failed_login("198.51.100.9", now) + "\n" for _ in range(9)))
    blob = first_run(tmp_path, log)
    assert blob is not None
    document = json.loads(blob)  # one JSON document, assembled rule by rule
    assert set(document) == {"saved_at", "rules", "incidents", "positions"}
    assert {"brute_force", "password_spray", "shared_account"} <= set(document["rules"])
    assert document["positions"]["vsftpd"]["offset"] == log.stat().st_size
    # the 10th failure after the restart completes the incident begun before it
    with log.open("a") as out:
        out.write(failed_login("198.51.100.9", now) + "\n")
    found = second_run(tmp_path, log)
    assert [a.rule for a in found] == ["brute_force"]
    assert found[0].count == 10


def test_guesses_before_a_restart_and_the_success_after_raise_brute_force_success(
    tmp_path: Path,
) -> None:
    log = tmp_path / "vsftpd.log"
    now = datetime.now().astimezone()
    log.write_text("".join(failed_login("198.51.100.9", now) + "\n" for _ in range(6)))
    blob = first_run(tmp_path, log)
    assert blob is not None
    saved = json.loads(blob)["rules"]["brute_force_success"]
    assert [entry[:2] for entry in saved["addresses"]] == [["198.51.100.9", 6]]
    success = failed_login("198.51.100.9", now).replace("FAIL LOGIN", "OK LOGIN")
    with log.open("a") as out:
        out.write(success + "\n")
    found = second_run(tmp_path, log)
    assert [(a.rule, a.ip, a.count) for a in found] == [("brute_force_success", "198.51.100.9", 6)]


def test_an_incident_open_at_a_restart_goes_on_after_it_as_one(tmp_path: Path) -> None:
    """12 failures open it; 3 more after a restart grow it; its one row ends with 15."""
    log = tmp_path / "vsftpd.log"
    now = datetime.now().astimezone()
    log.write_text("".join(failed_login("198.51.100.9", now) + "\n" for _ in range(12)))
    first = runtime(tmp_path, log)
    first.sources.start()
    first.sources.drain(first.commit)
    first.snapshot(force=True)
    first.sources.stop()
    first.store.close()
    with log.open("a") as out:
        out.writelines(failed_login("198.51.100.9", now) + "\n" for _ in range(3))
    second = runtime(tmp_path, log)
    assert second.pipeline.incidents.open_counts()["brute_force"] == 1
    second.sources.start()
    second.sources.drain(second.commit)
    second.sources.stop()
    second.commit({}, second.pipeline.incidents.close_idle(now.timestamp() + 3600))
    [incident] = second.store.list_incidents()
    records = second.store.list_alerts()
    second.store.close()
    assert (incident["status"], incident["count"]) == ("closed", 15)
    assert [r["status"] for r in records] == ["open", "closed"]
    assert {(r["fingerprint"], r["first_seen"]) for r in records} == {
        (incident["fingerprint"], incident["first_seen"])
    }
