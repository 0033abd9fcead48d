"""DirectoryWatcher: real inotify events, settled files reported once, one lifecycle."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sentinel.config.model import DirectoryConfig
from sentinel.sources.watch import DirectoryWatcher


def test_settled_uploads_reported_and_links_ignored(tmp_path: Path) -> None:
    seen: list[str] = []
    arrived = threading.Event()

    def settled(directory: DirectoryConfig, rels: list[str]) -> None:
        assert directory.path == tmp_path
        seen.extend(rels)
        arrived.set()

    watcher = DirectoryWatcher([DirectoryConfig(path=tmp_path)], settled, quiet=0.3, poll=0.05)
    watcher.start()
    try:
        (tmp_path / "sub").mkdir()
        with (tmp_path / "sub" / "upload.csv").open("w") as handle:
            handle.write("partial")
            handle.flush()
            time.sleep(0.1)  # the writer is still at work: nothing may be reported yet
            assert not seen
            handle.write(" and the rest\n")
        (tmp_path / "link").symlink_to("/etc/passwd")
        assert arrived.wait(5.0)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and len(seen) < 2:
            time.sleep(0.05)
        assert seen == ["sub/upload.csv"]
    finally:
        watcher.stop()
        watcher.join(5.0)
