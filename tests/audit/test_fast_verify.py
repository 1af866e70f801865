"""Verification reads the chain in batches; it names a break wherever in which batch it lies."""

from __future__ import annotations

from uuid import uuid4

import pytest
from sqlalchemy import update

from service.audit import service as audit_service
from service.audit import stored
from service.audit.models import AuditEntry
from service.audit.service import Actor
from service.uow import UnitOfWork
from tests.audit.helpers import entry_count, remove, rewrite

BATCH = 7
AWKWARD_TEXT = 'Ç "quoted" \\ \x01\x1f\x7f \u2028 🛰 D\u0131\u015fi\u015fleri'


async def add_entries(database, count: int, **details) -> None:
    for number in range(count):
        actor = Actor(type="user", id=uuid4(), name=f"{AWKWARD_TEXT} {number}", org_id=uuid4())
        async with UnitOfWork(database, actor=actor).transaction() as tx:
            tx.audit(
                "test.batched",
                details={"number": number, "text": AWKWARD_TEXT, "price": 12.5, **details},
                dialogue_id=uuid4(),
                entity_type="test",
                entity_id=AWKWARD_TEXT,
            )


async def verify(database) -> audit_service.Verification:
    async with database.sessions() as session:
        return await audit_service.verify(session, batch=BATCH)


@pytest.fixture
async def chain(app, world) -> int:
    """The world's entries and 40 more: several batches of ``BATCH``; their number."""
    await add_entries(app.state.database, 40)
    return await entry_count(app.state.database)


async def test_every_stored_entry_follows_from_its_predecessor(app, chain):
    async with app.state.database.sessions() as session:
        reader = await stored.Reader.of(await session.connection(), chain + 1)
        checked = [batch async for batch in reader.batches(1, "0" * 64)]
    assert [(batch.rows, batch.intact, batch.broken) for batch in checked] == [(chain, chain, None)]
    assert checked[0].last_seq == chain


async def test_chain_of_many_batches_is_valid(app, chain):
    assert await verify(app.state.database) == audit_service.Verification(True, chain, None)


async def test_edit_in_the_middle_of_a_later_batch_is_named(app, chain):
    seq = 4 * BATCH + BATCH // 2
    await rewrite(app.state.database, seq, details={"number": -1})
    result = await verify(app.state.database)
    assert (result.valid, result.first_broken_seq, result.entries) == (False, seq, seq - 1)
    assert result.reason == "content does not match its hash"


async def test_deletion_in_a_later_batch_is_named(app, chain):
    seq = 3 * BATCH + 2
    await remove(app.state.database, seq)
    result = await verify(app.state.database)
    assert (result.first_broken_seq, result.reason) == (seq, f"entry {seq} is missing")


# A batch is checked on its own, then linked to the one before: breaks at its edges count.
EDGES = [3 * BATCH, 3 * BATCH + 1, 3 * BATCH + 2, 4 * BATCH - 1]


@pytest.mark.parametrize("seq", EDGES)
async def test_edit_at_a_batch_edge_is_named(app, chain, seq):
    await rewrite(app.state.database, seq, details={"number": -1})
    result = await verify(app.state.database)
    assert (result.first_broken_seq, result.entries) == (seq, seq - 1)
    assert result.reason == "content does not match its hash"


@pytest.mark.parametrize("seq", EDGES)
async def test_rehashed_entry_at_a_batch_edge_breaks_its_successor(app, chain, seq):
    await rewrite(app.state.database, seq, rehash=True, details={"number": -1})
    result = await verify(app.state.database)
    assert (result.first_broken_seq, result.entries) == (seq + 1, seq)
    assert result.reason == "prev_hash does not match the preceding entry"


@pytest.mark.parametrize("seq", EDGES)
async def test_deletion_at_a_batch_edge_is_named(app, chain, seq):
    await remove(app.state.database, seq)
    result = await verify(app.state.database)
    assert (result.first_broken_seq, result.entries) == (seq, seq - 1)
    assert result.reason == f"entry {seq} is missing"


async def test_chain_of_exactly_whole_batches_is_valid(app, world):
    short = BATCH - await entry_count(app.state.database) % BATCH
    await add_entries(app.state.database, short + 2 * BATCH)
    count = await entry_count(app.state.database)
    assert count % BATCH == 0
    assert await verify(app.state.database) == audit_service.Verification(True, count, None)


async def test_hash_characters_moved_between_columns_are_named(app, chain, db_kind):
    """``hash ‖ prev_hash`` stays the same, but the entry's stored hash is no longer its own.
    (PostgreSQL's VARCHAR(64) refuses the longer hash; SQLite stores it.)"""
    if db_kind == "postgres":
        pytest.skip("PostgreSQL refuses a hash longer than 64 characters")
    seq = 3 * BATCH + 2
    async with app.state.database.sessions() as session:
        entry = await session.get(AuditEntry, seq)
        moved = {"hash": entry.hash + entry.prev_hash[:3], "prev_hash": entry.prev_hash[3:]}
        await session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(**moved))
        await session.commit()
    result = await verify(app.state.database)
    assert (result.first_broken_seq, result.entries) == (seq, seq - 1)
