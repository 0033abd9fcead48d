"""What `sentinel report` costs beside `sentinel replay` on the same log (target: <= 1.3x).

Run: `.venv/bin/python bench/report.py` (1M lines of bench/generate.py's vsftpd.log, best
of 2 each; `--quick`: 100k lines, 1 run). Both read the log through the same pipeline; the
report also counts lines per hour, draws the timeline (matplotlib) and writes one HTML page
(and, measured too, the JSON). With bench/sentinel.yaml: every rule on, so the 1M-line log
has tens of thousands of incidents. Same snapshot and child measure as bench/run.py. Prints
a table and replaces the "Report" section of bench/RESULTS.md (between report markers).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import write_log  # noqa: E402 (bench/ is not a package: path set just above)
from run import (  # noqa: E402
    CONFIG,
    DATA,
    OUT,
    REPORT,
    SENTINEL,
    Measure,
    machine,
    measure,
    snapshot,
)

MARKERS = REPORT
TARGET = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100k lines, one run each")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    lines = 100_000 if args.quick else 1_000_000
    repeat = 1 if args.quick else 2
    taken = snapshot()
    log = write_log("vsftpd", DATA / f"vsftpd-{lines}.log", lines)
    base = [*SENTINEL, "--log-format", "text"]
    replay = measure(
        [*base, "replay", "-c", str(CONFIG), "--json", "--format", "vsftpd", str(log)],
        "replay",
        repeat,
    )
    runs: dict[str, Measure] = {"sentinel replay --json": replay}
    for fmt in ("html", "json"):
        out = OUT / f"report.{fmt}"
        argv = [*base, "report", "-c", str(CONFIG), "--format", fmt, "-o", str(out), str(log)]
        runs[f"sentinel report --format {fmt}"] = measure(argv, f"report-{fmt}", repeat)
    rows = [
        "## Report",
        "",
        *machine(taken),
        f"- `.venv/bin/python bench/report.py{' --quick' if args.quick else ''}`: best of {repeat}",
        "",
        "| command | file | lines | seconds | CPU s | peak RSS MB | vs replay (wall) "
        "| vs replay (CPU) | target (CPU) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, m in runs.items():
        wall, cpu = m.seconds / replay.seconds, m.cpu / replay.cpu
        met = "met" if cpu <= TARGET else "MISSED"
        target = "" if m is replay else f"{met} (<= {TARGET}x)"
        rows.append(
            f"| {name} | {log.name} | {lines:,} | {m.seconds:.2f} | {m.cpu:.2f} "
            f"| {m.rss_mb:.0f} | {wall:.2f} | {cpu:.2f} | {target} |"
        )
    incidents = runs["sentinel report --format html"].stderr.strip().splitlines()[-1]
    rows += [
        "",
        f"The report: {incidents.removeprefix('sentinel: ')}. The target is judged on CPU time"
        " (user + system of the child): the machine is shared, and wall time grows with the"
        " other load (wall and CPU seconds of one run differ by up to 3x here).",
    ]
    text = "\n".join(rows)
    print(text)
    if not args.no_write:
        write_section(HERE / "RESULTS.md", text)


def write_section(path: Path, section: str) -> None:
    """Our section between its markers, the rest of the file kept."""
    text = path.read_text() if path.exists() else ""
    block = f"{MARKERS[0]}\n{section}\n{MARKERS[1]}"
    start, end = text.find(MARKERS[0]), text.find(MARKERS[1])
    if 0 <= start < end:
        text = text[:start] + block + text[end + len(MARKERS[1]) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
