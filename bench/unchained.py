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
import sqlite3
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from service import journal
from service.audit import service as audit_service
from service.audit.chain import canonical
from service.audit.models import AuditEntry
from service.audit.service import PendingEntry, RequestContext
from service.events.service import PendingEvent
from service.sqlite_driver import right_away

# Microseconds since the epoch: above the chain and above what an earlier run numbered.
NUMBERS = itertools.count(time.time_ns() // 1000)
chained_record = journal.record


async def record_unchained(
    connection: AsyncConnection,
    pending: Sequence[PendingEntry],
    events: Sequence[PendingEvent],
    context: RequestContext,
    new_rows: Sequence[Any] = (),
    *,
    commit: bool = False,
) -> None:
    rows = [unchained(draft) for draft in audit_service.drafts(pending, context)]
    if connection.dialect.name == "sqlite":  # in one trip, as the journal writes
        inserts = [journal.sqlite_insert(entity, connection.dialect) for entity in new_rows]
        values = journal.event_values(events, connection.dialect)
        commit = commit and not connection.in_nested_transaction()
        await right_away(connection, write_on_sqlite, inserts, rows, values, commit)
        return
    if rows:
        await connection.execute(insert(AuditEntry.__table__), rows)
    await chained_record(connection, [], events, context, new_rows, commit=commit)


def unchained(draft: dict[str, Any]) -> dict[str, Any]:
    seq = next(NUMBERS)
    text = canonical(SimpleNamespace(seq=seq, **draft)).decode()
    return {"seq": seq, "prev_hash": f"{seq:064x}", "canonical": text, "hash": f"{seq:064x}"}


def write_on_sqlite(
    sqlite: sqlite3.Connection,
    inserts: list[tuple[str, tuple[Any, ...]]],
    rows: list[dict[str, Any]],
    events: list[dict[str, Any]],
    commit: bool,
) -> None:
    for statement, values in inserts:
        sqlite.execute(statement, values)
    entries = [journal.in_order(row, journal.ENTRY_ORDER) for row in rows]
    sqlite.executemany(journal.INSERT_ENTRIES_SQL, entries)
    journal.number_events_on_sqlite(sqlite, events)
    if commit:
        sqlite.commit()


def main() -> None:
    journal.record = record_unchained
    from service.cli import main as entente

    entente()


if __name__ == "__main__":
    main()
