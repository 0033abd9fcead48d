"""`sentinel report` on the logs real servers wrote, on the state store, and its pieces.

The supervised anonymous zone holds `export_patients_2019.csv` full of valid NIRs (keys
checked by python-stdnum); the report must name every incident of the captured scenario,
what the anonymous zone exposed, and never a NIR, a password or a file's content.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sentinel.alerts import Severity, make_alert
from sentinel.config import parse_config
from sentinel.report.build import build_report
from sentinel.report.coverage import blind_spots
from sentinel.report.exposure import locate
from sentinel.report.facts import report_facts
from sentinel.report.gather import Gathered, LogCoverage
from sentinel.report.words import choose_language
from sentinel.sinks.store import Store
from tests.modules import modules_loaded
from tests.realservers import accounts
from tests.test_leaks import make_nir, spaced_nir

SCENARIO = Path(__file__).parent / "samples" / "scenario"
VSFTPD_LOG = SCENARIO / "vsftpd.log"
EXPORT = "export_patients_2019.csv"
CONTENT_MARK = "Dupont-Secret-Row"  # a word of the export's content, never to be shown


def nirs(count: int, seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < count:
        number = make_nir(rng)
        if number not in found:
            found.append(number)
    return found


def make_zone(root: Path, numbers: list[str], repeat: int = 0) -> Path:
    """An anonymous zone as vsftpd's: welcome.txt and the export (`repeat` rows twice)."""
    pub = root / "pub"
    pub.mkdir(mode=0o755)
    (pub / "welcome.txt").write_text("welcome to the public zone\n")
    rows = ["name;nir;note"]
    shown = numbers + numbers[:repeat]
    rows += [f"{CONTENT_MARK} {n};{spaced_nir(x) if n % 2 else x};ok" for n, x in enumerate(shown)]
    export = pub / EXPORT
    export.write_text("\n".join(rows) + "\n")
    export.chmod(0o644)
    return pub


def write_config(root: Path, pub: Path) -> Path:
    config = root / "sentinel.yaml"
    config.write_text(
        f"state_dir: {root / 'state'}\n"
        "directories:\n"
        f"  - {{path: {pub}, anonymous: true, served_as: /pub}}\n"
    )
    return config


def sentinel(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentinel", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C", **(env or {})},
    )


def report(config: Path, *args: str, fmt: str = "json") -> str:
    done = sentinel("report", "-c", str(config), "--format", fmt, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def replayed(config: Path) -> list[dict[str, Any]]:
    done = sentinel("replay", "-c", str(config), "--json", str(VSFTPD_LOG))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def by_rule(facts: dict[str, Any], rule: str) -> dict[str, Any]:
    (found,) = [i for i in facts["incidents"] if i["rule"] == rule]
    return found


def assert_no_leak(text: str, numbers: list[str]) -> None:
    assert accounts.ANON_PASSWORD not in text
    assert CONTENT_MARK not in text
    for number in numbers:
        for form in (number, spaced_nir(number), number[5:13]):
            assert form not in text, "an identifier came out"


def test_the_scenario_report_names_every_incident_and_the_exposed_export(tmp_path: Path) -> None:
    numbers = nirs(40)
    pub = make_zone(tmp_path, numbers, repeat=5)
    config = write_config(tmp_path, pub)
    facts = json.loads(report(config, str(VSFTPD_LOG)))
    records = replayed(config)

    expected = json.loads((SCENARIO / "vsftpd.expected.json").read_text())
    assert [i["rule"] for i in facts["incidents"]] == [e["rule"] for e in expected]
    severities = [i["severity"] for i in facts["incidents"]]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)

    anonymous = by_rule(facts, "anonymous_access")
    assert anonymous["ips"] == ["127.0.0.9"] and anonymous["users"] == ["anonymous"]
    record = next(r for r in records if r["rule"] == "anonymous_access")
    # the files the record names (once incidents carry `files`: the whole session's)
    files = record.get("files") or ([record["path"]] if "path" in record else [])
    transferred = anonymous["transferred"] or {"files": []}
    assert [f["path"] for f in transferred["files"]] == files
    assert anonymous["reaches_anonymous_zones"] is True

    (zone,) = facts["anonymous_zones"]
    assert zone["served_as"] == "/pub"
    export = next(f for f in zone["files"] if f["path"] == f"/pub/{EXPORT}")
    assert export == {
        "path": f"/pub/{EXPORT}",
        "state": "present",
        "identifiers": {"nir": 45},
        "encrypted": False,
        "records": 45,
    }
    assert zone["records"] == 45 and zone["people"] == 40  # 5 rows repeat a person
    art33 = facts["art33"]
    assert art33["categories_of_data"] == ["nir"]
    assert art33["data_subjects"]["reachable"] == 40 and art33["records"]["reachable"] == 45
    assert art33["dpo_contact"] is None and art33["measures"] is None

    bulk = by_rule(facts, "bulk_download")
    bulk_record = next(r for r in records if r["rule"] == "bulk_download")
    assert bulk["users"] == ["labsync"] and bulk["ips"] == ["127.0.0.4"]
    assert bulk["count"] == bulk_record["count"] > 100
    assert bulk["bytes"] == bulk_record["bytes"]
    shared = by_rule(facts, "shared_account")
    assert shared["users"] == ["carol"] and {"127.0.0.5", "127.0.0.6"} <= set(shared["ips"])
    brute = by_rule(facts, "brute_force")
    assert brute["ips"] == ["127.0.0.7"] and brute["count"] >= 10
    spray = by_rule(facts, "password_spray")
    assert spray["ips"] == ["127.0.0.8"] and len(spray["users"]) >= 5

    (coverage,) = facts["coverage"]
    assert coverage["source"] == "vsftpd" and coverage["lines"] == 165
    assert coverage["first"] == "2026-11-23T02:29:56+00:00"
    assert facts["blind_spots"] == []
    assert sum(a["logins"] for a in facts["activity"]) > 0

    html = report(config, str(VSFTPD_LOG), fmt="html")
    markdown = report(config, str(VSFTPD_LOG), fmt="md")
    for text in (html, markdown):
        assert "127.0.0.9" in text and EXPORT in text and "labsync" in text
        assert "carol" in text and "127.0.0.7" in text and "127.0.0.8" in text
    assert "French social security numbers (NIR): 45" in markdown
    for text in (html, markdown, json.dumps(facts)):
        assert_no_leak(text, numbers)


def test_incident_records_with_files_show_each_file_and_what_it_holds(tmp_path: Path) -> None:
    """The record SPEC defines (issue 12's `files`, `files_total`, `status`) is read whole."""
    numbers = nirs(30)
    pub = make_zone(tmp_path, numbers)
    config = parse_config(write_config(tmp_path, pub).read_text(), "sentinel.yaml")
    (tmp_path / "outside.csv").write_text("\n".join(numbers) + "\n")
    (pub / "link.csv").symlink_to(tmp_path / "outside.csv")
    files = ["/pub/welcome.txt", f"/pub/{EXPORT}", "/pub/gone.csv", "/pub/link.csv", "/etc/x"]
    record = {
        "rule": "anonymous_access",
        "severity": "critical",
        "server": "ftp1",
        "ip": "192.0.2.9",
        "user": "anonymous",
        "first_seen": "2026-11-23T02:29:56+00:00",
        "last_seen": "2026-11-23T02:31:06+00:00",
        "count": 6,
        "bytes": 229059,
        "status": "closed",
        "files": files,
        "files_total": 5,
        "summary": "anonymous session from 192.0.2.9: 5 downloads",
        "fingerprint": "f1",
        "details": {},
    }
    opening = {**record, "status": "open", "files": [], "files_total": 0, "count": 1}
    gathered = Gathered("store", [opening, record])
    now = datetime(2026, 11, 24, tzinfo=UTC)
    facts = report_facts(build_report(config, gathered, now), "en")
    (incident,) = facts["incidents"]
    assert (incident["status"], incident["ongoing"], incident["files_total"]) == ("closed", "no", 5)
    assert incident["duration_seconds"] == 70
    states = {f["path"]: f["state"] for f in incident["transferred"]["files"]}
    assert states == {
        "/pub/welcome.txt": "present",
        f"/pub/{EXPORT}": "present",
        "/pub/gone.csv": "missing",
        "/pub/link.csv": "refused",  # a link out of the zone is never followed
        "/etc/x": "unsupervised",
    }
    assert incident["transferred"]["records"] == 30 and incident["transferred"]["people"] == 30
    assert incident["transferred"]["identifiers"] == {"nir": 30}
    assert_no_leak(json.dumps(facts), numbers)


def test_the_report_of_the_state_store(tmp_path: Path) -> None:
    """With no LOG: the daemon's history, one incident per fingerprint and first_seen."""
    pub = make_zone(tmp_path, nirs(3))
    config = write_config(tmp_path, pub)
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def alert(rule: str, subject: str, minutes: int, count: int) -> Any:
        return make_alert(
            rule=rule,
            severity=Severity.WARNING,
            server="ftp1",
            subject=subject,
            summary=f"{rule} {count}",
            first_seen=start,
            last_seen=start + timedelta(minutes=minutes),
            ip="192.0.2.5",
            count=count,
        )

    store = Store(tmp_path / "state")
    try:
        store.commit_batch({}, [alert("brute_force", "192.0.2.5", 1, 10)])
        store.commit_batch({}, [alert("brute_force", "192.0.2.5", 4, 25)])
        store.commit_batch({}, [alert("password_spray", "192.0.2.5", 2, 6)])
    finally:
        store.close()
    facts = json.loads(report(config))
    assert facts["report"]["origin"] == "store"
    assert [(i["rule"], i["count"]) for i in facts["incidents"]] == [
        ("brute_force", 25),
        ("password_spray", 6),
    ]
    assert facts["anonymous_zones"] == []  # no anonymous incident: the zone is not read
    assert "state store keeps alerts, not log lines" in report(config, fmt="md")
    until = json.loads(report(config, "--until", "2026-11-23T01:00:00+00:00"))
    assert until["incidents"] == []


def coverage_of(hourly: dict[int, int]) -> LogCoverage:
    return LogCoverage("vsftpd", (), None, None, sum(hourly.values()), 0, hourly)


def test_blind_spots_are_silences_of_usually_busy_hours() -> None:
    base = 480_000  # an hour (epoch // 3600) that is midnight UTC
    assert base % 24 == 0
    busy_day = dict.fromkeys(range(8, 20), 40)  # 08:00-20:00, silent at night
    hourly = {base + d * 24 + h: n for d in range(10) for h, n in busy_day.items()}
    assert blind_spots(coverage_of(hourly)) == []  # quiet nights are no blind spot
    silent = {h: n for h, n in hourly.items() if not (base + 4 * 24 <= h < base + 5 * 24)}
    (spot,) = blind_spots(coverage_of(silent))  # a working day without a line
    assert spot.busy_hours == 12
    assert spot.start == (base + 3 * 24 + 20) * 3600 and spot.end == (base + 5 * 24 + 8) * 3600
    short = {base + h: 5 for h in range(10) if h not in (4, 5, 6)}  # under 7 days: the median
    (gap,) = blind_spots(coverage_of(short))
    assert (gap.hours, gap.busy_hours) == (3, 3)
    assert blind_spots(coverage_of({base + h: 5 for h in range(10) if h not in (4, 5)})) == []


def test_blind_spots_appear_in_the_report_of_a_log_with_a_gap(tmp_path: Path) -> None:
    """The captured lines, their hour moved: 00:00 to 11:00 but for 05:00-08:00."""
    head = [line for line in VSFTPD_LOG.read_text().splitlines() if " 02:29:56 " in line][:12]
    hours = [h for h in range(12) if h not in (5, 6, 7)]
    lines = [line.replace(" 02:29:56 ", f" {h:02d}:29:56 ") for h in hours for line in head]
    log = tmp_path / "vsftpd.log"
    log.write_text("\n".join(lines) + "\n")
    config = write_config(tmp_path, make_zone(tmp_path, nirs(1)))
    facts = json.loads(report(config, str(log)))
    (spot,) = facts["blind_spots"]
    assert (spot["source"], spot["hours"]) == ("vsftpd", 3)
    assert spot["start"] == "2026-11-23T05:00:00+00:00"
    assert "Blind spot" in report(config, str(log), fmt="md")


def test_paths_clients_saw_map_to_their_directory_without_escaping() -> None:
    config = parse_config(
        "directories:\n  - {path: /srv/ftp/pub, anonymous: true, served_as: /pub}\n"
        "  - {path: /srv/ftp, served_as: /}\n",
        "c.yaml",
    )
    pub, root = config.directories

    def where(path: str) -> tuple[str, str] | None:
        found = locate(path, config.directories)
        return None if found is None else (str(found[0].path), found[1])

    assert where("/pub/x.csv") == (str(pub.path), "x.csv")
    assert where("/srv/ftp//pub/a/b.csv") == (str(pub.path), "a/b.csv")  # Pure-FTPd's form
    assert where("/other.txt") == (str(root.path), "other.txt")
    assert where("/pub/../../etc/passwd") == (str(root.path), "etc/passwd")  # below / only
    assert locate("relative/x", config.directories) is None


def test_french_words_by_flag_or_locale(tmp_path: Path) -> None:
    config = write_config(tmp_path, make_zone(tmp_path, nirs(2)))
    by_flag = report(config, "--lang", "fr", str(VSFTPD_LOG), fmt="md")
    assert "Notification d'une violation de données personnelles (RGPD art. 33(3))" in by_flag
    assert "accès anonyme" in by_flag
    done = sentinel(
        "report", "-c", str(config), "--format", "md", str(VSFTPD_LOG), env={"LANG": "fr_FR.UTF-8"}
    )
    assert "Rapport d'incidents" in done.stdout
    assert choose_language(None, {"LC_ALL": "en_GB.UTF-8", "LANG": "fr_FR"}) == "en"
    assert choose_language(None, {"LC_MESSAGES": "fr_CA"}) == "fr"


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "odd.log"
    odd.write_text("no server wrote this\n")
    for args in (
        ["--since", "yesterday-ish", str(VSFTPD_LOG)],
        ["--until", "2026-13-45", str(VSFTPD_LOG)],
        [str(tmp_path / "missing.log")],
        [str(odd)],
    ):
        done = sentinel("report", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert done.stderr.startswith("sentinel: error: ")
    done = sentinel("report", "--format", "pdf", str(VSFTPD_LOG))  # argparse: usage, then why
    assert done.returncode == 2 and "invalid choice: 'pdf'" in done.stderr.splitlines()[-1]


def test_the_output_file_is_private(tmp_path: Path) -> None:
    config = write_config(tmp_path, make_zone(tmp_path, nirs(2)))
    out = tmp_path / "report.html"
    done = sentinel("report", "-c", str(config), "-o", str(out), str(VSFTPD_LOG))
    assert done.returncode == 0 and done.stdout == ""
    assert (out.stat().st_mode & 0o777) == 0o600
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("command", ["replay", "report-json"])
def test_matplotlib_only_for_the_pictures(command: str) -> None:
    if command == "replay":
        loaded = modules_loaded("replay", "--json", str(VSFTPD_LOG))
        assert not {m for m in loaded if m.startswith(("sentinel.report", "matplotlib"))}
    else:
        loaded = modules_loaded("report", "--format", "json", str(VSFTPD_LOG))
        assert "sentinel.report.build" in loaded and "matplotlib" not in loaded


def test_distinct_identifiers_are_known_by_a_keyed_hash_only() -> None:
    from sentinel.files.identifiers import DistinctIds

    numbers = nirs(5)
    first, second = DistinctIds(b"k" * 32), DistinctIds(b"j" * 32, cap=3)
    for number in [*numbers, *numbers[:2]]:
        first.add("nir", number)
        second.add("nir", number)
    assert first.counts() == {"nir": 5} and not first.saturated
    assert second.counts() == {"nir": 3} and second.saturated  # capped: a lower bound
    digests = first.digests["nir"]
    assert all(len(d) == 16 for d in digests)
    assert not digests & second.digests["nir"]  # another key, other digests
    assert not any(n.encode() in d or n[5:13].encode() in d for n in numbers for d in digests)
    merged = DistinctIds(b"k" * 32)
    merged.merge(first)
    merged.merge(first)
    assert merged.counts() == {"nir": 5}
