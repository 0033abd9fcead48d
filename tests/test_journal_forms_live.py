"""Live: sshd's captured lines through a real journal and `journalctl -o short-iso[-precise]`.

journalctl 252 prints `2026-12-01T20:09:03+0100 vm sshd[123]: ...` (no colon in the
offset); the pipeline must count from it what it counts from rsyslog's file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attempts_count import failures_counted, log_failures
from tests.realservers.journalprint import journal_print

CAPTURED = Path(__file__).parent / "samples" / "captured" / "openssh-forms"


@pytest.mark.parametrize("output", ["short-iso", "short-iso-precise", "short"])
def test_journalctl_lines_count_as_the_file_does(output: str, tmp_path: Path) -> None:
    source = CAPTURED / "methods.auth.rfc3339.log"
    lines = source.read_text(encoding="utf-8").splitlines()
    printed = journal_print(lines, tmp_path, output, "Europe/Paris")
    assert len(printed) == len(lines)
    if output.startswith("short-iso"):
        assert printed[0][19:24] in ("+0100", "+0200") or printed[0][26:31] in ("+0100", "+0200")
    expected = log_failures(source)
    assert expected
    assert failures_counted(printed) == expected
