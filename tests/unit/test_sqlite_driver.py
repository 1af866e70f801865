"""SQLite's driver: one trip per statement, no trip for a ROLLBACK with nothing to undo, and
short writes right away on the event loop's thread unless another process is writing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service import sqlite_driver
from service.db import Database, begin_writing
from service.errors import StateConflict
from service.sqlite_driver import on_sqlite_thread, right_away
from service.uow import UnitOfWork


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


def insert_note(sqlite, body: str) -> int:
    sqlite.execute("INSERT INTO note (body) VALUES (?)", (body,))
    sqlite.commit()
    return threading.get_ident()


async def write_right_away(database, body: str) -> int:
    """One write transaction begun IMMEDIATE, its insert and COMMIT sent with ``right_away``;
    the id of the thread the insert ran on."""
    async with database.sessions() as session:
        await begin_writing(session)
        conn = await session.connection()
        ran_on = await right_away(conn, insert_note, body, statement="insert note")
        await session.commit()
    return ran_on


async def write_in_unit_of_work(database, *bodies: str) -> None:
    async with UnitOfWork(database).transaction() as tx:
        for body in bodies:
            await tx.session.execute(text("INSERT INTO note (body) VALUES (:b)"), {"b": body})


def threads_running(monkeypatch, prefix: str) -> list[int]:
    """The thread SQLite runs each statement on that starts with ``prefix``, from now on."""
    seen: list[int] = []
    real_run = sqlite_driver.run

    def run(connection, operation, parameters, many):
        if operation.startswith(prefix):
            seen.append(threading.get_ident())
        return real_run(connection, operation, parameters, many)

    monkeypatch.setattr(sqlite_driver, "run", run)
    return seen


@pytest.fixture
def sqlite_threads(monkeypatch) -> list[int]:
    """The thread each statement that inserts a note runs on."""
    return threads_running(monkeypatch, "INSERT INTO note")


@contextlib.contextmanager
def another_process_writing(database):
    """A second connection, as another process would have, holding SQLite's write lock; the
    caller commits it with the ``commit`` it is given."""
    other = sqlite3.connect(database.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO note (body) VALUES ('other')")
    try:
        yield other.commit
    finally:
        other.close()


async def ticks_while(write, commit_other) -> int:
    """How often a 10 ms ticker ran while ``write`` waited for the other writer, which commits
    after 0.3 s."""
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    writing = asyncio.ensure_future(write)
    try:
        await asyncio.sleep(0.3)
        commit_other()
        await writing
    finally:
        ticker.cancel()
    return ticks


async def test_a_short_write_runs_right_away_on_the_event_loops_thread(database):
    assert await write_right_away(database, "now") == threading.get_ident()
    assert await notes(database) == 1


async def test_a_write_that_finds_another_process_writing_waits_off_the_event_loop(database):
    """The loop keeps running while the write waits on SQLite's thread, in SQLite's busy
    handler, and the write lands once the other one commits."""
    with another_process_writing(database) as commit_other:
        writing = write_right_away(database, "mine")
        ran_on = asyncio.ensure_future(writing)
        assert await ticks_while(ran_on, commit_other) >= 10
    assert ran_on.result() != threading.get_ident()
    assert await notes(database) == 2


async def test_an_error_in_a_write_right_away_comes_back_as_sqlalchemys(database):
    def insert_twice(sqlite) -> None:
        sqlite.execute("INSERT INTO note (id, body) VALUES (7, 'a')")
        sqlite.execute("INSERT INTO note (id, body) VALUES (7, 'b')")

    async with database.sessions() as session:
        await begin_writing(session)
        conn = await session.connection()
        with pytest.raises(IntegrityError, match="UNIQUE"):
            await right_away(conn, insert_twice, statement="insert twice")
        await session.rollback()
    assert await notes(database) == 0
    async with database.engine.connect() as conn:
        assert await on_sqlite_thread(conn, in_transaction) is False


async def test_a_unit_of_works_statements_run_on_the_event_loops_thread(database, sqlite_threads):
    await write_in_unit_of_work(database, "a", "b")
    assert sqlite_threads == [threading.get_ident()] * 2
    assert await notes(database) == 2


async def test_a_transaction_outside_a_unit_of_work_goes_to_sqlites_thread(
    database, sqlite_threads
):
    async with database.engine.begin() as conn:  # not a writer: no IMMEDIATE, no right away
        await conn.execute(text("INSERT INTO note (body) VALUES ('x')"))
    assert len(sqlite_threads) == 1
    assert sqlite_threads[0] != threading.get_ident()


async def same_id_twice_in_unit_of_work(database) -> None:
    async with UnitOfWork(database).transaction() as tx:
        await tx.session.execute(text("INSERT INTO note (id, body) VALUES (1, 'a')"))
        await tx.session.execute(text("INSERT INTO note (id, body) VALUES (1, 'b')"))


async def test_a_failed_unit_of_work_leaves_nothing_and_the_next_one_writes(database):
    with pytest.raises(StateConflict):  # the unit of work's answer to a unique violation
        await same_id_twice_in_unit_of_work(database)
    assert await notes(database) == 0
    await write_in_unit_of_work(database, "c")
    assert await notes(database) == 1


async def test_a_unit_of_work_waits_for_another_process_off_the_event_loop(database):
    with another_process_writing(database) as commit_other:
        assert await ticks_while(write_in_unit_of_work(database, "mine"), commit_other) >= 10
    assert await notes(database) == 2


@pytest.fixture
def note_threads(monkeypatch) -> list[int]:
    """The thread each statement that reads notes runs on."""
    return threads_running(monkeypatch, "SELECT body FROM note")


async def test_a_single_read_runs_right_away_and_only_that_one(database, note_threads):
    await write_in_unit_of_work(database, "a")
    async with database.single_reads() as conn:  # the identity read of every request
        assert (await conn.execute(text("SELECT body FROM note"))).scalar_one() == "a"
    async with database.engine.connect() as conn:  # the same pooled connection, a usual read
        await conn.execute(text("SELECT body FROM note"))
    loop_thread = threading.get_ident()
    assert note_threads[0] == loop_thread
    assert note_threads[1] != loop_thread


def test_a_read_that_would_wait_for_another_process_reports_it_and_waits_not(tmp_path):
    """Another process holds the database exclusively: the read fails at once instead of
    sitting in the busy handler (its caller then sends it to SQLite's thread to wait), and the
    connection keeps its busy timeout."""
    path = tmp_path / "locked.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE note (body TEXT)")
    setup.close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    reader = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        done, _ = sqlite_driver.without_waiting(reader, count_notes, ())
        assert done is False
        assert reader.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    finally:
        other.close()
        reader.close()


def count_notes(sqlite) -> int:
    return sqlite.execute("SELECT count(*) FROM note").fetchone()[0]
