"""Replay throughput of the working tree against an earlier commit, measured in one run.

Run: `.venv/bin/python bench/against.py REV` (e.g. the commit an issue was filed at).
`REV`'s sentinel package is taken with `git archive` into bench/data/against-<rev>/, the
working tree's is copied as bench/run.py copies it; both replay the same generated logs
(bench/generate.py: vsftpd.log, xferlog, an OpenSSH auth.log, a mixed auth.log and the
flood) with every rule on (bench/sentinel.yaml), in turns (a, b, a, b, ...), so that
what the machine does meanwhile weighs on both alike. Prints, per log, the best wall and
CPU time of each, the peak RSS, the records written, and the ratio of the working tree's
CPU time to REV's (above 1: slower now): of the two bests, and the median of each turn's.

`--instructions N` also counts the instructions of each replay of the first N lines under
valgrind's callgrind, with the bytecode compiled beforehand and a fixed hash seed: the same
count every time for the same code and input, whatever else the machine is doing (a shared
machine's wall times vary by 10 to 30% from one run to the next). The count of a replay of
an empty file (start-up: imports, configuration) is given apart, and the per-line ratio is
taken without it.

Writes its tables to bench/RESULTS.md between `<!-- against:start -->` and
`<!-- against:end -->` (bench/run.py keeps that section), unless `--no-write`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import write_log  # noqa: E402 (bench/ is not a package: path set just above)
from run import AGAINST, CONFIG, DATA, SNAPSHOT, TIME, snapshot  # noqa: E402

LOGS = {"vsftpd": "vsftpd", "xferlog": "xferlog", "openssh": "openssh", "mixed": "openssh"}
FLOOD = "flood"
CHILD_LIMIT = 900.0  # seconds: a child still running then is killed (bounded run)


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    cpu: float
    rss_mb: float
    records: int


def take(rev: str) -> tuple[str, Path]:
    """REV's sentinel package, compiled, under bench/data/against-<short rev>/."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{rev}: not a commit of this repository")
    short = done.stdout.strip()
    target = DATA / f"against-{short}"
    if not (target / "sentinel" / "__init__.py").exists():
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", short, "sentinel"],
            capture_output=True,
            check=True,
        ).stdout
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(target)], check=True)
    return short, target


def _env(package: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SENTINEL_CONFIG", "PYTHONPATH")}
    env["PYTHONPATH"] = str(package)  # ahead of the editable install of the working tree
    env["PYTHONHASHSEED"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _argv(fmt: str, log: Path) -> list[str]:
    replay = ["replay", "-c", str(CONFIG), "--json", "--format", fmt, str(log)]
    return [sys.executable, "-m", "sentinel", *replay]


def replay(package: Path, fmt: str, log: Path, name: str) -> Run:
    """One replay, timed by GNU time in a child (its own peak RSS, see bench/run.py)."""
    out_dir = DATA / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    out, rss = out_dir / f"against-{name}.out", out_dir / f"against-{name}.rss"
    timed = [TIME, "-f", "%M", "-o", str(rss), *_argv(fmt, log)]
    with out.open("wb") as stdout:
        start = time.perf_counter()
        child = subprocess.Popen(  # cwd: `python -m` puts it first on sys.path
            timed, stdout=stdout, stderr=subprocess.DEVNULL, env=_env(package), cwd=package
        )
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()  # our own child, by its handle
            raise
        seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(timed)} failed (package {package})")
    records = out.read_bytes().count(b"\n")
    peak = int(rss.read_text().split()[-1]) / 1024
    return Run(seconds, usage.ru_utime + usage.ru_stime, peak, records)


def best(runs: list[Run]) -> Run:
    fastest = min(runs, key=lambda r: r.seconds)
    return Run(
        fastest.seconds, min(r.cpu for r in runs), max(r.rss_mb for r in runs), fastest.records
    )


def instructions(package: Path, fmt: str, log: Path) -> int:
    """Instructions of one replay under callgrind (after one run that warms the caches)."""
    argv = _argv(fmt, log)
    env = _env(package)
    subprocess.run(argv, env=env, cwd=package, capture_output=True, check=True, timeout=900)
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        env=env,
        cwd=package,
        capture_output=True,
        text=True,
        check=True,
        timeout=CHILD_LIMIT,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count: {done.stderr[-500:]}")
    return int(found[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="the commit to measure against")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per log")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, in turns")
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="N",
        help="count instructions of replays of the first N lines (callgrind)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()  # fmt: skip
    started = time.monotonic()
    taken = snapshot()
    short, theirs = take(args.rev)
    logs = {name: (fmt, DATA / f"{name}-{args.lines}.log") for name, fmt in LOGS.items()}
    for name, (_, path) in logs.items():
        write_log(name, path, args.lines)
    logs[FLOOD] = ("openssh", write_log(FLOOD, DATA / f"{FLOOD}-{args.lines}.log", args.lines))
    lines = [
        f"Replay against commit {short}, in the same run "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs; working tree as "
        f"copied at {taken}; `bench/against.py {args.rev} --lines {args.lines} --repeat "
        f"{args.repeat}{f' --instructions {args.instructions}' if args.instructions else ''}`):",
        "",
        f"| log | lines | {short} s | now s | {short} CPU s | now CPU s | now / {short} (CPU) "
        f"| median of the turns' now / {short} (CPU) | {short} MB | now MB "
        f"| records {short} / now |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, (fmt, path) in logs.items():
        mine: list[Run] = []
        before: list[Run] = []
        for _ in range(args.repeat):
            before.append(replay(theirs, fmt, path, f"{name}-{short}"))
            mine.append(replay(SNAPSHOT, fmt, path, f"{name}-now"))
        a, b = best(before), best(mine)
        # each turn's pair ran side by side in time: the median of their ratios is less
        # moved by a slow spell of the machine than the ratio of the two bests
        pairs = zip(before, mine, strict=True)
        paired = statistics.median(now.cpu / then.cpu for then, now in pairs)
        lines.append(
            f"| {path.name} | {args.lines:,} | {a.seconds:.2f} | {b.seconds:.2f} | {a.cpu:.2f} | "
            f"{b.cpu:.2f} | {b.cpu / a.cpu:.3f} | {paired:.3f} | {a.rss_mb:.0f} | "
            f"{b.rss_mb:.0f} | {a.records} / {b.records} |"
        )
        print(lines[-1], file=sys.stderr)
    if args.instructions:
        lines += instruction_table(short, theirs, logs, args.instructions)
    report = "\n".join(lines)
    print(report)
    print(f"done in {time.monotonic() - started:.0f} s", file=sys.stderr)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", report)


def instruction_table(
    short: str, theirs: Path, logs: dict[str, tuple[str, Path]], count: int
) -> list[str]:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    empty = DATA / "empty.log"
    empty.write_text("")
    start_a = instructions(theirs, "vsftpd", empty)
    start_b = instructions(SNAPSHOT, "vsftpd", empty)
    lines = [
        "",
        f"Instructions (callgrind) of a replay of the first {count:,} lines; start-up (a replay "
        f"of an empty file): {short} {start_a / 1e6:,.0f}M, now {start_b / 1e6:,.0f}M.",
        "",
        f"| log | {short} | now | now / {short} | per line, start-up aside: {short} | now "
        f"| now / {short} |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (fmt, path) in logs.items():
        head = DATA / f"{name}-head-{count}.log"
        with path.open("rb") as source, head.open("wb") as out:
            for _, line in zip(range(count), source, strict=False):
                out.write(line)
        a, b = instructions(theirs, fmt, head), instructions(SNAPSHOT, fmt, head)
        per_a, per_b = (a - start_a) / count, (b - start_b) / count
        lines.append(
            f"| {name} | {a / 1e6:,.0f}M | {b / 1e6:,.0f}M | {b / a:.3f} | {per_a:,.0f} | "
            f"{per_b:,.0f} | {per_b / per_a:.3f} |"
        )
        print(lines[-1], file=sys.stderr)
    return lines


def write_section(path: Path, report: str) -> None:
    first, last = AGAINST
    text = path.read_text() if path.exists() else ""
    section = f"{first}\n{report}\n{last}"
    start, end = text.find(first), text.find(last)
    if 0 <= start < end:
        text = text[:start] + section + text[end + len(last) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
