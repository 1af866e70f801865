"""The heap of a long-running process: what start-up built, kept out of the collector's way.

Python's full (oldest-generation) collection walks every tracked object. In ``entente serve``
most of them are what start-up made and keeps for the life of the process (modules, the app's
routes and schemas, SQLAlchemy's mappers): under the write bench a full collection came about
every half minute and stopped every request for about 110 ms, enough to double the slowest 1 %
of a round's latencies. Frozen, those objects are skipped (the collection took about 8 ms); the
collector still collects everything made later.
"""

from __future__ import annotations

import gc


def freeze_startup() -> None:
    """Collect start-up's garbage (so none of it is kept for good), then freeze the rest."""
    gc.collect()
    gc.freeze()
