"""Migration 0007 gives existing entries the JSON they were hashed from: a chain written before
it still verifies after it, reads the same, and an entry edited before it is still caught."""

from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service import migrate
from service.audit import service as audit_service
from service.audit.chain import chain_hash
from service.audit.models import GENESIS_HASH, AuditEntry
from service.db import Database, UTCDateTime

# audit_entry as migrations 0001-0006 left it: every field a plain column.
OLD_ENTRIES = sa.table(
    "audit_entry",
    *(sa.column(name) for name in ("seq", "actor_type", "actor_name", "action", "entity_type")),
    *(sa.column(name) for name in ("entity_id", "request_id", "client_addr", "prev_hash", "hash")),
    sa.column("at", UTCDateTime()),
    *(sa.column(name, sa.Uuid()) for name in ("actor_id", "org_id", "dialogue_id")),
    sa.column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)
HEAD = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))


def old_entries(count: int) -> list[dict]:
    rows, prev_hash = [], GENESIS_HASH
    for seq in range(1, count + 1):
        entry = {
            "seq": seq,
            "at": datetime(2026, 3, seq, 12, 30, 15, 123456 + seq, tzinfo=UTC),
            "actor_type": "user",
            "actor_id": uuid4(),
            "actor_name": "Ay\u015fe Y\u0131lmaz",
            "org_id": uuid4(),
            "action": "notice.issued",
            "entity_type": "decision_notice",
            "entity_id": str(uuid4()),
            "dialogue_id": uuid4() if seq % 2 else None,
            "request_id": f"req-{seq}",
            "client_addr": None,
            "details": {"permits": [f"EXP-{seq}"], "ratio": 0.1, "note": 'é "q" \\ 🛰'},
        }
        entry |= {"prev_hash": prev_hash, "hash": chain_hash(prev_hash, SimpleNamespace(**entry))}
        rows.append(entry)
        prev_hash = entry["hash"]
    return rows


async def write_old_chain(url: str, rows: list[dict], edit: dict) -> None:
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.execute(sa.insert(OLD_ENTRIES), rows)
        await connection.execute(sa.update(HEAD).values(seq=len(rows), hash=rows[-1]["hash"]))
        if edit:
            await connection.execute(sa.update(OLD_ENTRIES).where(OLD_ENTRIES.c.seq == 3), edit)
    await database.dispose()


async def verify_and_read(url: str) -> tuple[audit_service.Verification, list[AuditEntry]]:
    database = Database(url)
    async with database.sessions() as session:
        result = await audit_service.verify(session, batch=2)
        entries = (await session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq))).all()
    await database.dispose()
    return result, list(entries)


@pytest.mark.parametrize(
    ("edit", "verdict"),
    [
        ({}, audit_service.Verification(True, 5, None)),
        (
            {"action": "notice.withdrawn"},
            audit_service.Verification(False, 2, 3, "content does not match its hash"),
        ),
    ],
    ids=["intact", "edited-before-the-upgrade"],
)
async def test_upgrade_keeps_the_verdict_and_the_values(empty_database_url, edit, verdict):
    url = await empty_database_url()
    await migrate.upgrade_async(url, "0006")
    rows = old_entries(5)
    await write_old_chain(url, rows, edit)

    await migrate.upgrade_async(url)

    result, entries = await verify_and_read(url)
    assert result == verdict
    expected = [row | edit if row["seq"] == 3 else row for row in rows]
    for entry, row in zip(entries, expected, strict=True):
        assert {name: getattr(entry, name) for name in row} == row
        assert isinstance(entry.actor_id, UUID)


async def test_downgrade_keeps_the_values_and_upgrading_again_the_chain(empty_database_url):
    import anyio.to_thread
    from alembic import command

    url = await empty_database_url()
    await migrate.upgrade_async(url, "0006")
    rows = old_entries(3)
    await write_old_chain(url, rows, {})
    await migrate.upgrade_async(url)

    await anyio.to_thread.run_sync(command.downgrade, migrate.alembic_config(url), "0006")
    database = Database(url)
    async with database.engine.connect() as connection:
        stored = (await connection.execute(sa.select(OLD_ENTRIES).order_by("seq"))).mappings()
        assert [dict(row) for row in stored] == rows
    await database.dispose()

    await migrate.upgrade_async(url)
    assert (await verify_and_read(url))[0] == audit_service.Verification(True, 3, None)
