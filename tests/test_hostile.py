"""Hostile input: garbage in a followed log, and attacker-chosen names in what people read.

The daemon must survive any bytes a log can hold (random, invalid UTF-8, NUL, 10^5 junk
lines, a 50 MB line without newline) with bounded memory, count them as unparsed and still
alert on the real lines after them. User names and paths are chosen by whoever connects:
they reach a terminal (`replay`), an e-mail and a chat message only neutralised.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.daemonproc import CAPTURED, Sentinel, failed_login, vsftpd_stamp
from tests.realservers.proc import wait_until
from tests.receivers import HttpReceiver, SmtpReceiver

BIG_LINE = 50 << 20
RSS_LIMIT_KB = 150 * 1024
JUNK_LINES = 1_000_000  # the 10^6 lines of garbage
# What must never reach a person raw: ESC (terminal escapes), CR and the Unicode line
# breaks (a forged line in a terminal or a chat), NEL, bidi overrides.
RAW_FORBIDDEN = ("\x1b", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\u202e", "\x07")
HOSTILE_USER = "eve\x1b[31mROOT\x1b[0m\r<b>x</b>&amp;\u2028FAKE LINE\u0085\u202eevil\x07"
HOSTILE_PATH = (
    "/pub/\x1b]0;pwned\x07<script>alert(1)</script>\r\u2029INJECTED: ok\x0b<img src=x>.txt"
)


class Daemon(Sentinel):
    """`sentinel run` with global options (`--log-format json`) and a command prefix
    (e.g. `unshare --mount sh -c ...`) that must end by exec-ing the daemon."""

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        *,
        global_args: Sequence[str] = (),
        wrap: Sequence[str] = (),
    ) -> None:
        super().__init__(workdir, config)
        self.global_args = list(global_args)
        self.wrap = list(wrap)
        self.env: dict[str, str] = {}

    def argv(self) -> list[str]:
        command = [sys.executable, "-m", "sentinel", *self.global_args, "run"]
        return [*self.wrap, *command, "-c", str(self.config_path)]

    def start(self, timeout: float = 20.0) -> None:
        import socket

        if self.notify is None:
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.notify.bind(str(self.notify_path))
        env = dict(os.environ, NOTIFY_SOCKET=str(self.notify_path), **self.env)
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                self.argv(), stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env
            )
        self.wait_notify("READY=1", timeout)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def status_kb(self, field: str) -> int:
        """A `VmRSS`/`VmHWM`-like field of /proc/<pid>/status, in kB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def bytes_read(self) -> int:
        """`rchar` of /proc/<pid>/io: every byte the process read, by any call."""
        for line in Path(f"/proc/{self.pid}/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
        raise KeyError("rchar")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[list[Daemon]]:
    """Daemons the test starts, killed (by PID) at the end whatever happened."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.close()


def new_daemon(
    started: list[Daemon], tmp_path: Path, config: dict[str, Any], **options: Any
) -> Daemon:
    workdir = tmp_path / f"sentinel{len(started)}"
    workdir.mkdir()
    daemon = Daemon(workdir, config, **options)
    started.append(daemon)
    return daemon


def append_bytes(log: Path, data: bytes) -> None:
    with log.open("ab") as out:
        out.write(data)


def brute_force_lines(ip: str, count: int = 10) -> list[str]:
    base = datetime.now().astimezone()
    return [failed_login(ip, base + timedelta(seconds=i)) for i in range(count)]


def garbage(rng: random.Random) -> list[bytes]:
    """Lines (without their newline) no parser can take: each one is one unparsed line."""
    lines = [bytes(rng.randrange(256) for _ in range(200)).replace(b"\n", b"?") for _ in range(500)]
    lines += [b"\xff\xfe\xc0\xaf invalid \xed\xa0\x80 utf-8 \x80" * 4 for _ in range(200)]
    lines += [b"\x00" * 300, b"Mon Nov 23 02:29:56 2026 [pid 1] [alice\x00] OK LOGIN: \x00"]
    lines += [b"\x00" * 64 * 1024 * 2]  # a NUL line longer than the pipeline's MAX_LINE
    lines += [f"garbage {n} \x1b[2J {'#' * (n % 50)}".encode() for n in range(JUNK_LINES)]
    return lines


def test_garbage_and_a_50mb_line_leave_the_daemon_alive_bounded_and_alerting(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    with HttpReceiver() as chat:
        daemon = new_daemon(
            daemons,
            tmp_path,
            {
                "sources": [{"path": str(log), "format": "vsftpd", "name": "vsftpd"}],
                "notify": {"targets": [{"url": chat.apprise_url()}]},
            },
        )
        daemon.start()
        junk = garbage(random.Random(20261123))
        append_bytes(log, b"".join(line + b"\n" for line in junk))
        daemon.wait_metric("sentinel_log_lines_total", len(junk), timeout=20, source="vsftpd")

        before = daemon.bytes_read()
        block = b"A" * (1 << 20)
        with log.open("ab") as out:  # 50 MB without a newline, as a runaway writer leaves it
            for _ in range(BIG_LINE // len(block)):
                out.write(block)
        wait_until("the 50 MB line read", lambda: daemon.bytes_read() - before >= BIG_LINE, 20)
        peak = daemon.status_kb("VmHWM")
        rss = daemon.status_kb("VmRSS")
        assert daemon.alive()
        assert daemon.metric("sentinel_build_info", version=_version()) == 1  # still answers

        real = brute_force_lines("203.0.113.66")
        append_bytes(log, b"\n" + "".join(line + "\n" for line in real).encode())
        daemon.wait_metric("sentinel_alerts_total", 1, rule="brute_force", severity="warning")
        [posted] = chat.wait_for(1)
        assert "203.0.113.66" in posted.json()["title"]
        lines = len(junk) + 1 + len(real)  # the 50 MB line counts once, cut
        daemon.wait_metric("sentinel_log_lines_total", lines, source="vsftpd")
        unparsed = daemon.metric("sentinel_log_lines_unparsed_total", source="vsftpd")
        assert unparsed == len(junk) + 1
        assert daemon.alive()
        assert rss < RSS_LIMIT_KB, f"VmRSS {rss} kB after the 50 MB line"
        assert peak < RSS_LIMIT_KB, f"VmHWM {peak} kB while reading the 50 MB line"
        assert daemon.stop() == 0


def _version() -> str:
    from sentinel import __version__

    return __version__


# -- attacker-chosen names ---------------------------------------------------------------


def captured(marker: str) -> str:
    """The first captured vsftpd line holding `marker`, without its 24-character time."""
    return next(line[24:] for line in CAPTURED.read_text().splitlines() if marker in line)


def hostile_lines(moment: datetime) -> list[str]:
    """Real-format vsftpd lines whose user and path fields an attacker chose.

    The user logs in from two addresses (shared_account names the user); an anonymous
    download seen without its login (anonymous_access names the path).
    """
    login = captured("[alice] OK LOGIN").replace("[alice]", f"[{HOSTILE_USER}]")
    anon = captured("[ftp] OK DOWNLOAD").replace("/pub/welcome.txt", HOSTILE_PATH)
    stamp = vsftpd_stamp(moment)
    return [
        stamp + login.replace('"127.0.0.2"', '"198.51.100.10"'),
        vsftpd_stamp(moment + timedelta(seconds=1))
        + login.replace('"127.0.0.2"', '"198.51.100.11"'),
        stamp + anon.replace('"127.0.0.9"', '"198.51.100.12"'),
    ]


def assert_neutral(text: str, where: str) -> None:
    for char in RAW_FORBIDDEN:
        assert char not in text, f"raw {char!r} in {where}: {text!r}"


def write_hostile_log(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(line + "\n" for line in hostile_lines(datetime.now().astimezone()))


def test_hostile_names_are_neutral_in_replay_output(tmp_path: Path) -> None:
    log = tmp_path / "vsftpd.log"
    write_hostile_log(log)
    human = subprocess.run(
        [sys.executable, "-m", "sentinel", "replay", "--format", "vsftpd", str(log)],
        capture_output=True,
        check=True,
    )
    text = human.stdout.decode()
    assert_neutral(text, "replay output")
    rows = text.split("\n")[1:-1]  # header, then one line per alert
    assert [row.split()[3] for row in rows] == ["shared_account", "anonymous_access"]
    assert "\\x1b" in text and "\\u2028" in text and "\\r" not in text.replace("\\x0d", "")
    assert all("\n" not in row and "INJECTED" in rows[1] for row in rows)

    as_json = subprocess.run(
        [sys.executable, "-m", "sentinel", "replay", "--json", str(log)],
        capture_output=True,
        check=True,
    )
    records = [json.loads(line) for line in as_json.stdout.decode().splitlines()]
    assert len(records) == 2
    for record in records:  # the record itself holds the neutralised values
        for key, value in record.items():
            assert_neutral(str(value), f"replay --json {key}")
    assert records[0]["user"].startswith("eve\\x1b[31mROOT")
    assert "INJECTED" in records[1]["path"]


def mail_texts(message: EmailMessage) -> dict[str, str]:
    """Each text part by its content type."""
    parts: dict[str, str] = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_content()
            # CRLF is how mail ends lines; a lone CR inside a line would be a forgery
            parts[part.get_content_type()] = str(payload).replace("\r\n", "\n")
    return parts


def test_hostile_names_are_neutral_in_mail_and_chat(tmp_path: Path, daemons: list[Daemon]) -> None:
    log = tmp_path / "vsftpd.log"
    log.touch()
    with HttpReceiver() as chat, SmtpReceiver() as mail:
        daemon = new_daemon(
            daemons,
            tmp_path,
            {
                "sources": [{"path": str(log), "format": "vsftpd"}],
                "notify": {"targets": [{"url": chat.apprise_url()}, {"url": mail.apprise_url()}]},
            },
        )
        daemon.start()
        with log.open("a", encoding="utf-8", newline="") as out:
            out.writelines(line + "\n" for line in hostile_lines(datetime.now().astimezone()))
        posts = chat.wait_for(2)
        messages = mail.wait_for(2)
        assert daemon.stop() == 0

    for post in posts:
        body = post.json()
        for key in ("title", "message"):
            assert_neutral(body[key], f"chat {key}")
        assert "\n" not in body["title"]
        # the body is `key: value` lines: a forged line would start with something else
        for line in body["message"].split("\n")[2:]:
            assert re.fullmatch(r"[a-z_]+: .*", line), f"forged line in chat: {line!r}"
    titles = " ".join(p.json()["title"] for p in posts)
    assert "shared_account" in titles and "anonymous_access" in titles

    for message in messages:
        subject = str(message["Subject"])
        assert_neutral(subject, "mail subject")
        assert "\n" not in subject
        assert set(message.keys()) & {"Bcc", "INJECTED"} == set()
        parts = mail_texts(message)
        assert parts, "a mail without text"
        for kind, text in parts.items():
            assert_neutral(text, f"mail {kind}")
            if kind == "text/html":
                assert "<script>" not in text and "<img" not in text and "<b>x" not in text
                assert "&lt;" in text
    bodies = " ".join(" ".join(mail_texts(m).values()) for m in messages)
    assert "INJECTED" in bodies and "FAKE LINE" in bodies  # the fields are there, defused
