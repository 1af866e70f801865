"""SQLite's driver: one trip per statement, and no trip for a ROLLBACK with nothing to undo."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service.db import Database
from service.sqlite_driver import on_sqlite_thread


@pytest.fixture
async def database(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", pool_size=1)
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)"))
    yield database
    await database.dispose()


async def notes(database) -> int:
    async with database.engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM note"))).scalar_one()


def in_transaction(sqlite) -> bool:
    return sqlite.in_transaction


async def fail_in_python(conn) -> None:
    raise RuntimeError("the use case failed")


async def fail_in_sqlite(conn) -> None:
    await conn.execute(text("INSERT INTO note (id, body) VALUES (1, 'again')"))


async def insert_then(database, failure) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO note (id, body) VALUES (1, 'first')"))
        await failure(conn)


@pytest.mark.parametrize("failure", [fail_in_python, fail_in_sqlite])
async def test_a_failed_transaction_is_rolled_back_before_its_connection_is_reused(
    database, failure
):
    with pytest.raises((RuntimeError, IntegrityError)):
        await insert_then(database, failure)

    assert await notes(database) == 0
    async with database.engine.connect() as conn:  # the pool's one connection, again
        assert await on_sqlite_thread(conn, in_transaction) is False


async def test_a_write_then_a_read_in_one_transaction_is_committed(database):
    """COMMIT is skipped only when nothing is open: after a read, the write must still commit."""
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO note (id, body) VALUES (1, 'kept')"))
        await conn.execute(text("SELECT body FROM note"))

    other = Database(database.url)  # its own connection: sees only what was committed
    try:
        assert await notes(other) == 1
    finally:
        await other.dispose()
    for _ in range(3):  # reads that end without a ROLLBACK trip lose nothing either
        assert await notes(database) == 1


async def test_an_error_on_sqlites_thread_comes_back_as_sqlalchemys(database):
    def insert_twice(sqlite) -> None:
        sqlite.execute("INSERT INTO note (id, body) VALUES (7, 'a')")
        sqlite.execute("INSERT INTO note (id, body) VALUES (7, 'b')")

    async def insert_in_one_trip(conn) -> None:
        await on_sqlite_thread(conn, insert_twice, statement="insert twice")

    with pytest.raises(IntegrityError, match="UNIQUE"):
        await insert_then(database, insert_in_one_trip)
    assert await notes(database) == 0
