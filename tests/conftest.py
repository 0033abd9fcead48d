"""Shared test plumbing: every test must stop the threads it starts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.realservers.fixtures", "tests.podman"]

THREAD_GRACE = 5.0  # seconds a stopping thread may take to finish after the test


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fails a test that leaves behind a thread it started (STYLE: one lifecycle per thread)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE
    leaked: list[threading.Thread] = []
    while time.monotonic() < deadline:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        # asyncio's default executor threads of aiosmtpd's controller end on their own
        leaked = [t for t in leaked if not t.name.startswith("asyncio_")]
        if not leaked:
            return
        leaked[0].join(timeout=0.05)
    pytest.fail(f"test leaked threads: {[t.name for t in leaked]}")
