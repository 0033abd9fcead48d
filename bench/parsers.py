"""Parser cost per line, for every format, on seeded realistic lines (no pipeline, no I/O).

One seeded stream of sessions (about 1,000 users, 50,000 addresses, transfers, anonymous
sessions, brute force and spraying, the noise lines each server writes around them) is
rendered in each format the parsers read; each parser is timed on its own rendering.
Run: `.venv/bin/python bench/parsers.py [--lines N] [--file FORMAT PATH ...]`.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sentinel.parsers import PARSERS
from sentinel.parsers.context import ParseContext

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 10, 1, 6, 0, 0, tzinfo=PARIS)


@dataclass(frozen=True, slots=True)
class Step:
    """One thing a client did, before any server wrote it down."""

    what: str  # connect, login, fail, download, upload, mkdir, logout
    ts: datetime
    pid: int
    user: str
    ip: str
    path: str = ""
    size: int = 0


def steps(seed: int) -> Iterator[Step]:
    """Sessions as in bench/generate.py: mostly benign, some anonymous, attacks, bursts."""
    rng = random.Random(seed)
    users = [f"user{i:04d}" for i in range(1000)]
    addresses = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(50_000)
    ]
    home = {user: rng.choice(addresses) for user in users}
    now, pid = START, 1000
    while True:
        now += timedelta(seconds=rng.random())
        pid = 1000 + (pid + 7) % 60000
        roll = rng.random()
        if roll < 0.90:
            anonymous = roll >= 0.86
            user = "ftp" if anonymous else rng.choice(users)
            address = rng.choice(addresses) if anonymous else home[user]
            yield Step("connect", now, pid, "?", address)
            yield Step("login", now, pid, user, address)
            count = 120 if rng.random() < 0.02 else rng.randint(0, 3 if anonymous else 6)
            for _ in range(count):
                now += timedelta(seconds=rng.random() * 3)
                verb = "download" if anonymous or rng.random() < 0.6 else "upload"
                size = rng.choice((0, 512, 4096, 65536, 1 << 20, 7 << 20))
                folder = "pub" if anonymous else user
                path = f"/srv/ftp/{folder}/results_{rng.randint(1, 99999)}.hl7"
                yield Step(verb, now, pid, user, address, path, size)
            yield Step("logout", now, pid, user, address)
        else:
            address = rng.choice(addresses)
            names = [rng.choice(users)] if roll < 0.95 else [*rng.sample(users, 6), "admin"]
            for i in range(12):
                now += timedelta(seconds=0.5)
                yield Step("connect", now, pid + i, "?", address)
                yield Step("fail", now, pid + i, names[i % len(names)], address)


def ctime(ts: datetime) -> str:
    return f"{DAYS[ts.weekday()]} {MONTHS[ts.month - 1]} {ts.day:2d} {ts:%H:%M:%S} {ts.year}"


def bsd(ts: datetime) -> str:
    return f"{MONTHS[ts.month - 1]} {ts.day:2d} {ts:%H:%M:%S}"


def rfc3339(ts: datetime) -> str:
    return ts.isoformat(timespec="microseconds")


def vsftpd(s: Step, rng: random.Random) -> Iterator[str]:
    head = f"{ctime(s.ts)} [pid {s.pid}]"
    client = f'Client "{s.ip}"'
    if s.what == "connect":
        yield f"{head} CONNECT: {client}"
    elif s.what in ("login", "fail"):
        extra = ', anon password "mozilla@example.com"' if s.user == "ftp" else ""
        yield f"{head} [{s.user}] {'OK' if s.what == 'login' else 'FAIL'} LOGIN: {client}{extra}"
    elif s.what in ("download", "upload"):
        amount = f", {s.size} bytes" if s.size else ""
        rate = f"{rng.uniform(100, 90000):.2f}Kbyte/sec"
        yield f'{head} [{s.user}] OK {s.what.upper()}: {client}, "{s.path}"{amount}, {rate}'


def xferlog(s: Step, rng: random.Random) -> Iterator[str]:
    if s.what in ("download", "upload"):
        mode, user = ("a", "mozilla@example.com") if s.user == "ftp" else ("r", s.user)
        direction = "o" if s.what == "download" else "i"
        seconds = rng.randint(0, 9)
        yield (
            f"{ctime(s.ts)} {seconds} {s.ip} {s.size} {s.path} b _ {direction} {mode} {user}"
            f" ftp 0 * c"
        )


def sshd(s: Step, rng: random.Random) -> Iterator[str]:
    stamp = bsd(s.ts) if s.pid % 2 else rfc3339(s.ts)  # both styles, as rsyslog may write
    sshd, sftp = f"{stamp} vm sshd[{s.pid}]:", f"{stamp} vm internal-sftp[{s.pid + 1}]:"
    port = rng.randint(1024, 65535)
    if s.what == "login":
        yield f"{sshd} Accepted password for {s.user} from {s.ip} port {port} ssh2"
        yield (
            f"{sshd} pam_unix(sshd:session): session opened for user {s.user}(uid=1001) by (uid=0)"
        )
        yield f"{sftp} session opened for local user {s.user} from [{s.ip}]"
    elif s.what == "fail":
        yield (
            f"{sshd} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0"
            f" tty=ssh ruser= rhost={s.ip}  user={s.user}"
        )
        yield f"{sshd} Failed password for {s.user} from {s.ip} port {port} ssh2"
        yield (
            f"{sshd} Connection closed by authenticating user {s.user} {s.ip} port {port} [preauth]"
        )
    elif s.what in ("download", "upload"):
        name = s.path.rpartition("/")[2]
        read, written = (s.size, 0) if s.what == "download" else (0, s.size)
        yield f'{sftp} open "{name}" flags READ mode 0666'
        yield f'{sftp} close "{name}" bytes read {read} written {written}'
    elif s.what == "logout":
        yield f"{sftp} session closed for local user {s.user} from [{s.ip}]"
        yield f"{sshd} pam_unix(sshd:session): session closed for user {s.user}"


def pureftpd(s: Step, rng: random.Random) -> Iterator[str]:
    stamp = bsd(s.ts) if s.pid % 2 else rfc3339(s.ts)
    who = "?" if s.what in ("connect", "login", "fail") else s.user
    head = f"{stamp} vm pure-ftpd: ({who}@{s.ip})"
    if s.what == "connect":
        yield f"{head} [INFO] New connection from {s.ip}"
    elif s.what == "login":
        yield f"{head} [INFO] {s.user} is now logged in"
    elif s.what == "fail":
        yield (
            f"{stamp} vm pure-ftpd: pam_unix(pure-ftpd:auth): authentication failure; logname="
            f" uid=0 euid=0 tty=pure-ftpd ruser={s.user} rhost=vm user={s.user}"
        )
        yield f"{head} [WARNING] Authentication failed for user [{s.user}]"
    elif s.what in ("download", "upload"):
        rate = f"{rng.uniform(100, 90000):.2f}KB/sec"
        yield f"{head} [NOTICE] /{s.path} {s.what}ed  ({s.size} bytes, {rate})"
    elif s.what == "logout":
        yield f"{head} [INFO] Logout."


def proftpd(s: Step, rng: random.Random) -> Iterator[str]:
    stamp = f"{s.ts:%Y-%m-%d %H:%M:%S},{rng.randint(0, 999):03d}"
    head = f"{stamp} vm proftpd[{s.pid}] 127.0.0.1 ({s.ip}[{s.ip}]):"
    if s.what == "connect":
        yield f"{head} FTP session opened."
    elif s.what == "login":
        yield f"{head} {'ANON' if s.user == 'ftp' else 'USER'} {s.user}: Login successful."
    elif s.what == "fail":
        yield f"{head} USER {s.user} (Login failed): Incorrect password"
    elif s.what == "logout":
        yield f"{head} FTP session closed."


RENDERERS: dict[str, Callable[[Step, random.Random], Iterator[str]]] = {
    "vsftpd": vsftpd,
    "xferlog": xferlog,
    "openssh": sshd,
    "pureftpd": pureftpd,
    "proftpd": proftpd,
}


def lines(fmt: str, count: int, seed: int = 2021) -> list[str]:
    rng = random.Random(seed + 1)
    found: list[str] = []
    for step in steps(seed):
        found.extend(line + "\n" for line in RENDERERS[fmt](step, rng))
        if len(found) >= count:
            return found[:count]
    raise AssertionError("unreachable")


def per_line(fmt: str, sample: list[str], repeat: int = 5) -> tuple[float, int]:
    """Best µs per line over `repeat` runs, and how many lines gave an event."""
    parse = PARSERS[fmt]
    ctx = ParseContext(fmt, PARIS, datetime(2027, 1, 1, tzinfo=UTC))
    best = float("inf")
    events = 0
    for _ in range(repeat):
        start = time.perf_counter()
        events = sum(1 for line in sample if parse(line, ctx) is not None)
        best = min(best, time.perf_counter() - start)
    return best / len(sample) * 1e6, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--file", nargs=2, action="append", default=[], metavar=("FMT", "PATH"))
    args = parser.parse_args()
    print("| format | lines | events | µs per line |\n|---|---:|---:|---:|")
    samples = [(fmt, lines(fmt, args.lines)) for fmt in RENDERERS]
    samples += [(fmt, Path(path).read_text().splitlines(True)) for fmt, path in args.file]
    for fmt, sample in samples:
        micros, events = per_line(fmt, sample)
        print(f"| {fmt} | {len(sample):,} | {events:,} | {micros:.2f} |")


if __name__ == "__main__":
    main()
