"""No new leak: planted personal data and logged passwords never come out of sentinel.

NIRs (valid keys) and IBANs (valid check digits) sit in a watched, inspected directory;
vsftpd logs anonymous "passwords". Every output of every command, the JSON log, the
notifications, the metrics and the raw bytes of the state store are searched for them.
Also: state files private, metrics on loopback, and no link under a watched tree ever
makes sentinel read or move a file outside it.
"""

from __future__ import annotations

import os
import random
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

from sentinel.config import load_config
from sentinel.config.model import MetricsConfig
from sentinel.sinks.http import parse_listen
from tests.daemonproc import vsftpd_stamp
from tests.realservers.proc import wait_until
from tests.receivers import HttpReceiver, SmtpReceiver
from tests.test_hostile import Daemon, captured, daemons, new_daemon

__all__ = ["daemons"]  # the fixture, imported for pytest

ANON_CAPTURED = "mozilla@example.com"


def make_nir(rng: random.Random) -> str:
    """A NIR with a valid key: 13 digits, then 97 - (number mod 97)."""
    body = f"1{rng.randrange(50, 99)}{rng.randrange(1, 13):02d}75{rng.randrange(1000):03d}"
    body += f"{rng.randrange(1000):03d}"
    number = f"{body}{97 - int(body) % 97:02d}"
    assert stdnum_nir.is_valid(number)
    return number


def make_iban(rng: random.Random) -> str:
    bban = f"30006{rng.randrange(10**5):05d}{rng.randrange(10**11):011d}{rng.randrange(97):02d}"
    number = "FR" + stdnum_iban.calc_check_digits("FR00" + bban) + bban
    assert stdnum_iban.is_valid(number)
    return number


def spaced_nir(nir: str) -> str:
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


def spaced_iban(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def settled(path: Path, text: str) -> None:
    """A file uploaded two hours ago: the first audit inspects only settled files."""
    path.write_text(text)
    path.chmod(0o600)  # not exposed: only the personal data is reported
    os.utime(path, (time.time() - 7200, time.time() - 7200))


def secrets_of(nirs: list[str], ibans: list[str], passwords: list[str]) -> dict[str, str]:
    """Every form a planted value could leak in, by a name for the failure message."""
    found: dict[str, str] = {}
    for n, nir in enumerate(nirs):
        found[f"nir{n}"] = nir
        found[f"nir{n} spaced"] = spaced_nir(nir)
        found[f"nir{n} place+order"] = nir[5:13]  # what the masked sample hides
    for n, number in enumerate(ibans):
        found[f"iban{n}"] = number
        found[f"iban{n} spaced"] = spaced_iban(number)
        found[f"iban{n} account"] = number[14:25]
    for n, password in enumerate(passwords):
        found[f"password{n}"] = password
    return found


def planted_file(nirs: list[str], ibans: list[str]) -> str:
    rows = ["name;nir;iban"]
    for n, (nir, number) in enumerate(zip(nirs, ibans, strict=True)):
        shown_nir = nir if n % 2 else spaced_nir(nir)
        shown_iban = number if n % 2 else spaced_iban(number)
        rows.append(f"patient {n};{shown_nir};{shown_iban}")
    return "\n".join(rows) + "\n"


def anonymous_logins(passwords: list[str]) -> list[str]:
    """Real-format anonymous logins, one per password, from one address (one alert: Apprise
    throttles e-mail to one message per ~5.5 s)."""
    template = captured("anon password")
    now = datetime.now().astimezone()
    return [
        vsftpd_stamp(now + timedelta(seconds=n))
        + template.replace(ANON_CAPTURED, password).replace('"127.0.0.9"', '"192.0.2.20"')
        for n, password in enumerate(passwords)
    ]


def cli(config: Path, *args: str, log_json: bool = False) -> str:
    """stdout and stderr of one sentinel command (exit 0 expected)."""
    head = [sys.executable, "-m", "sentinel", *(["--log-format", "json"] if log_json else [])]
    done = subprocess.run(
        [*head, args[0], "-c", str(config), *args[1:]], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout.decode(errors="replace") + "\n" + done.stderr.decode(errors="replace")


def state_bytes(state: Path) -> str:
    """The raw bytes of the store and its journal files, as Latin-1 text to search."""
    parts = []
    for name in ("sentinel.db", "sentinel.db-wal"):
        path = state / name
        if path.exists():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def assert_private(state: Path) -> None:
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    for name in ("sentinel.db", "sentinel.db-wal", "sentinel.db-shm"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name


def test_planted_identifiers_and_passwords_never_leak(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    rng = random.Random()
    nirs = [make_nir(rng) for _ in range(4)]
    ibans = [make_iban(rng) for _ in range(4)]
    marker = f"leakmark{rng.randrange(16**8):08x}"
    passwords = [ANON_CAPTURED, f"{marker}@example.org", f"Pw-{marker}-secret"]
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    settled(exchange / "patients.csv", planted_file(nirs, ibans))
    log = tmp_path / "vsftpd.log"
    log.touch()
    outputs: dict[str, str] = {}
    with HttpReceiver() as chat, SmtpReceiver() as mail:
        config: dict[str, Any] = {
            "sources": [{"path": str(log), "format": "vsftpd"}],
            "directories": [{"path": str(exchange), "inspect": True}],
            "notify": {"targets": [{"url": chat.apprise_url()}, {"url": mail.apprise_url()}]},
        }
        daemon = new_daemon(daemons, tmp_path, config, global_args=["--log-format", "json"])
        daemon.start()
        with log.open("a") as out:
            out.writelines(line + "\n" for line in anonymous_logins(passwords))
        posts = chat.wait_for(2, timeout=15)
        messages = mail.wait_for(2, timeout=15)
        rules = [p.json()["title"].split()[1] for p in posts]
        assert sorted(rules) == ["anonymous_access", "unencrypted_personal_data"]
        daemon.wait_metric(
            "sentinel_logins_total",
            len(passwords),
            source="vsftpd",
            result="success",
            anonymous="true",
        )
        state = Path(daemon.config["state_dir"])
        assert_private(state)
        outputs["metrics"] = metrics_text(daemon.port)
        outputs["state store (running)"] = state_bytes(state)
        config_path = daemon.config_path
        outputs["alerts"] = cli(config_path, "alerts")
        outputs["alerts --json"] = cli(config_path, "alerts", "--json")
        assert daemon.stop() == 0
    outputs["run stderr (json log)"] = daemon.stderr()
    outputs["state store (stopped)"] = state_bytes(state)
    for n, post in enumerate(posts):
        outputs[f"chat {n}"] = post.body.decode(errors="replace") + str(post.headers)
    for n, message in enumerate(messages):
        decoded = " ".join(str(p.get_content()) for p in message.walk() if not p.is_multipart())
        outputs[f"mail {n}"] = message.as_string() + decoded
    outputs["scan"] = cli(config_path, "scan")
    outputs["scan --json"] = cli(config_path, "scan", "--json", log_json=True)
    outputs["replay"] = cli(config_path, "replay", str(log))
    outputs["replay --json"] = cli(config_path, "replay", "--json", str(log), log_json=True)
    outputs["alerts after stop"] = cli(config_path, "alerts", "--json")
    outputs["parse"] = cli(config_path, "parse", str(log))
    outputs["parse --missed"] = cli(config_path, "parse", "--missed", str(log))

    assert "unencrypted_personal_data" in outputs["scan --json"]  # the search means something
    assert "anonymous_access" in outputs["replay --json"]
    assert outputs["parse"].count('"anonymous": true') == len(passwords)
    assert spaced_nir(nirs[0])[:8] in outputs["scan --json"]  # the masked sample: 1 85 05 ..
    leaks = [
        f"{what} in {where}"
        for where, text in outputs.items()
        for what, secret in secrets_of(nirs, ibans, passwords).items()
        if secret in text
    ]
    assert leaks == []


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(address, port) of the TCP sockets `pid` listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            hex_address, hex_port = fields[1].split(":")
            raw = bytes.fromhex(hex_address)
            # /proc prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.append((socket.inet_ntop(family, raw), int(hex_port, 16)))
    return found


def test_metrics_listen_on_loopback_by_default(tmp_path: Path, daemons: list[Daemon]) -> None:
    assert parse_listen(MetricsConfig().listen)[0] == "127.0.0.1"
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump({"server_name": "x", "state_dir": str(tmp_path / "s")}))
    assert load_config(bare).metrics.listen == MetricsConfig().listen
    log = tmp_path / "vsftpd.log"
    log.touch()
    daemon = new_daemon(daemons, tmp_path, {"sources": [{"path": str(log), "format": "vsftpd"}]})
    daemon.start()
    assert listening_addresses(daemon.pid) == [("127.0.0.1", daemon.port)]
    assert daemon.stop() == 0


def old_atime(path: Path) -> float:
    """Sets atime well before mtime, so that any read updates it (even under relatime)."""
    st = path.stat()
    os.utime(path, ns=(st.st_mtime_ns - 3600 * 10**9, st.st_mtime_ns))
    return path.stat().st_atime


def race(
    inside: Path, content: bytes, outside_file: Path, outside_dir: Path, stop: threading.Event
) -> int:
    """Swaps entries between a flagged regular file (old enough to be acted on) and links
    to outside, as fast as it can, until `stop` or 2000 rounds; returns the rounds."""
    flagged = inside / "race.csv"
    tree = inside / "racedir"
    rounds = 0
    while not stop.is_set() and rounds < 2000:
        rounds += 1
        try:
            tmp = inside / ".race.tmp"
            tmp.write_bytes(content)
            os.utime(tmp, (time.time() - 7200, time.time() - 7200))
            os.replace(tmp, flagged)
            link = inside / ".race.lnk"
            link.symlink_to(outside_file)
            os.replace(link, flagged)
            if tree.is_symlink():
                tree.unlink()
                tree.mkdir()
                (tree / "doc.csv").write_bytes(content)
            else:
                for child in tree.iterdir() if tree.is_dir() else ():
                    child.unlink()
                if tree.is_dir():
                    tree.rmdir()
                tree.symlink_to(outside_dir)
        except OSError:
            continue  # sentinel moved something away meanwhile: go on racing
    return rounds


def titles_of(chat: HttpReceiver) -> str:
    return " ".join(p.json()["title"] for p in chat.received())


def test_links_and_rename_races_never_reach_outside(tmp_path: Path, daemons: list[Daemon]) -> None:
    rng = random.Random()
    nirs = [make_nir(rng) for _ in range(2)]
    ibans = [make_iban(rng) for _ in range(2)]
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.csv"
    secret.write_text(planted_file(nirs, ibans))
    before = old_atime(secret)
    inode = secret.stat().st_ino
    inside = tmp_path / "exchange"
    inside.mkdir()
    settled(inside / "patients.csv", planted_file(nirs, ibans))
    (inside / "link.csv").symlink_to(secret)
    (inside / "linkdir").symlink_to(outside)
    quarantine = tmp_path / "quarantine"
    with HttpReceiver() as chat:
        directory = {
            "path": str(inside),
            "inspect": True,
            "action": "quarantine",
            "quarantine_dir": str(quarantine),
        }
        daemon = new_daemon(
            daemons,
            tmp_path,
            {"directories": [directory], "notify": {"targets": [{"url": chat.apprise_url()}]}},
        )
        daemon.start()
        chat.wait_for(1)  # the first full audit is over: patients.csv reported
        stop = threading.Event()
        planted = planted_file(nirs, ibans).encode()
        rounds: list[int] = []
        racer = threading.Thread(
            target=lambda: rounds.append(race(inside, planted, secret, outside, stop)), name="racer"
        )
        racer.start()
        scan = subprocess.run(
            [sys.executable, "-m", "sentinel", "scan", "-c", str(daemon.config_path)],
            capture_output=True,
            check=False,
        )
        stop.set()
        racer.join(10)
        # a last flagged file: once it is reported, the race's events were all handled
        final = inside / "final.csv"
        final.write_text(planted_file(nirs, ibans))
        wait_until("final.csv reported", lambda: "final.csv" in titles_of(chat), 15)
        assert daemon.stop() == 0
    assert scan.returncode == 0, scan.stderr
    assert rounds and rounds[0] > 10
    assert secret.stat().st_atime == before, "sentinel read a file outside the watched tree"
    assert secret.stat().st_ino == inode and secret.read_text() == planted_file(nirs, ibans)
    titles = [p.json()["title"] for p in chat.received()]
    named = ("link.csv", "linkdir", "secret.csv", str(outside))
    assert not [t for t in titles if any(n in t for n in named)], titles
    assert not [n for n in named if n in scan.stdout.decode(errors="replace")]
    assert sorted(p.name for p in outside.iterdir()) == ["secret.csv"]
    # control: this file system does update atime on a read, so the check above could fail
    secret.read_bytes()
    assert secret.stat().st_atime != before
