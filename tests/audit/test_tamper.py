"""Hand edits to the audit table are caught by verification, which names the first broken entry."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from service.audit.models import AuditEntry
from tests.audit.helpers import entry_count, remove, rewrite, verify


@pytest.fixture
async def chain(app, world) -> int:
    """The world's audit entries; their number."""
    count = await entry_count(app.state.database)
    assert count >= 5
    return count


async def broken_at(client, world) -> int | None:
    result = await verify(client, world.auditor)
    assert result["valid"] is (result["first_broken_seq"] is None)
    return result["first_broken_seq"]


async def test_untouched_chain_is_valid(client, world, chain):
    result = await verify(client, world.auditor)
    assert result == {**result, "valid": True, "entries": chain, "first_broken_seq": None}


@pytest.mark.parametrize(
    "values",
    [
        {"details": {"title": "nothing happened"}},
        {"details": {}},
        {"action": "dialogue.closed"},
        {"actor_name": "someone else"},
        {"entity_id": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_edited_entry_is_named(client, world, app, chain, values):
    seq = chain // 2
    await rewrite(app.state.database, seq, **values)
    assert await broken_at(client, world) == seq


async def test_backdated_entry_is_named(client, world, app, chain):
    seq = chain // 2
    async with app.state.database.sessions() as session:
        at = await session.scalar(select(AuditEntry.at).where(AuditEntry.seq == seq))
    await rewrite(app.state.database, seq, at=at - timedelta(seconds=1))
    assert await broken_at(client, world) == seq


async def test_rehashed_entry_breaks_its_successor(client, world, app, chain):
    seq = chain // 2
    await rewrite(app.state.database, seq, rehash=True, details={"forged": True})
    assert await broken_at(client, world) == seq + 1


@pytest.mark.parametrize("column", ["action", "details", "at", "actor_id"])
async def test_columns_cannot_be_edited_apart_from_what_was_hashed(app, chain, column):
    """The columns are generated from the hashed JSON: the database refuses to write them."""
    async with app.state.database.sessions() as session:
        value = await session.scalar(select(getattr(AuditEntry, column)).where(AuditEntry.seq == 1))
        edit = update(AuditEntry).where(AuditEntry.seq == 1).values({column: value})
        with pytest.raises(DBAPIError, match=r"generated column|can only be updated to DEFAULT"):
            await session.execute(edit)


async def test_deleted_middle_entry_is_named(client, world, app, chain):
    await remove(app.state.database, 3)
    assert await broken_at(client, world) == 3


async def test_deleted_first_entry_is_named(client, world, app, chain):
    await remove(app.state.database, 1)
    assert await broken_at(client, world) == 1


async def test_deleted_last_entry_is_named(client, world, app, chain):
    await remove(app.state.database, chain)
    assert await broken_at(client, world) == chain


async def test_deleted_last_entries_are_named(client, world, app, chain):
    await remove(app.state.database, chain - 1, chain)
    assert await broken_at(client, world) == chain - 1


async def test_emptied_trail_is_caught(client, world, app, chain):
    await remove(app.state.database, *range(1, chain + 1))
    assert await broken_at(client, world) == 1
