"""A unit of work's entries and events, written at COMMIT in the fewest statements."""

from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from service import journal
from service.consultations.models import ReadReceipt
from service.db import Database, utcnow
from service.errors import StateConflict
from service.events.models import OutboxEvent, OutboxHead
from service.events.service import PendingEvent
from service.uow import UnitOfWork
from tests.audit.helpers import entry_count, head, verify
from tests.consultations.helpers import open_consultation


async def outbox(database) -> tuple[int, list[tuple[int, str]]]:
    async with database.sessions() as session:
        tip = await session.scalar(select(OutboxHead.seq))
        rows = await session.execute(select(OutboxEvent.seq, OutboxEvent.data).order_by("seq"))
        return tip, [(seq, data["n"]) for seq, data in rows if "n" in data]


async def write(database, entries: int, events: int) -> None:
    async with UnitOfWork(database).transaction() as tx:
        for n in range(entries):
            tx.audit("test.entry", entity_type="test", entity_id=str(n), details={"n": n})
        for n in range(events):
            tx.emit("webhook.disabled", {"n": n}, dialogue_id=None)


@pytest.mark.parametrize(("entries", "events"), [(1, 1), (3, 5), (4, 0), (0, 3)])
async def test_entries_and_events_are_numbered_in_order(client, world, app, entries, events):
    database = app.state.database
    count, (seq, _) = await entry_count(database), await head(database)
    tip, before = await outbox(database)

    await write(database, entries, events)

    assert await entry_count(database) == count + entries
    assert (await head(database))[0] == seq + entries
    new_tip, after = await outbox(database)
    assert new_tip == tip + events
    assert after[len(before) :] == [(tip + 1 + n, n) for n in range(events)]
    assert (await verify(client, world.auditor))["valid"] is True


async def test_a_change_too_large_for_one_statement_is_written_in_several(
    client, world, app, monkeypatch
):
    """On PostgreSQL a bulk change past the parameter limit takes the plain path."""
    monkeypatch.setattr(journal, "fits_one_statement", lambda entries, events: False)
    database = app.state.database
    tip, _ = await outbox(database)
    await write(database, 3, 2)
    new_tip, after = await outbox(database)
    assert new_tip == tip + 2
    assert after[-2:] == [(tip + 1, 0), (tip + 2, 1)]
    assert (await verify(client, world.auditor))["valid"] is True


def test_the_parameter_budget_of_one_statement():
    assert journal.fits_one_statement([{}] * 500, [object()] * 500)
    assert journal.fits_one_statement([{}] * 2000, [object()] * 0)  # 4 parameters an entry
    assert not journal.fits_one_statement([{}] * 8000, [object()] * 0)


async def test_an_event_reads_back_as_it_was_emitted(app):
    """SQLite's writes bypass SQLAlchemy's statements but not its conversions of the values."""
    event = PendingEvent(
        type="webhook.disabled",
        dialogue_id=uuid4(),
        organization_id=uuid4(),
        data={
            "name": "Ça\u011fr\u0131 \u2602 \u202e",
            "share": 1.5,
            "nested": {"items": [1, None, True]},
        },
    )
    async with UnitOfWork(app.state.database).transaction() as tx:
        tx.events.append(event)

    async with app.state.database.sessions() as session:
        stored = await session.get(OutboxEvent, event.id)
    assert (stored.type, stored.dialogue_id, stored.organization_id) == (
        event.type,
        event.dialogue_id,
        event.organization_id,
    )
    assert stored.occurred_at == event.occurred_at
    assert stored.data == event.data


async def test_a_write_refused_at_commit_leaves_nothing_behind(client, world, app):
    """The outbox's next number already taken: the entries, the heads and the change all go."""
    database = app.state.database
    count, audit_head = await entry_count(database), await head(database)
    tip, _ = await outbox(database)
    async with database.sessions() as session:
        squatter = OutboxEvent(seq=tip + 1, type="webhook.disabled", occurred_at=utcnow(), data={})
        session.add(squatter)
        await session.commit()

    with pytest.raises(StateConflict):
        await write(database, 2, 1)

    assert await entry_count(database) == count
    assert await head(database) == audit_head
    assert (await outbox(database))[0] == tip
    assert (await verify(client, world.auditor))["valid"] is True


async def test_a_committed_write_is_there_for_the_next_connection(committed_database):
    """Outside the tests' savepoints, SQLite's COMMIT goes in the journal's trip."""
    database = committed_database
    tip, _ = await outbox(database)
    count = await entry_count(database)

    await write(database, 2, 1)

    fresh = Database(database.url)
    try:
        assert await entry_count(fresh) == count + 2
        assert (await outbox(fresh))[0] == tip + 1
    finally:
        await fresh.dispose()
    async with database.engine.connect() as conn:
        assert not conn.in_transaction()
        raw = await conn.get_raw_connection()
        assert getattr(raw.dbapi_connection, "in_transaction", False) is False


async def test_a_refused_committed_write_leaves_nothing(committed_database):
    database = committed_database
    tip, _ = await outbox(database)
    count, audit_head = await entry_count(database), await head(database)
    async with database.sessions() as session:
        session.add(
            OutboxEvent(seq=tip + 1, type="webhook.disabled", occurred_at=utcnow(), data={})
        )
        await session.commit()

    with pytest.raises(StateConflict):
        await write(database, 2, 1)

    assert (await entry_count(database), await head(database)) == (count, audit_head)
    await write(database, 1, 0)  # the connection went back to the pool clean
    assert await entry_count(database) == count + 1


async def test_a_row_added_at_commit_without_a_required_value_writes_nothing(client, world, app):
    database = app.state.database
    count, audit_head = await entry_count(database), await head(database)

    async def add_incomplete_row() -> None:
        async with UnitOfWork(database).transaction() as tx:
            tx.add_at_commit(ReadReceipt(consultation_id=uuid4(), side="authority"))
            tx.audit("test.entry", entity_type="test", entity_id="1")

    with pytest.raises(ValueError, match="read_up_to"):
        await add_incomplete_row()

    assert (await entry_count(database), await head(database)) == (count, audit_head)


async def test_a_row_added_at_commit_alone_is_written(client, world, app):
    """No entry and no event: the row is still inserted, and the chain is untouched."""
    database = app.state.database
    count = await entry_count(database)
    cid = (await open_consultation(client, world))["id"]
    entries = await entry_count(database)
    read_at = utcnow()

    async with UnitOfWork(database).transaction() as tx:
        receipt = ReadReceipt(
            consultation_id=UUID(cid),
            side="authority",
            read_up_to=read_at,
            read_by=world.officer.id,
            read_at=read_at,
        )
        tx.add_at_commit(receipt)

    async with database.sessions() as session:
        stored = await session.get(ReadReceipt, (UUID(cid), "authority"))
    assert (stored.read_up_to, stored.read_by) == (read_at, world.officer.id)
    assert await entry_count(database) == entries > count
    assert (await verify(client, world.auditor))["valid"] is True
