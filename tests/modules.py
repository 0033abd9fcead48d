"""Which modules a sentinel command imports: start-up is a large part of a short command."""

from __future__ import annotations

import subprocess
import sys

PROBE = (
    "import contextlib, io, sys\n"
    "from sentinel.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    main(sys.argv[1:])\n"
    "print(' '.join(sorted(sys.modules)))\n"
)


def modules_loaded(*argv: str) -> set[str]:
    """The modules loaded once `sentinel ARGV...` has run, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())
