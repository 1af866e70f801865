"""``entente`` with the audit chain taken out, for measuring what the chain costs a write.

Bench only; the product has no such switch. ``python -m bench.unchained serve --port N`` runs the
real CLI after replacing ``service.audit.service.append`` (called by the unit of work right
before COMMIT) with a plain insert of the same entries: no ``audit_head`` lock, no read of the
tip, no canonical JSON, no hash. Everything else (the entries themselves, the outbox, the
commit) stays. The entries get numbers far above the chain that the project server
appends to on the same database, and a placeholder where the hashes go.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from service.audit import service as audit_service
from service.audit.models import AuditEntry
from service.audit.service import PendingEntry, RequestContext, new_entry

# Microseconds since the epoch: above the chain and above what an earlier run numbered.
NUMBERS = itertools.count(time.time_ns() // 1000)


async def append_unchained(
    session: AsyncSession, pending: Sequence[PendingEntry], context: RequestContext
) -> list[AuditEntry]:
    rows = []
    for item in pending:
        item.resolve()
        row = new_entry(next(NUMBERS), item, context)
        row.prev_hash = row.hash = f"{row.seq:064x}"
        rows.append(row)
    session.add_all(rows)
    return rows


def main() -> None:
    audit_service.append = append_unchained
    from service.cli import main as entente

    entente()


if __name__ == "__main__":
    main()
