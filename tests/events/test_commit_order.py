"""A reader paging by ``seq`` while many writers commit never skips an event (PostgreSQL)."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select

from service.events.models import OutboxEvent
from service.uow import UnitOfWork

WRITERS = 40


async def write(database, number: int) -> None:
    async with UnitOfWork(database).transaction() as tx:
        tx.emit("permit.registered", {"n": number}, dialogue_id=None)
        tx.audit("test.event_written", details={"n": number})
        await asyncio.sleep(random.uniform(0, 0.02))  # commits land in a shuffled order


async def poll_until(database, expected: int) -> list[int]:
    seen: list[int] = []
    after = 0
    for _ in range(2000):
        async with database.sessions() as session:
            query = select(OutboxEvent).where(OutboxEvent.seq > after).order_by(OutboxEvent.seq)
            rows = (await session.scalars(query)).all()
        for row in rows:
            seen.append(row.data["n"])
            after = row.seq
        if len(seen) >= expected:
            break
        await asyncio.sleep(0.005)
    return seen


@pytest.mark.postgres_only
async def test_a_polling_reader_sees_every_event_of_concurrent_writers(committed_database):
    reader = asyncio.create_task(poll_until(committed_database, WRITERS))
    await asyncio.gather(*(write(committed_database, n) for n in range(WRITERS)))
    seen = await asyncio.wait_for(reader, timeout=60)
    assert sorted(seen) == list(range(WRITERS))
