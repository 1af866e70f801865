"""Concurrent writers, each committing for real, never fork or break the chain."""

import asyncio
import contextlib

import pytest
from sqlalchemy import select

from service.audit import service as audit_service
from service.audit.models import AuditEntry
from service.uow import UnitOfWork


async def writer(database, number: int) -> int:
    """One unit of work writing 1-3 entries; how many it wrote."""
    entries = number % 3 + 1
    async with UnitOfWork(database).transaction() as tx:
        for index in range(entries):
            tx.audit("test.concurrent", details={"writer": number, "index": index})
            await asyncio.sleep(0)
    return entries


async def run_writers(database, count: int) -> int:
    written = await asyncio.gather(*(writer(database, n) for n in range(count)))
    return sum(written)


async def assert_one_unbroken_chain(database, total: int) -> None:
    async with database.sessions() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))).all()
        result = await audit_service.verify(session)
    assert (result.valid, result.entries, result.first_broken_seq) == (True, total, None)
    assert [row.seq for row in rows] == list(range(1, total + 1))
    assert len({row.prev_hash for row in rows}) == total
    assert len({(row.details["writer"], row.details["index"]) for row in rows}) == total


async def test_concurrent_writers_keep_one_chain(committed_database):
    total = await run_writers(committed_database, 15)
    await assert_one_unbroken_chain(committed_database, total)


@pytest.mark.postgres_only
async def test_many_concurrent_writers_never_fork_the_chain(committed_database):
    total = await run_writers(committed_database, 60)
    await assert_one_unbroken_chain(committed_database, total)


async def failing_writer(database, number: int) -> int:
    """Every fourth writer fails after adding its entry; how many entries it committed."""
    if number % 4:
        return await writer(database, number)
    with contextlib.suppress(ZeroDivisionError):
        async with UnitOfWork(database).transaction() as tx:
            tx.audit("test.concurrent", details={"writer": number, "index": 0})
            await asyncio.sleep(0)
            _ = 1 / 0
    return 0


@pytest.mark.postgres_only
async def test_concurrent_writers_with_failures_leave_only_committed_entries(committed_database):
    written = await asyncio.gather(*(failing_writer(committed_database, n) for n in range(40)))
    await assert_one_unbroken_chain(committed_database, sum(written))
