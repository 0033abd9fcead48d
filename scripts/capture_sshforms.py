"""Plays the sshd forms of tests/realservers/sshforms.py and saves the logs, unmodified.

Usage (as root): .venv/bin/python scripts/capture_sshforms.py

Writes tests/samples/captured/openssh-forms/<play>.auth.log (rsyslog's traditional format)
and <play>.auth.rfc3339.log, then methods.journal.<output>.log: the methods play's lines
through a real journal file and `journalctl -o short-iso` / `short-iso-precise` (TZ
Europe/Paris); and prints the guesses made and the failures to count.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.realservers.journalprint import journal_print  # noqa: E402 -- repo on sys.path first
from tests.realservers.sshforms import PLAYS  # noqa: E402

OUT = REPO / "tests" / "samples" / "captured" / "openssh-forms"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, play in PLAYS.items():
        with tempfile.TemporaryDirectory(prefix=f"sentinel-capture-{name}-") as tmp:
            outcome = play(Path(tmp))
            for log, path in outcome.logs.items():
                shutil.copyfile(path, OUT / f"{name}.{log}")
        print(name, "guesses", outcome.guesses, "to count", outcome.expected)
    lines = (OUT / "methods.auth.rfc3339.log").read_text(encoding="utf-8").splitlines()
    for output in ("short-iso", "short-iso-precise"):
        with tempfile.TemporaryDirectory(prefix="sentinel-capture-journal-") as tmp:
            printed = journal_print(lines, Path(tmp), output, "Europe/Paris")
        (OUT / f"methods.journal.{output}.log").write_text("\n".join(printed) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
