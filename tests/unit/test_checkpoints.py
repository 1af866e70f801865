"""SQLite's WAL is copied into the database file by a thread of its own, not by the writers."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text

from service.checkpoints import FALLBACK_PAGES
from service.db import Database
from tests.webhooks.receivers import eventually

ROWS = 200


def in_the_file_alone(path) -> int:
    """Rows the database file holds without its WAL (``immutable`` reads the file only)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as reading:
        try:
            return reading.execute("SELECT count(*) FROM note").fetchone()[0]
        except sqlite3.OperationalError:  # the table itself is still only in the WAL
            return 0


async def write_notes(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    for number in range(ROWS):
        async with database.engine.begin() as conn:
            await conn.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": f"n{number}"})


async def test_commits_reach_the_database_file_without_a_writer_checkpointing(tmp_path):
    path = tmp_path / "wal.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await write_notes(database)
        async with database.engine.connect() as conn:
            limit = (await conn.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one()

        assert limit == FALLBACK_PAGES  # 200 small commits would never reach it
        assert await eventually(lambda: in_the_file_alone(path) == ROWS, within=10)
    finally:
        await database.dispose()


async def test_disposing_the_database_stops_its_checkpoints(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")
    await write_notes(database)
    thread = database.checkpointer.thread

    await database.dispose()

    assert thread is not None
    assert not thread.is_alive()


async def test_postgres_and_memory_databases_have_no_checkpointer():
    assert Database("sqlite+aiosqlite:///:memory:").checkpointer is None
    assert Database("postgresql+asyncpg://nobody@127.0.0.1:1/none").checkpointer is None
