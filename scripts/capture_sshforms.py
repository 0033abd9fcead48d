"""Plays the sshd forms of tests/realservers/sshforms.py and saves the logs, unmodified.

Usage (as root): .venv/bin/python scripts/capture_sshforms.py

Writes tests/samples/captured/openssh-forms/<play>.auth.log (rsyslog's traditional format)
and <play>.auth.rfc3339.log, and prints the guesses made and the failures to count.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.realservers.sshforms import PLAYS  # noqa: E402 -- needs the repo on sys.path first

OUT = REPO / "tests" / "samples" / "captured" / "openssh-forms"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, play in PLAYS.items():
        with tempfile.TemporaryDirectory(prefix=f"sentinel-capture-{name}-") as tmp:
            outcome = play(Path(tmp))
            for log, path in outcome.logs.items():
                shutil.copyfile(path, OUT / f"{name}.{log}")
        print(name, "guesses", outcome.guesses, "to count", outcome.expected)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
