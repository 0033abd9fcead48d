"""Seeded generator of large, realistic exchange-server logs for the benchmarks.

One stream of client activity (about 1,000 users, 50,000 client addresses; ~70% of the lines
are benign sessions with transfers, the rest anonymous sessions, brute force, password spraying
and bulk download bursts) is written in the shape each real server writes, copied from the
captures in tests/samples/captured/: vsftpd.log, xferlog, an OpenSSH auth.log (sshd and
internal-sftp, traditional syslog timestamps) and a mixed auth.log (sshd, internal-sftp, the
PAM lines of vsftpd and pure-ftpd, cron). The "flood" log is 1M failed sshd logins from 1M
distinct addresses within 4 minutes. Same seed, same file.
Run: `.venv/bin/python bench/generate.py FORMAT OUTPUT [--lines N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
START = datetime(2026, 10, 1, 6, 0, 0)  # single-digit days: the padded "Oct  1" is exercised
HOST = "exchange01"
SIZES = (0, 380, 4096, 65536, 250_000, 1 << 20, 7 << 20)
# names scanners try; none of them is an account of the population
INVALID_NAMES = ("admin", "root", "test", "oracle", "ubuntu", "postgres", "ftpuser", "guest")
TRUSTED = ("10.0.0.0/8", "192.168.0.0/16")  # bench/sentinel.yaml trusts these


def ctime(moment: datetime) -> str:
    """vsftpd's and xferlog's date: ctime(3), day of month padded with a space."""
    return (
        f"{DAYS[moment.weekday()]} {MONTHS[moment.month - 1]} {moment.day:2d} "
        f"{moment:%H:%M:%S} {moment.year}"
    )


def rfc3164(moment: datetime) -> str:
    """rsyslog's traditional file format: "Oct  1 06:00:00"."""
    return f"{MONTHS[moment.month - 1]} {moment.day:2d} {moment:%H:%M:%S}"


class Step(NamedTuple):
    """One thing a client did, before any server wrote it down."""

    what: str  # connect, login, fail, download, upload, mkdir, delete, logout
    ts: datetime
    pid: int
    user: str  # "ftp" for anonymous
    ip: str
    port: int = 0
    path: str = ""
    size: int = 0
    known: bool = True  # False: a user name the system does not have


class Population:
    """Users with a home address (mostly on the trusted networks) and 50,000 other addresses."""

    def __init__(self, rng: random.Random, users: int = 1000, addresses: int = 50_000) -> None:
        def public() -> str:
            first = rng.choice([n for n in range(1, 224) if n not in (10, 127, 172, 192)])
            return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"

        self.users = [f"user{i:04d}" for i in range(users)]
        self.uid = {user: 2000 + i for i, user in enumerate(self.users)}
        self.addresses = [public() for _ in range(addresses)]
        nets = [ipaddress.ip_network(n) for n in TRUSTED]
        # 90% of users work from the partner networks; the others from the internet
        self.home = {
            user: str(rng.choice(nets)[rng.randint(1, 65_000)])
            if rng.random() < 0.9
            else rng.choice(self.addresses)
            for user in self.users
        }


class Activity:
    """The seeded stream of client activity, session after session."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people = Population(self.rng)
        self.now = START
        self.pid = 1000

    def _tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def _next_pid(self) -> int:
        self.pid = 1000 + (self.pid - 1000 + 13) % 4_000_000
        return self.pid

    def steps(self) -> Iterator[Step]:
        rng, people = self.rng, self.people
        while True:
            self._tick(rng.random() * 2)
            roll = rng.random()
            if roll < 0.89:
                user = rng.choice(people.users)
                ip = people.home[user] if rng.random() < 0.97 else rng.choice(people.addresses)
                yield from self._session(user, ip, rng.randint(1, 6))
            elif roll < 0.92:
                yield from self._session("ftp", rng.choice(people.addresses), rng.randint(0, 3))
            elif roll < 0.955:  # brute force: one account, 12 tries
                yield from self._failures(rng.choice(people.addresses), [rng.choice(people.users)])
            elif roll < 0.995:  # spraying: many names, real and not, from one address
                names = rng.sample(people.users, 4) + rng.sample(INVALID_NAMES, 4)
                yield from self._failures(rng.choice(people.addresses), names)
            else:  # bulk download burst by a legitimate account
                user = rng.choice(people.users)
                yield from self._session(user, people.home[user], 150, bulk=True)

    def _session(self, user: str, ip: str, transfers: int, bulk: bool = False) -> Iterator[Step]:
        rng = self.rng
        pid, port = self._next_pid(), rng.randint(1024, 65535)
        yield Step("connect", self._tick(0.05), pid, user, ip, port)
        yield Step("login", self._tick(0.2), pid, user, ip, port)
        folder = "/pub" if user == "ftp" else f"/srv/exchange/home/{user}"
        for n in range(transfers):
            up = user != "ftp" and not bulk and rng.random() < 0.4
            name = f"results_{rng.randint(1, 99999):05d}.hl7" if not bulk else f"rec{n:04d}.csv"
            yield Step(
                "upload" if up else "download",
                self._tick(rng.random() * (0.3 if bulk else 3)),
                pid,
                user,
                ip,
                port,
                f"{folder}/{name}",
                rng.choice(SIZES),
            )
            if n == 0 and user != "ftp" and rng.random() < 0.05:
                yield Step("mkdir", self._tick(0.1), pid, user, ip, port, f"{folder}/new")
        yield Step("logout", self._tick(0.3), pid, user, ip, port)

    def _failures(self, ip: str, names: list[str]) -> Iterator[Step]:
        people = self.people
        for i in range(12):
            user = names[i % len(names)]
            pid, port = self._next_pid(), self.rng.randint(1024, 65535)
            yield Step("connect", self._tick(1.0), pid, user, ip, port)
            yield Step("fail", self._tick(0.4), pid, user, ip, port, known=user in people.uid)


def vsftpd(s: Step, people: Population, rng: random.Random) -> Iterator[str]:
    # the session's processes: CONNECT by the listener's child, LOGIN by its parent, the rest
    # by the logged-in child (pid, pid - 1, pid + 1 in the captures)
    head = ctime(s.ts)
    client = f'Client "{s.ip}"'
    if s.what == "connect":
        yield f"{head} [pid {s.pid}] CONNECT: {client}"
    elif s.what == "login":
        extra = ', anon password "mozilla@example.com"' if s.user == "ftp" else ""
        yield f"{head} [pid {s.pid - 1}] [{s.user}] OK LOGIN: {client}{extra}"
    elif s.what == "fail":
        yield f"{head} [pid {s.pid - 1}] [{s.user}] FAIL LOGIN: {client}"
    elif s.what in ("download", "upload"):
        rate = rng.uniform(20, 90000) if s.size else 0.0
        amount = f"{s.size} bytes, " if s.size else ""
        verb = f"[pid {s.pid + 1}] [{s.user}] OK {s.what.upper()}"
        yield f'{head} {verb}: {client}, "{s.path}", {amount}{rate:.2f}Kbyte/sec'
    elif s.what == "mkdir":
        yield f'{head} [pid {s.pid + 1}] [{s.user}] OK MKDIR: {client}, "{s.path}"'


def xferlog(s: Step, people: Population, rng: random.Random) -> Iterator[str]:
    if s.what in ("download", "upload"):
        mode, user = ("a", "mozilla@example.com") if s.user == "ftp" else ("r", s.user)
        direction = "o" if s.what == "download" else "i"
        seconds = s.size // 8_000_000 + 1  # vsftpd rounds up: 1 for a small file
        yield (
            f"{ctime(s.ts)} {seconds} {s.ip} {s.size} {s.path} b _ {direction} {mode} {user}"
            " ftp 0 * c"
        )


def openssh(s: Step, people: Population, rng: random.Random) -> Iterator[str]:
    if s.user == "ftp":
        return  # no anonymous SFTP: those sessions are FTP only
    stamp = rfc3164(s.ts)
    sshd = f"{stamp} {HOST} sshd[{s.pid}]:"
    sftp = f"{stamp} {HOST} internal-sftp[{s.pid + 8}]:"
    if s.what == "login":
        user = s.user
        yield f"{sshd} Accepted password for {user} from {s.ip} port {s.port} ssh2"
        uid = people.uid[user]
        yield f"{sshd} pam_unix(sshd:session): session opened for user {user}(uid={uid}) by (uid=0)"
        yield f"{sftp} session opened for local user {user} from [{s.ip}]"
    elif s.what == "fail" and s.known:
        yield (
            f"{sshd} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0"
            f" tty=ssh ruser= rhost={s.ip}  user={s.user}"
        )
        yield f"{sshd} Failed password for {s.user} from {s.ip} port {s.port} ssh2"
        closed = f"{s.user} {s.ip} port {s.port} [preauth]"
        yield f"{sshd} Connection closed by authenticating user {closed}"
    elif s.what == "fail":
        yield f"{sshd} Invalid user {s.user} from {s.ip} port {s.port}"
        yield f"{sshd} pam_unix(sshd:auth): check pass; user unknown"
        yield (
            f"{sshd} pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0"
            f" tty=ssh ruser= rhost={s.ip} "
        )
        yield f"{sshd} Failed password for invalid user {s.user} from {s.ip} port {s.port} ssh2"
        yield f"{sshd} Connection closed by invalid user {s.user} {s.ip} port {s.port} [preauth]"
    elif s.what in ("download", "upload"):
        name = s.path.rpartition("/")[2]
        if s.what == "download":
            yield f'{sftp} open "{name}" flags READ mode 0666'
            yield f'{sftp} close "{name}" bytes read {s.size} written 0'
        else:
            yield f'{sftp} open "{name}" flags WRITE,CREATE,TRUNCATE mode 0666'
            yield f'{sftp} close "{name}" bytes read 0 written {s.size}'
    elif s.what == "mkdir":
        yield f'{sftp} mkdir name "new" mode 0777'
    elif s.what == "logout":
        yield f"{sftp} session closed for local user {s.user} from [{s.ip}]"
        yield f"{sshd} pam_unix(sshd:session): session closed for user {s.user}"


def mixed(s: Step, people: Population, rng: random.Random) -> Iterator[str]:
    """auth.log of a host running sshd and FTP daemons with PAM, and cron."""
    stamp = rfc3164(s.ts)
    daemon = s.pid % 4  # a quarter of the failures hit vsftpd, a quarter pure-ftpd
    if s.what == "fail" and daemon in (1, 2):
        name, tty = ("vsftpd", "ftp") if daemon == 1 else ("pure-ftpd", "pure-ftpd")
        rhost = s.ip if daemon == 1 else HOST  # pure-ftpd gives PAM its own host name
        head = f"{stamp} {HOST} {name}: pam_unix({name}:auth):"
        if s.known:
            yield (
                f"{head} authentication failure; logname= uid=0 euid=0 tty={tty}"
                f" ruser={s.user} rhost={rhost}  user={s.user}"
            )
        else:
            yield f"{head} check pass; user unknown"
            yield (
                f"{head} authentication failure; logname= uid=0 euid=0 tty={tty}"
                f" ruser={s.user} rhost={rhost} "
            )
        return
    yield from openssh(s, people, rng)
    if s.what == "logout" and s.pid % 23 == 0:
        cron = f"{stamp} {HOST} CRON[{s.pid + 3}]: pam_unix(cron:session): session"
        yield f"{cron} opened for user root(uid=0) by (uid=0)"
        yield f"{cron} closed for user root"


Renderer = Callable[[Step, Population, random.Random], Iterator[str]]
RENDERERS: dict[str, Renderer] = {
    "vsftpd": vsftpd,
    "xferlog": xferlog,
    "openssh": openssh,
    "mixed": mixed,
}


def activity_lines(fmt: str, seed: int, count: int) -> Iterator[str]:
    """`count` lines of the seeded activity in format `fmt`."""
    activity = Activity(seed)
    render, people = RENDERERS[fmt], activity.people
    rng = random.Random(seed + 1)  # for what only the rendering varies (rates)
    produced = 0
    for step in activity.steps():
        for line in render(step, people, rng):
            yield line
            produced += 1
            if produced >= count:
                return


def flood_lines(seed: int, count: int, span: timedelta = timedelta(minutes=4)) -> Iterator[str]:
    """`count` failed sshd logins for invalid users, each from its own address, within `span`."""
    rng = random.Random(seed)
    # distinct public-looking IPv4 addresses: a sample without replacement of 1.0.0.0-223.x
    numbers = rng.sample(range(0x01000000, 0xE0000000), count)
    step = span / count
    for i, number in enumerate(numbers):
        stamp = rfc3164(START + step * i)
        address = str(ipaddress.IPv4Address(number))
        user = INVALID_NAMES[number % len(INVALID_NAMES)]
        pid = 10_000 + i % 4_000_000
        yield (
            f"{stamp} {HOST} sshd[{pid}]: Failed password for invalid user {user}"
            f" from {address} port {1024 + number % 64_000} ssh2"
        )


FORMATS = (*RENDERERS, "flood")


def lines_of(fmt: str, seed: int, count: int) -> Iterator[str]:
    return flood_lines(seed, count) if fmt == "flood" else activity_lines(fmt, seed, count)


def write_log(fmt: str, path: Path, count: int, seed: int = 2021) -> Path:
    """Write the log once (atomically: an interrupted run leaves no half file)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    with partial.open("w", encoding="utf-8") as out:
        batch: list[str] = []
        for line in lines_of(fmt, seed, count):
            batch.append(line)
            if len(batch) >= 10_000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
    os.replace(partial, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("format", choices=FORMATS)
    parser.add_argument("output", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    args.output.unlink(missing_ok=True)
    write_log(args.format, args.output, args.lines, args.seed)


if __name__ == "__main__":
    main()
