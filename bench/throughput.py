"""Replay throughput: `sentinel replay --json` beside the floor (wc -l, Python's line loop).

Generates (once, seeded) a 1M-line vsftpd log under bench/data/, measures each reader on the
same file in the same run, prints a table of lines/s and ratios, and writes the table to
bench/RESULTS.md. Run: `.venv/bin/python bench/throughput.py [--lines N]`.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def ensure_log(lines: int) -> Path:
    path = DATA / f"vsftpd-{lines}.log"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(path), "--lines", str(lines)],
            check=True,
        )
    return path


def timed(run: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def python_loop(path: Path) -> int:
    count = 0
    with path.open("rb") as stream:
        for _ in stream:
            count += 1
    return count


def child_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    log = ensure_log(args.lines)
    sentinel = [sys.executable, "-m", "sentinel", "replay", "--json", "--format", "vsftpd"]
    rows: list[tuple[str, float]] = [
        ("wc -l", timed(lambda: subprocess.run(["wc", "-l", str(log)], capture_output=True))),
        ("python `for line in open(f, 'rb')`", timed(lambda: python_loop(log))),
    ]
    alerts = 0

    def replay() -> None:
        nonlocal alerts
        done = subprocess.run([*sentinel, str(log)], capture_output=True, check=True)
        alerts = done.stdout.count(b"\n")

    rows.append(("sentinel replay --json (all rules)", timed(replay)))
    rss = child_peak_rss_mb()
    floor = rows[1][1]
    table = [
        "| reader | seconds | lines/s | x python loop |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in rows:
        table.append(
            f"| {name} | {seconds:.3f} | {args.lines / seconds:,.0f} | {seconds / floor:.1f} |"
        )
    report = "\n".join(
        [
            f"## Replay throughput, {args.lines:,} generated vsftpd lines ({log.stat().st_size >> 20} MiB)",
            "",
            *table,
            "",
            f"sentinel raised {alerts} alerts; peak RSS of the child processes {rss:.0f} MB.",
            "Best of 3 runs each, same file, same machine, same run.",
        ]
    )
    print(report)
    if not args.no_write:
        (HERE / "RESULTS.md").write_text("# Benchmark results\n\n" + report + "\n")


if __name__ == "__main__":
    main()
