"""Seeded generator of large, realistic vsftpd logs for the benchmarks.

A population of ~1,000 users and ~50,000 client addresses; about 70% of lines are benign
sessions with transfers; the rest are anonymous sessions, brute force, password spraying
and bulk download bursts. Same seed, same file.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def vsftpd_time(moment: datetime) -> str:
    # vsftpd pads the day of month with a space, like ctime(3)
    return (
        f"{DAYS[moment.weekday()]} {MONTHS[moment.month - 1]} {moment.day:2d} "
        f"{moment:%H:%M:%S} {moment.year}"
    )


class Population:
    def __init__(self, rng: random.Random, users: int = 1000, addresses: int = 50_000) -> None:
        self.rng = rng
        self.users = [f"user{i:04d}" for i in range(users)]
        self.addresses = [
            f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            for _ in range(addresses)
        ]
        # each user mostly connects from one home address
        self.home = {user: rng.choice(self.addresses) for user in self.users}


class VsftpdWriter:
    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng = rng
        self.now = start
        self.pid = 1000

    def tick(self, seconds: float) -> str:
        self.now += timedelta(seconds=seconds)
        return vsftpd_time(self.now)

    def next_pid(self) -> int:
        self.pid = 1000 + (self.pid + 7) % 60000
        return self.pid

    def session(self, user: str, ip: str, transfers: int, anonymous: bool = False) -> Iterator[str]:
        rng = self.rng
        pid = self.next_pid()
        yield f'{self.tick(rng.random())} [pid {pid}] CONNECT: Client "{ip}"'
        name = "ftp" if anonymous else user
        extra = ', anon password "mozilla@example.com"' if anonymous else ""
        yield f'{self.tick(0.2)} [pid {pid - 1}] [{name}] OK LOGIN: Client "{ip}"{extra}'
        for n in range(transfers):
            size = rng.choice((0, 512, 4096, 65536, 1 << 20, 7 << 20))
            verb = "DOWNLOAD" if anonymous or rng.random() < 0.6 else "UPLOAD"
            path = f"/srv/ftp/{'pub' if anonymous else user}/results_{rng.randint(1, 99999)}.hl7"
            stamp = self.tick(rng.random() * 3)
            amount = f", {size} bytes, {rng.uniform(100, 90000):.2f}Kbyte/sec" if size else ""
            yield f'{stamp} [pid {pid + 1}] [{name}] OK {verb}: Client "{ip}", "{path}"{amount}'
            if n == 0 and not anonymous and rng.random() < 0.05:
                yield f'{self.tick(0.1)} [pid {pid + 1}] [{name}] OK MKDIR: Client "{ip}", "/srv/ftp/{user}/new"'

    def failures(self, ip: str, users: list[str], count: int) -> Iterator[str]:
        for i in range(count):
            pid = self.next_pid()
            yield f'{self.tick(0.5)} [pid {pid}] CONNECT: Client "{ip}"'
            user = users[i % len(users)]
            yield f'{self.tick(0.3)} [pid {pid - 1}] [{user}] FAIL LOGIN: Client "{ip}"'


def vsftpd_lines(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    people = Population(rng)
    writer = VsftpdWriter(rng, datetime(2026, 10, 1, 6, 0, 0))
    produced = 0
    while produced < count:
        roll = rng.random()
        if roll < 0.86:
            user = rng.choice(people.users)
            ip = people.home[user] if rng.random() < 0.97 else rng.choice(people.addresses)
            lines = writer.session(user, ip, rng.randint(1, 6))
        elif roll < 0.90:
            lines = writer.session("", rng.choice(people.addresses), rng.randint(0, 3), True)
        elif roll < 0.95:
            lines = writer.failures(rng.choice(people.addresses), [rng.choice(people.users)], 12)
        elif roll < 0.98:
            names = rng.sample(people.users, 6) + ["admin", "root", "test"]
            lines = writer.failures(rng.choice(people.addresses), names, 9)
        else:
            user = rng.choice(people.users)
            lines = writer.session(user, people.home[user], 120)
        for line in lines:
            yield line
            produced += 1
            if produced >= count:
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w") as out:
        for line in vsftpd_lines(args.seed, args.lines):
            out.write(line + "\n")


if __name__ == "__main__":
    main()
