"""Start-up's heap is frozen for the collector, and its garbage is not kept."""

from __future__ import annotations

import gc
import weakref

from service import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_start_up_garbage_is_collected_and_the_rest_frozen():
    kept, dropped = Node(), Node()
    assert any(each is kept for each in gc.get_objects())  # walked by every full collection
    dropped_ref = weakref.ref(dropped)
    del dropped
    try:
        heap.freeze_startup()
        assert dropped_ref() is None  # collected, not frozen for the life of the process
        assert gc.get_freeze_count() > 0
        assert not any(each is kept for each in gc.get_objects())  # no generation walks it
    finally:
        gc.unfreeze()
