"""Soak: `sentinel run` for N minutes at a sustained rate over 100k distinct addresses.

    .venv/bin/python -m tests.soak.soak --minutes 10 --rate 3000 --addresses 100000

Every 10 s: RSS, CPU and lines read. At the end: RSS start/end/max, CPU seconds per
second at each 1k lines/s, and the lag (lines written but not yet read). The traffic:
each address connects, logs in as its own user (no shared_account storm) and fails a
login now and then (brute_force only for addresses that fail 10 times within 5 min,
i.e. a handful), so the rules' tables hold ~100k keys, the case their caps are for.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.soak.common import address, connect, cpu_seconds, daemon, failure, login, rss_mib, start

SAMPLE_EVERY = 10.0
TICK = 0.1


def lines_for(n: int, moment: datetime, addresses: int) -> str:
    """The n-th line of the traffic."""
    ip = address((n // 3) % addresses)
    kind = n % 3
    if kind == 0:
        return connect(ip, moment)
    if kind == 1:
        return login(f"user{(n // 3) % addresses}", ip, moment)  # each address its own user
    return failure(ip, moment)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=3000, help="lines per second")
    parser.add_argument("--addresses", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sentinel-soak-"))
    log = work / "vsftpd.log"
    log.touch()
    sentinel = daemon(work, log)
    start(sentinel)
    pid = sentinel.pid
    samples: list[tuple[float, float, float, float]] = []  # t, rss MiB, cpu s, lines read
    began = time.monotonic()
    cpu0 = cpu_seconds(pid)
    written = 0
    next_sample = began
    per_tick = max(1, round(args.rate * TICK))
    try:
        with log.open("a") as out:
            while (now := time.monotonic()) - began < args.minutes * 60:
                moment = datetime.now().astimezone()
                out.write("".join(lines_for(written + i, moment, args.addresses) + "\n"
                                  for i in range(per_tick)))  # fmt: skip
                out.flush()
                written += per_tick
                if now >= next_sample:
                    read = sentinel.metric("sentinel_log_lines_total", source="vsftpd")
                    sample = (now - began, rss_mib(pid), cpu_seconds(pid) - cpu0, read)
                    samples.append(sample)
                    at, mib, used, got = sample
                    print(
                        f"t={at:5.0f}s rss={mib:6.1f} MiB cpu={used:7.1f} s"
                        f" read={got:.0f} written={written}",
                        flush=True,
                    )
                    next_sample += SAMPLE_EVERY
                time.sleep(max(0.0, began + (written / per_tick) * TICK - time.monotonic()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            read = sentinel.metric("sentinel_log_lines_total", source="vsftpd")
            if read >= written:
                break
            time.sleep(0.2)
        drained = time.monotonic() - began - args.minutes * 60
        elapsed = time.monotonic() - began
        cpu = cpu_seconds(pid) - cpu0
        rss = [s[1] for s in samples] + [rss_mib(pid)]
        alerts = sentinel.metrics()
        assert sentinel.stop() == 0
    finally:
        sentinel.close()
    rate = written / (args.minutes * 60)
    print(f"lines written {written} at {rate:.0f}/s over {args.minutes} min; read {read:.0f}")
    print(f"caught up {drained:.1f} s after the writer stopped")
    print(f"RSS start {rss[0]:.1f} MiB, end {rss[-1]:.1f} MiB, max {max(rss):.1f} MiB")
    print(
        f"CPU {cpu:.1f} s in {elapsed:.0f} s:"
        f" {cpu / elapsed / (rate / 1000):.3f} CPU-s/s per 1k lines/s"
    )
    raised = {k[1]: v for k, v in alerts.items() if k[0] == "sentinel_alerts_total"}
    print(f"alerts: {raised}")
    print(f"work directory: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
