"""Runs the capture scenario on real servers and saves the logs they really wrote, unmodified.

Usage (as root): .venv/bin/python scripts/capture_samples.py [vsftpd|proftpd|pureftpd|openssh ...]

Writes tests/samples/captured/<server>/<log> for every log the server (or its private
rsyslogd) wrote, tests/samples/scenario/<server>.log (a copy of the log with the logins) and
tests/samples/scenario/<server>.expected.json (the incidents the scenario produced).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.realservers import scenario  # noqa: E402 -- needs the repo on sys.path first
from tests.realservers.servers import STARTERS  # noqa: E402

CAPTURED = REPO / "tests" / "samples" / "captured"
SCENARIO = REPO / "tests" / "samples" / "scenario"


def capture(kind: str) -> None:
    """Plays the scenario on one server and copies its logs into the samples tree."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"sentinel-capture-{kind}-") as tmp:
        workdir = Path(tmp)
        with STARTERS[kind](workdir) as server:
            expected = scenario.run(server, tag="capture")
            server.wait_idle()
            logs, main_log = dict(server.logs), server.main_log
        # the servers and rsyslogd have stopped (and flushed): the logs are final
        out = CAPTURED / kind
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for name, path in logs.items():
            shutil.copyfile(path, out / name)
        SCENARIO.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(logs[main_log], SCENARIO / f"{kind}.log")
        text = json.dumps(expected, indent=2) + "\n"
        (SCENARIO / f"{kind}.expected.json").write_text(text)
    lines = {name: len((out / name).read_text().splitlines()) for name in logs}
    print(f"{kind}: {time.monotonic() - started:.1f}s, lines {lines}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("servers", nargs="*", help=f"some of {', '.join(STARTERS)} (default: all)")
    args = parser.parse_args()
    unknown = set(args.servers) - set(STARTERS)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    for kind in args.servers or list(STARTERS):
        capture(kind)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
