"""``entente`` with the audit chain taken out, for measuring what the chain costs a write.

Bench only; the product has no such switch. ``python -m bench.unchained serve --port N`` runs the
real CLI after replacing ``service.journal.record`` (called by the unit of work right before
COMMIT) with one that inserts the same entries plainly: no ``audit_head`` lock, no read of the
tip, no hash, no move of the head. The canonical JSON stays (an entry's columns are generated from
it), and so does everything else (the outbox, the commit). The entries get numbers far above the
chain that the project server appends to on the same database, and a placeholder where the hashes
go.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from types import SimpleNamespace

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from service import journal
from service.audit.chain import canonical
from service.audit.models import AuditEntry
from service.audit.service import PendingEntry, RequestContext, new_entry
from service.events.service import PendingEvent

# Microseconds since the epoch: above the chain and above what an earlier run numbered.
NUMBERS = itertools.count(time.time_ns() // 1000)
chained_record = journal.record


async def record_unchained(
    connection: AsyncConnection,
    pending: Sequence[PendingEntry],
    events: Sequence[PendingEvent],
    context: RequestContext,
) -> None:
    rows = []
    for item in pending:
        item.resolve()
        seq = next(NUMBERS)
        text = canonical(SimpleNamespace(**new_entry(seq, item, context))).decode()
        rows.append(
            {"seq": seq, "prev_hash": f"{seq:064x}", "canonical": text, "hash": f"{seq:064x}"}
        )
    if rows:
        await connection.execute(insert(AuditEntry.__table__), rows)
    await chained_record(connection, [], events, context)


def main() -> None:
    journal.record = record_unchained
    from service.cli import main as entente

    entente()


if __name__ == "__main__":
    main()
