"""sentinel.heap: the collector set aside what is set up, and gives it back on a reload."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from sentinel.heap import GEN0, settle


class Node:
    """A cycle's member: only the collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settle_freezes_what_is_alive_and_spaces_the_young_collections() -> None:
    settle()
    assert gc.get_threshold()[0] == GEN0
    assert gc.get_freeze_count() > 0


def test_a_runtime_dropped_at_a_reload_is_collected_by_the_next_settle() -> None:
    old = Node()
    gone = weakref.ref(old)
    settle()  # the first runtime set up: frozen with it
    del old  # the reload drops it (a cycle: reference counting alone never frees it)
    gc.collect()
    assert gone() is not None  # frozen: the collector does not see it
    settle()  # the new runtime set up
    assert gone() is None
