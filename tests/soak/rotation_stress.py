"""Rotation + SIGKILL stress: every incident at the threshold alerts exactly once.

    .venv/bin/python -m tests.soak.rotation_stress --seconds 60 --rate 3000 --kills 4

A writer appends a few thousand lines/s (connections from many addresses) with incidents
woven in: even hosts fail exactly 10 times (brute_force's threshold: one alert each), odd
hosts 9 times (none). A dozen rotations alternate rename+create and copytruncate (the copy
and truncate done between two writes, as if the writer were paused: logrotate's own
copytruncate loses what is written in between, which no reader can recover), and the
daemon is SIGKILLed at random points, sometimes with a rotation while it is down. At the
end the alert history must hold exactly one alert per even host: a line lost hides one,
a line read twice turns an odd host into an alert or repeats one.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.soak.common import address, connect, daemon, failure, start

TICK = 0.1
HOSTS = 40


def rename_create(log: Path) -> None:
    shift(log)
    log.rename(log.with_name(log.name + ".1"))
    log.touch()


def copytruncate(log: Path) -> None:
    shift(log)
    shutil.copy2(log, log.with_name(log.name + ".1"))
    with log.open("r+") as handle:
        handle.truncate(0)


def shift(log: Path) -> None:
    numbered = sorted(
        (int(p.name.rsplit(".", 1)[1]), p)
        for p in log.parent.glob(log.name + ".*")
        if p.name.rsplit(".", 1)[1].isdigit()
    )
    for number, path in reversed(numbered):
        path.rename(log.with_name(f"{log.name}.{number + 1}"))


def incident_schedule(rng: random.Random, ticks: int) -> dict[int, list[str]]:
    """Tick -> the incident hosts that fail once in it; each host's failures within 4 min."""
    plan: dict[int, list[str]] = {}
    span = min(ticks - 2, int(240 / TICK))
    for host in range(HOSTS):
        failures = 10 if host % 2 == 0 else 9
        start = rng.randrange(0, max(1, ticks - span))
        for tick in rng.sample(range(start, start + span), failures):
            plan.setdefault(tick, []).append(f"198.51.100.{host}")
    return plan


def stored(config: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "sentinel", "alerts", "--json", "-c", str(config)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in done.stdout.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--rotations", type=int, default=12)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="sentinel-rotation-"))
    log = work / "vsftpd.log"
    log.touch()
    sentinel = daemon(work, log)
    ticks = int(args.seconds / TICK)
    plan = incident_schedule(rng, ticks)
    rotations = dict(zip(sorted(rng.sample(range(5, ticks), args.rotations)),
                         [rename_create, copytruncate] * args.rotations, strict=False))  # fmt: skip
    kills = set(rng.sample(range(5, ticks), args.kills))
    per_tick = max(1, round(args.rate * TICK))
    written = 0
    start(sentinel)
    began = time.monotonic()
    try:
        for tick in range(ticks):
            moment = datetime.now().astimezone()
            lines = [connect(address(written + i), moment) for i in range(per_tick)]
            for ip in plan.get(tick, []):
                lines.insert(rng.randrange(len(lines) + 1), failure(ip, moment))
            with log.open("a") as out:
                out.write("".join(line + "\n" for line in lines))
            written += len(lines)
            if tick in rotations:
                rotations[tick](log)
                print(f"t={time.monotonic() - began:5.1f}s {rotations[tick].__name__}", flush=True)
            if tick in kills:
                sentinel.kill()
                down_rotation = rng.random() < 0.5
                if down_rotation:
                    rename_create(log)
                why = " + rotation while down" if down_rotation else ""
                print(f"t={time.monotonic() - began:5.1f}s SIGKILL{why}", flush=True)
                start(sentinel)
            time.sleep(max(0.0, began + (tick + 1) * TICK - time.monotonic()))
        marker = "198.51.100.250"  # all lines before it are read once its alert is stored
        end = datetime.now().astimezone()
        with log.open("a") as out:
            out.writelines(failure(marker, end + timedelta(seconds=i)) + "\n" for i in range(10))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and marker not in {
            a.get("ip") for a in stored(sentinel.config_path)
        }:
            time.sleep(0.5)  # fmt: skip
        assert sentinel.stop() == 0
    finally:
        sentinel.close()
    ips = [str(a.get("ip")) for a in stored(sentinel.config_path) if a.get("rule") == "brute_force"]
    expected = sorted([f"198.51.100.{h}" for h in range(0, HOSTS, 2)] + [marker])
    print(f"seed {seed}: {written} lines in {args.seconds:.0f} s, {args.rotations} rotations, "
          f"{args.kills} SIGKILLs")  # fmt: skip
    print(
        f"brute_force alerts stored: {len(ips)} (expected {len(expected)}),"
        f" distinct {len(set(ips))}"
    )
    missing = sorted(set(expected) - set(ips))
    extra = sorted(set(ips) - set(expected))
    twice = sorted(ip for ip in set(ips) if ips.count(ip) > 1)
    print(f"missing {missing} extra {extra} repeated {twice}")
    print(f"work directory: {work}")
    return 0 if sorted(ips) == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
