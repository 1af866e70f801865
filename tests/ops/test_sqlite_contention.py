"""Another process holds SQLite's write lock (a worker, a backup, an operator's shell).

A request that cannot get the lock within the busy timeout answers 503 with Retry-After, never
a 500 saying "database is locked", and leaves nothing behind; once the lock is free it succeeds.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.app import create_app
from service.audit.models import AuditEntry
from service.consultations.models import Message
from service.db import Database
from tests.consultations.helpers import open_consultation, post
from tests.factories import build_world, serving


@pytest.fixture
async def own_sqlite(db_kind: str, own_url):
    if db_kind != "sqlite":
        pytest.skip("SQLite's single write lock")
    database = Database(own_url, busy_timeout_ms=300)
    yield database, Path(own_url.partition(":///")[2])
    await database.dispose()


@contextlib.contextmanager
def write_lock_held_by_another_process(path: Path) -> Iterator[None]:
    """What a second process does when it writes: ``BEGIN IMMEDIATE`` on its own connection."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_write_that_cannot_get_the_lock_is_told_to_retry(settings, own_sqlite):
    database, path = own_sqlite
    app = create_app(settings, database=database)
    async with serving(app) as client:
        world = await build_world(app, client)
        cid = (await open_consultation(client, world))["id"]
        await post(client, world.officer, cid, "Before")
        counts_before = await _counts(database)

        with write_lock_held_by_another_process(path):
            refused = await client.post(
                f"/api/v1/consultations/{cid}/messages",
                json={"body": "While locked"},
                headers=world.officer.headers,
            )
            counts_while_locked = await _counts(database)
        after = await client.post(
            f"/api/v1/consultations/{cid}/messages",
            json={"body": "After"},
            headers=world.officer.headers,
        )

    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["code"] == "unavailable"
    assert "locked" not in refused.text
    assert counts_while_locked == counts_before
    assert after.status_code == 201
    assert await _counts(database) == (counts_before[0] + 1, counts_before[1] + 1)


async def _counts(database: Database) -> tuple[int, int]:
    async with database.sessions() as session:
        messages = await session.scalar(select(func.count()).select_from(Message))
        entries = await session.scalar(select(func.count()).select_from(AuditEntry))
    return messages, entries
