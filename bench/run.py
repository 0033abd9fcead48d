"""The performance benchmarks of sentinel, in one command, on the same files in the same run.

Run: `.venv/bin/python bench/run.py` (the full run: 1M lines per format, a 1M-address flood,
a 200k-file tree; about 10 minutes on a 2-core machine, plus about 1.5 minutes the first
time to generate the data under bench/data/). `--quick`: 100k lines, a 100k-address flood,
a 20k-file tree, one run each (about 1 minute).

Measured, each in its own child process (wall time; CPU time and peak RSS from wait4: the
tool's own ru_maxrss, through GNU time, see run_once):
- the floor: `wc -l` and Python's `for line in open(f, 'rb')` loop;
- `sentinel replay --json --format F` with every rule on (bench/sentinel.yaml) on vsftpd.log,
  xferlog, an OpenSSH auth.log and a mixed auth.log (bench/generate.py);
- `fail2ban-regex` with Debian's vsftpd and sshd filters on the same files (matched count);
- `mtail --one_shot` with bench/mtail/vsftpd.mtail (logins, transfers, bytes) on vsftpd.log;
- the peak RSS of `sentinel replay` on the flood (1M failed logins from 1M addresses in 4 min);
- `sentinel scan --json DIR` beside `find DIR -mtime +7` on the generated tree, and the same
  scan configured to ask find's question (max_age 7d, contents not inspected).
Live latency and idle CPU of `sentinel run` are bench/latency.py's, the comparison with an
earlier commit bench/against.py's: their sections of bench/RESULTS.md are kept. Prints the
tables and writes them to bench/RESULTS.md with the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from corpus import make_corpus  # noqa: E402
from generate import write_log  # noqa: E402 (bench/ is not a package: path set just above)
from tree import make_tree  # noqa: E402

DATA = HERE / "data"
OUT = DATA / "out"
SNAPSHOT = DATA / "snapshot"  # the sentinel package measured, copied at the start of the run
CONFIG = HERE / "sentinel.yaml"
FILTERS = Path("/etc/fail2ban/filter.d")
SENTINEL = [sys.executable, "-m", "sentinel"]
LOOP = "import sys\nn = 0\nfor line in open(sys.argv[1], 'rb'):\n    n += 1\nprint(n)\n"
TIME = "/usr/bin/time"  # GNU time (Debian package "time")
LATENCY = ("<!-- latency:start -->", "<!-- latency:end -->")  # bench/latency.py's section
REPORT = ("<!-- report:start -->", "<!-- report:end -->")  # bench/report.py's section
FLEET = ("<!-- fleet:start -->", "<!-- fleet:end -->")  # bench/fleet.py's section
AGAINST = ("<!-- against:start -->", "<!-- against:end -->")  # bench/against.py's section
CHILD_LIMIT = 900.0  # seconds: a child still running then is killed (bounded run)
# log under test -> (sentinel's --format, fail2ban filter or None)
LOGS = {
    "vsftpd": ("vsftpd", "vsftpd"),
    "xferlog": ("xferlog", None),
    "openssh": ("openssh", "sshd"),
    "mixed": ("openssh", "sshd"),
}


@dataclass(frozen=True, slots=True)
class Measure:
    """One child process: best wall time of the runs, its CPU time and the highest peak RSS."""

    seconds: float
    cpu: float
    rss_mb: float
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class Row:
    tool: str
    target: str  # the file or tree measured
    items: int  # lines (or files)
    measure: Measure
    found: str  # what the tool reported: matched lines, alerts, ...


@dataclass(frozen=True, slots=True)
class Goal:
    what: str
    value: float
    bound: float
    at_least: bool  # value must be >= bound (else <=)
    unit: str

    @property
    def met(self) -> bool:
        return self.value >= self.bound if self.at_least else self.value <= self.bound


def run_once(argv: Sequence[str], name: str) -> tuple[float, float, float, str, str]:
    """Run one child; its stdout and stderr go to files under bench/data/out/."""
    OUT.mkdir(parents=True, exist_ok=True)
    out_path, err_path = OUT / f"{name}.out", OUT / f"{name}.err"
    rss_path = OUT / f"{name}.rss"
    env = {k: v for k, v in os.environ.items() if k != "SENTINEL_CONFIG"}
    env["PYTHONPATH"] = str(SNAPSHOT)  # ahead of the editable install of the working tree
    # Linux carries the peak RSS of the pre-exec image over exec, so a child spawned straight
    # from this (larger) process would report at least our size: GNU time forks the tool from
    # its own small image and reports the tool's ru_maxrss (from wait4) alone.
    timed = [TIME, "-f", "%M", "-o", str(rss_path), *argv]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        # cwd: `python -m` puts the current directory first on sys.path, ahead of PYTHONPATH
        child = subprocess.Popen(
            timed, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=OUT
        )
        killer = threading.Timer(CHILD_LIMIT, child.kill)  # our own child, by its handle
        killer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {child.returncode}: {stderr[-2000:]}")
    cpu = usage.ru_utime + usage.ru_stime  # GNU time's and the tool's: time's is negligible
    return seconds, cpu, int(rss_path.read_text().split()[-1]) / 1024, stdout, stderr


def measure(argv: Sequence[str], name: str, repeat: int) -> Measure:
    """Best of `repeat` runs for the time; the highest peak RSS of them."""
    runs = [run_once(argv, name) for _ in range(max(repeat, 1))]
    best = min(runs, key=lambda r: r[0])
    return Measure(best[0], best[1], max(r[2] for r in runs), best[3], best[4])


def sentinel_found(m: Measure) -> str:
    alerts = m.stdout.count("\n")
    summary = re.search(r"(\d+) lines, (\d+) without an event", m.stderr)
    if summary is None:
        return f"{alerts} alerts"
    events = int(summary[1]) - int(summary[2])
    return f"{alerts} alerts, {events} events"


def fail2ban_found(m: Measure) -> tuple[int, str]:
    lines = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", m.stdout)
    if lines is None:
        raise RuntimeError(f"fail2ban-regex printed no summary: {m.stdout[-1000:]}")
    return int(lines[3]), f"{lines[3]} matched, {lines[2]} ignored"


def mtail_found(m: Measure) -> str:
    metrics = json.loads(m.stdout)

    def total(name: str) -> int:
        return sum(
            int(v["Value"]["Value"]) for e in metrics.get(name, []) for v in e["LabelValues"]
        )

    logins, files = total("vsftpd_logins_total"), total("vsftpd_transfers_total")
    gib = total("vsftpd_transfer_bytes_total") / (1 << 30)
    return f"{logins} logins, {files} transfers, {gib:,.0f} GiB"


def bench_log(name: str, path: Path, lines: int, repeat: int) -> list[Row]:
    fmt, jail = LOGS[name]
    label = path.name
    rows = []
    wc = measure(["wc", "-l", str(path)], f"wc-{name}", repeat + 1)
    counted = int(wc.stdout.split()[0])
    if counted != lines:
        raise RuntimeError(f"{path}: {counted} lines, expected {lines}")
    rows.append(Row("wc -l", label, lines, wc, f"{counted} lines"))
    loop = measure([sys.executable, "-c", LOOP, str(path)], f"loop-{name}", repeat + 1)
    rows.append(Row("python line loop", label, lines, loop, f"{loop.stdout.strip()} lines"))
    argv = [*SENTINEL, "replay", "-c", str(CONFIG), "--json", "--format", fmt, str(path)]
    replay = measure(argv, f"sentinel-{name}", repeat)
    rows.append(Row("sentinel replay", label, lines, replay, sentinel_found(replay)))
    if jail is not None:
        argv = ["fail2ban-regex", "-r", "--print-no-missed", "--print-no-ignored"]
        f2b = measure([*argv, str(path), str(FILTERS / f"{jail}.conf")], f"f2b-{name}", repeat)
        matched, found = fail2ban_found(f2b)
        if matched == 0:
            raise RuntimeError(f"fail2ban-regex {jail} matched nothing in {path}")
        rows.append(Row(f"fail2ban-regex ({jail})", label, lines, f2b, found))
    if name == "vsftpd":
        argv = ["mtail", "--one_shot", "--one_shot_format", "json", "--progs", str(HERE / "mtail")]
        # even --one_shot opens its HTTP listener: keep it on loopback, on a free port
        argv += ["--address", "127.0.0.1", "--port", "0", "--logtostderr", "--logs", str(path)]
        mtail = measure(argv, "mtail-vsftpd", repeat)
        rows.append(Row("mtail --one_shot", label, lines, mtail, mtail_found(mtail)))
    return rows


def bench_flood(path: Path, lines: int) -> Row:
    argv = [*SENTINEL, "replay", "-c", str(CONFIG), "--json", "--format", "openssh", str(path)]
    m = measure(argv, "sentinel-flood", 1)
    return Row("sentinel replay", path.name, lines, m, sentinel_found(m))


def bench_scan(tree: Path, files: int, repeat: int) -> list[Row]:
    subprocess.run(["find", str(tree), "-type", "f"], capture_output=True, check=True)  # warm
    find = measure(["find", str(tree), "-mtime", "+7"], "find", repeat + 1)
    rows = [Row("find -mtime +7", tree.name, files, find, f"{find.stdout.count(chr(10))} paths")]
    if not (SNAPSHOT / "sentinel" / "commands" / "scan.py").exists():
        return rows
    # one more run than asked: the first reads the files' contents into the page cache
    scan = measure([*SENTINEL, "scan", "--json", str(tree)], "sentinel-scan", repeat + 1)
    rows.append(Row("sentinel scan --json", tree.name, files, scan, scan_found(scan)))
    # the same question as find's: stale after 7 days by mtime, contents not inspected
    config = DATA / f"scan-{tree.name}.yaml"
    config.write_text(f"directories:\n  - {{path: {tree}, max_age: 7d, inspect: false}}\n")
    argv = [*SENTINEL, "scan", "-c", str(config), "--json", str(tree)]
    bare = measure(argv, "sentinel-scan-7d", repeat)
    rows.append(
        Row("sentinel scan --json (7d, no inspect)", tree.name, files, bare, scan_found(bare))
    )
    return rows


def bench_inspect(root: Path, megabytes: int, repeat: int) -> list[Row]:
    """`sentinel scan --json` on one file of each kind of bench/corpus.py: content reading.

    Row.items holds the file's bytes."""
    rows = []
    for kind, path in make_corpus(root, megabytes).items():
        m = measure([*SENTINEL, "scan", "--json", str(path.parent)], f"inspect-{kind}", repeat)
        rows.append(Row("sentinel scan --json", kind, path.stat().st_size, m, scan_found(m)))
    return rows


def scan_found(m: Measure) -> str:
    alerts = [json.loads(line) for line in m.stdout.splitlines() if line.strip()]
    stale = sum(int(a.get("count", 1)) for a in alerts if a.get("rule") == "stale_file")
    personal = sum(
        int(a.get("count", 0)) for a in alerts if a.get("rule") == "unencrypted_personal_data"
    )
    found = f"{len(alerts)} alerts, {stale} stale files"
    return found + (f", {personal} identifiers" if personal else "")


def snapshot(tries: int = 12) -> str:
    """Copy the sentinel package aside, so that edits made during the run do not change it.

    Others edit the working tree while we measure: a copy that does not compile or import
    (a file caught mid-edit) is taken again a little later.
    """
    probe = [sys.executable, "-c", "import sentinel.commands.replay, sentinel.commands.scan"]
    env = {**os.environ, "PYTHONPATH": str(SNAPSHOT)}
    for _ in range(tries):
        shutil.rmtree(SNAPSHOT, ignore_errors=True)
        shutil.copytree(
            ROOT / "sentinel", SNAPSHOT / "sentinel", ignore=shutil.ignore_patterns("__pycache__")
        )
        taken = f"{datetime.now(UTC):%H:%M:%S} UTC"
        compiled = subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(SNAPSHOT)],
            capture_output=True,
            check=False,
        )
        imported = subprocess.run(probe, capture_output=True, env=env, cwd=SNAPSHOT, check=False)
        if compiled.returncode == 0 and imported.returncode == 0:
            return taken
        time.sleep(5)
    raise SystemExit("sentinel/ does not compile or import: nothing to measure")


def ratio(rows: list[Row], tool: str, target: str) -> float:
    """How many times longer `tool` took than sentinel replay on the same file."""
    by = {(r.tool, r.target): r.measure.seconds for r in rows}
    return by[(tool, target)] / by[("sentinel replay", target)]


def goals(rows: list[Row], names: dict[str, str], flood: Row, scan: list[Row]) -> list[Goal]:
    v, o, x = names["vsftpd"], names["openssh"], names["mixed"]
    found = [
        Goal(f"sentinel >= 20x fail2ban-regex (vsftpd) on {v}",
             ratio(rows, "fail2ban-regex (vsftpd)", v), 20, True, "x"),
        Goal(f"sentinel >= 7x mtail on {v}", ratio(rows, "mtail --one_shot", v), 7, True, "x"),
        Goal(f"sentinel >= 10x fail2ban-regex (sshd) on {o}",
             ratio(rows, "fail2ban-regex (sshd)", o), 10, True, "x"),
        Goal(f"sentinel >= 10x fail2ban-regex (sshd) on {x}",
             ratio(rows, "fail2ban-regex (sshd)", x), 10, True, "x"),
        Goal(f"peak RSS of sentinel replay on {flood.target} <= 150 MB",
             flood.measure.rss_mb, 150, False, " MB"),
    ]  # fmt: skip
    for row in scan[1:]:
        slower = row.measure.seconds / scan[0].measure.seconds
        found.append(Goal(f"{row.tool} <= 1.5x find (time)", slower, 1.5, False, "x"))
    return found


def render(rows: list[Row], flood: Row, scan: list[Row], met: list[Goal]) -> list[str]:
    lines = [
        "| tool | file | lines | seconds | lines/s | CPU s | peak RSS MB | vs sentinel | found |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        m = row.measure
        times = f"{ratio(rows, row.tool, row.target):.2f}"
        lines.append(
            f"| {row.tool} | {row.target} | {row.items:,} | {m.seconds:.2f} | "
            f"{row.items / m.seconds:,.0f} | {m.cpu:.2f} | {m.rss_mb:.0f} | {times} | {row.found} |"
        )
    m = flood.measure
    lines += [
        "",
        "Memory bound: the flood (failed logins for invalid users, each from its own address).",
        "",
        "| tool | file | lines | seconds | lines/s | peak RSS MB | found |",
        "|---|---|---:|---:|---:|---:|---|",
        f"| {flood.tool} | {flood.target} | {flood.items:,} | {m.seconds:.2f} | "
        f"{flood.items / m.seconds:,.0f} | {m.rss_mb:.0f} | {flood.found} |",
        "",
        "Directory scan:",
        "",
        "| tool | tree | files | seconds | files/s | CPU s | peak RSS MB | vs find | found |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in scan:
        m, base = row.measure, scan[0].measure.seconds
        lines.append(
            f"| {row.tool} | {row.target} | {row.items:,} | {m.seconds:.2f} | "
            f"{row.items / m.seconds:,.0f} | {m.cpu:.2f} | {m.rss_mb:.0f} | "
            f"{m.seconds / base:.2f} | {row.found} |"
        )
    if len(scan) < 2:
        lines.append("| sentinel scan --json | - | - | not measured: no `sentinel scan` yet |")
    lines += ["", "Targets:", "", "| target | measured | met |", "|---|---:|---|"]
    lines += [
        f"| {g.what} | {g.value:.2f}{g.unit} | {'met' if g.met else 'NOT met'} |" for g in met
    ]
    return lines


def render_inspect(rows: list[Row]) -> list[str]:
    lines = [
        "Inspection of contents (one file of each kind of bench/corpus.py, whole-process time:",
        "interpreter start, about 0.1 s, included):",
        "",
        "| tool | file | MB | seconds | MB/s | CPU s | peak RSS MB | found |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        m, mb = row.measure, row.items / 1e6
        lines.append(
            f"| {row.tool} | {row.target} | {mb:.0f} | {m.seconds:.2f} | {mb / m.seconds:.1f} | "
            f"{m.cpu:.2f} | {m.rss_mb:.0f} | {row.found} |"
        )
    return lines


def machine(taken: str) -> list[str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.partition(":")[2].strip()
            break
    memory = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]

    def version(argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} CPUs (nproc), {cpu}, {int(memory) >> 10} MiB RAM,"
        f" Linux {platform.release()}",
        f"- Python {platform.python_version()}; sentinel: commit {commit} and the working tree"
        f" as copied at {taken} (bench/data/snapshot)",
        f"- {version(['fail2ban-regex', '--version'])}; {version(['mtail', '--version'])}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k lines, one run each")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measure (best kept)")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    lines, files = (100_000, 20_000) if args.quick else (1_000_000, 200_000)
    repeat = args.repeat or (1 if args.quick else 2)
    for tool in ("wc", "find", "fail2ban-regex", "mtail", TIME):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")
    started = time.monotonic()
    taken = snapshot()
    paths = {name: DATA / f"{name}-{lines}.log" for name in LOGS}
    for name, path in paths.items():
        write_log(name, path, lines)
    flood_path = write_log("flood", DATA / f"flood-{lines}.log", lines)
    tree = DATA / f"tree-{files}"
    make_tree(tree, files)
    print(f"data ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
    rows: list[Row] = []
    for name, path in paths.items():
        rows += bench_log(name, path, lines, repeat)
        print(f"{name} done at {time.monotonic() - started:.0f} s", file=sys.stderr)
    flood = bench_flood(flood_path, lines)
    scan = bench_scan(tree, files, repeat)
    inspect = bench_inspect(DATA / "corpus", 8 if args.quick else 64, repeat)
    names = {name: path.name for name, path in paths.items()}
    met = goals(rows, names, flood, scan)
    elapsed = time.monotonic() - started
    report = [
        f"# Benchmark results ({'quick' if args.quick else 'full'} run)",
        "",
        *machine(taken),
        f"- `.venv/bin/python bench/run.py{' --quick' if args.quick else ''}`: best of {repeat}"
        f" run(s) per measure (floor and find: {repeat + 1}); the whole run took {elapsed:.0f} s",
        "",
        *render(rows, flood, scan, met),
        "",
        *render_inspect(inspect),
        "",
        *NOTES,
    ]
    print("\n".join(report))
    if not args.no_write:
        write_results(HERE / "RESULTS.md", "\n".join(report) + "\n")


def write_results(path: Path, report: str) -> None:
    """Our report, keeping the sections bench/latency.py, report.py and fleet.py keep in it."""
    text = path.read_text() if path.exists() else ""
    for first, last in (LATENCY, REPORT, FLEET, AGAINST):
        start, end = text.find(first), text.find(last)
        if 0 <= start < end:
            report += "\n" + text[start : end + len(last)] + "\n"
    path.write_text(report)


NOTES = [
    "Notes:",
    "",
    "- seconds: wall time of the child process, from spawn to exit (interpreter start included);",
    "  CPU s: its user + system time (os.wait4); peak RSS: its own ru_maxrss (wait4, through",
    "  GNU time: Linux carries a parent's peak over exec, so a direct child of the bench",
    "  would report at least the bench's size).",
    "- vs sentinel: the tool's seconds / sentinel replay's seconds on the same file (above 1:",
    "  sentinel is faster). For the scan, sentinel's seconds / find's.",
    "- sentinel replay: `--json`, every rule on (bench/sentinel.yaml); alerts are written to a",
    "  file and counted. fail2ban-regex: `-r --print-no-missed --print-no-ignored` with",
    "  /etc/fail2ban/filter.d/{vsftpd,sshd}.conf. mtail: bench/mtail/vsftpd.mtail.",
    "- `sentinel scan --json TREE` runs on its built-in defaults for a directory named on the",
    "  command line (stale after 30 days, every file read for personal data); the",
    "  `(7d, no inspect)` row asks find's question (a config: max_age 7d, inspect: false).",
    "- Logs: bench/generate.py (seed 2021), shapes copied from tests/samples/captured/;",
    "  the tree: bench/tree.py. Both under bench/data/ (git-ignored), generated once.",
    "- Not measured here: live latency and idle CPU of `sentinel run` (bench/latency.py, below).",
]


if __name__ == "__main__":
    main()
