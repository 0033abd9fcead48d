"""`sentinel parse`: the events of a log as JSON, or the lines of known programs it missed."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sentinel.commands.parse import MAX_MISSED, MAX_MISSED_CHARS
from sentinel.parsers.programs import is_quiet, line_program
from tests.realservers import accounts
from tests.test_parsers import SAMPLE_FILES, load

SAMPLES = Path(__file__).parent / "samples"
CAPTURED = sorted(p for p in (SAMPLES / "captured").rglob("*") if p.is_file())
SCENARIO = sorted((SAMPLES / "scenario").glob("*.log"))

KNOWN = [  # lines sentinel reads: two events and three event-less forms it knows
    "Nov 23 02:28:38 vm sshd[12151]: Accepted password for alice from 127.0.0.2 port 34689 ssh2",
    "Nov 23 02:28:39 vm sshd[12152]: Failed password for bob from 127.0.0.8 port 34690 ssh2",
    "Nov 23 02:28:37 vm sshd[12128]: Server listening on 127.0.0.1 port 59585.",
    "Nov 23 02:28:38 vm sshd[12151]: pam_unix(sshd:session): session opened for user alice",
    'Nov 23 02:28:38 vm internal-sftp[12159]: open "report-1.txt" flags READ mode 0666',
]
UNKNOWN = [  # sshd forms no parser reads: what --missed must show
    "Nov 23 02:28:40 vm sshd[12153]: Bad protocol version identification 'GET /' from 127.0.0.9",
    "Nov 23 02:28:41 vm sshd[12154]: Frobnicated user carol from 127.0.0.9 port 4711",
    "Nov 23 02:28:42 vm sshd-session[12155]: Something new for dave from 127.0.0.9 port 4712",
]
OTHERS = [  # programs sentinel does not read: never shown
    "Nov 23 02:28:43 vm CRON[999]: (root) CMD (systemctl restart sshd)",
    "Nov 23 02:28:44 vm sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls",
]


def parse(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentinel", "parse", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def planted(tmp_path: Path) -> tuple[Path, list[int]]:
    """An auth.log of known, unknown and other programs' lines; the unknown lines' numbers."""
    lines = [*KNOWN[:2], UNKNOWN[0], *OTHERS, *KNOWN[2:], UNKNOWN[1], UNKNOWN[2]]
    path = tmp_path / "auth.log"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    path.chmod(0o600)
    return path, [lines.index(line) + 1 for line in UNKNOWN]


def test_missed_prints_nothing_for_every_bundled_sample_and_capture() -> None:
    done = parse("--missed", *SAMPLE_FILES, *CAPTURED, *SCENARIO)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout
    assert "not understood" in done.stderr
    assert "(0 not understood)" in done.stderr
    assert not re.search(r"\((?!0 )\d+ not understood\)", done.stderr), done.stderr


def test_missed_prints_exactly_the_unknown_lines_of_known_programs(tmp_path: Path) -> None:
    path, numbers = planted(tmp_path)
    done = parse("--missed", path)
    assert done.returncode == 0
    expected = [f"{path}:{n}: {line}" for n, line in zip(numbers, UNKNOWN, strict=True)]
    assert done.stdout.splitlines() == expected
    err = done.stderr.splitlines()
    assert "sentinel: sshd: 6 lines, 2 with an event, 4 without (2 not understood)" in err
    assert "sentinel: sshd-session: 1 lines, 0 with an event, 1 without (1 not understood)" in err
    assert "sentinel: internal-sftp: 1 lines, 0 with an event, 1 without (0 not understood)" in err
    assert "sentinel: other programs: 2 lines, not read" in err


def test_events_are_json_with_file_line_and_the_event_fields(tmp_path: Path) -> None:
    path, _ = planted(tmp_path)
    done = parse(path)
    assert done.returncode == 0
    records = [json.loads(line) for line in done.stdout.splitlines()]
    year = datetime.fromtimestamp(path.stat().st_mtime).year
    assert records[0]["ts"].startswith(f"{year}-11-23T02:28:38")
    assert [{k: v for k, v in r.items() if k != "ts"} for r in records] == [
        {"file": str(path), "line": 1, "kind": "login_success", "source": "openssh",
         "user": "alice", "ip": "127.0.0.2", "session": "ssh:12151", "action": "password"},
        {"file": str(path), "line": 2, "kind": "login_failure", "source": "openssh",
         "user": "bob", "ip": "127.0.0.8", "session": "ssh:12152", "action": "password"},
    ]  # fmt: skip


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_events_are_the_sample_annotations(path: Path, tmp_path: Path) -> None:
    """Each sample line gives, on its own line number, the event its annotation says."""
    sample = load(path)
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    stamp = sample.ctx.reference.timestamp()
    os.utime(copy, (stamp, stamp))  # year-less stamps take the sample's year
    config = tmp_path / "sentinel.yaml"
    config.write_text(f"timezone: {sample.ctx.tz}\n", encoding="utf-8")
    done = parse("--format", sample.fmt, copy, env={"SENTINEL_CONFIG": str(config)})
    assert done.returncode == 0, done.stderr
    found = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        assert (record.pop("file"), record.pop("source")) == (str(copy), sample.fmt)
        found[record.pop("line")] = record
    assert found == {number: expected for number, _, expected in sample.cases if expected}


def test_anonymous_sessions_never_show_their_password() -> None:
    for path in (SAMPLES / "vsftpd.log", SAMPLES / "xferlog.log"):
        assert accounts.ANON_PASSWORD in path.read_text()
        done = parse(path)
        assert done.returncode == 0
        assert '"anonymous": true' in done.stdout
        assert accounts.ANON_PASSWORD not in done.stdout + done.stderr


def test_missed_lines_are_neutralised(tmp_path: Path) -> None:
    hostile = "Nov 23 02:28:40 vm sshd[1]: Weird \x1b[2J\x07 from \u202e127.0.0.9\x00 end"
    path = tmp_path / "auth.log"
    path.write_bytes(
        (KNOWN[0] + "\n" + hostile + "\n").encode() + b"Nov 23 02:28:41 vm sshd[2]: \xff\xfe bad\n"
    )
    done = parse("--missed", path)
    lines = done.stdout.splitlines()
    assert (
        lines[0]
        == f"{path}:2: Nov 23 02:28:40 vm sshd[1]: Weird "
        + "\\x1b[2J\\x07 from \\u202e127.0.0.9\\x00 end"
    )
    assert lines[1] == f"{path}:3: Nov 23 02:28:41 vm sshd[2]: \ufffd\ufffd bad"
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e]", done.stdout)


def test_events_json_escapes_control_characters(tmp_path: Path) -> None:
    line = (
        "Nov 23 02:28:38 vm sshd[7]: Failed password for r\x1boot\u202e from 127.0.0.7 port 1 ssh2"
    )
    path = tmp_path / "auth.log"
    path.write_text(line + "\n", encoding="utf-8")
    done = parse(path)
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout
    assert json.loads(done.stdout)["user"] == "r\x1boot\u202e"


def test_missed_output_is_bounded_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    long_line = "Nov 23 02:28:40 vm sshd[1]: Unknown " + "x" * 5000
    unknown = [f"Nov 23 02:28:40 vm sshd[{n}]: Unknown form {n}" for n in range(MAX_MISSED + 500)]
    path.write_text("\n".join([long_line, *unknown]) + "\n", encoding="utf-8")
    done = parse("--missed", path)
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == MAX_MISSED
    prefix = f"{path}:1: "
    assert lines[0].startswith(prefix) and lines[0].endswith("…")
    assert len(lines[0]) == len(prefix) + MAX_MISSED_CHARS
    assert "sentinel: 501 more missed lines not shown (at most 1000 are printed)" in done.stderr
    assert f"sentinel: 1 missed lines cut to {MAX_MISSED_CHARS} characters" in done.stderr
    assert f"sshd: {MAX_MISSED + 501} lines, 0 with an event" in done.stderr


def test_gzip_input_reads_like_plain(tmp_path: Path) -> None:
    path, _ = planted(tmp_path)
    packed = tmp_path / "auth.log.1.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    plain, zipped = parse("--missed", path), parse("--missed", packed)
    assert zipped.stdout == plain.stdout.replace(str(path), str(packed))
    assert zipped.stdout.count("\n") == len(UNKNOWN)
    assert zipped.stderr == plain.stderr
    assert parse(packed).stdout.count('"kind"') == 2


def test_forced_format_shows_what_that_parser_misses(tmp_path: Path) -> None:
    path, _ = planted(tmp_path)
    done = parse("--format", "proftpd", "--missed", path)
    assert done.returncode == 0
    # the proftpd parser reads no sshd line: the two sshd events are missed too
    assert done.stdout.count("\n") == len(UNKNOWN) + 2
    assert "sshd: 6 lines, 0 with an event, 6 without (4 not understood)" in done.stderr


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = parse(tmp_path / "nope.log")
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        f"sentinel: error: {tmp_path / 'nope.log'}: No such file or directory"
    ]
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello\nworld\n", encoding="utf-8")
    assert parse(unknown).returncode == 2
    assert parse("--format", "nginx", unknown).returncode == 2
    assert parse().returncode == 2


@pytest.mark.parametrize(
    ("line", "program"),
    [
        ('Mon Nov 23 02:28:09 2026 [pid 11296] [bob] OK LOGIN: Client "127.0.0.3"', "vsftpd"),
        ("Mon Nov 23 02:28:09 2026 1 127.0.0.9 20 /pub/w.txt b _ o r bob ftp 0 * c", "xferlog"),
        ("2026-11-23 02:28:14,726 vm proftpd[11647] 127.0.0.1 (h[127.0.0.2]): FTP session opened.",
         "proftpd"),
        ("Nov 23 02:28:21 vm vsftpd(pam_unix)[77]: authentication failure; rhost=127.0.0.2",
         "vsftpd"),
        # framings syslog.split may not read: the tag is found among the first words
        ("<38>1 2019-07-08T17:40:16.954167-04:00 host sshd 57915 - - Failed password", "sshd"),
        ("Nov 23 02:28:14 vm proftpd[11647] vm (h[127.0.0.2]): USER x: Login successful.",
         "proftpd"),
        ("Nov 23 02:28:14 vm [sshd] Failed password for x from 127.0.0.1 port 2 ssh2", "sshd"),
        ("Nov 23 02:28:43 vm CRON[999]: (root) CMD (systemctl restart sshd)", None),
        ("# a comment", None),
        ("", None),
    ],
)  # fmt: skip
def test_line_program(line: str, program: str | None) -> None:
    found = line_program(line)
    assert (found[0] if found else None) == program


@pytest.mark.parametrize(
    ("program", "message", "quiet"),
    [
        ("sshd", "Server listening on 0.0.0.0 port 22.", True),
        ("sshd", "pam_unix(sshd:auth): authentication failure; rhost=1.2.3.4 user=x", True),
        ("sshd", "Bad protocol version identification 'x' from 1.2.3.4", False),
        ("sshd", "[ID 800047 auth.info] Server listening on :: port 22.", True),
        ("sshd-session", "Failed none for invalid user x from 1.2.3.4 port 5 ssh2", True),
        ("sshd", "error: maximum authentication attempts exceeded for x from 1.2.3.4", False),
        ("proftpd", "vm (h[127.0.0.2]) - FTP session requested from unknown class", False),
        ("proftpd", "127.0.0.1: ProFTPD 1.3.8 standalone mode SHUTDOWN", True),
        # proftpd's PAM failure line is the only one that tells it: never "quiet"
        ("proftpd", "pam_unix(proftpd:auth): authentication failure; rhost=1.2.3.4", False),
        ("pure-ftpd", "(?@127.0.0.2) [INFO] Logout.", True),
        ("pure-ftpd", "(?@127.0.0.2) [WARNING] Something new", False),
        ("internal-sftp", 'close "f" bytes read 0 written 0', True),
        ("internal-sftp", 'close "f" bytes read 5 written 0 extra', False),
        ("vsftpd", 'FTP command: Client "127.0.0.2", "USER bob"', True),
    ],
)
def test_is_quiet(program: str, message: str, quiet: bool) -> None:
    assert is_quiet(program, message) is quiet
