"""SQLAlchemy's aiosqlite adapter with one trip to SQLite's thread per statement instead of four.

aiosqlite runs SQLite on its own thread, and SQLAlchemy's adapter goes there to open a cursor,
to execute, to fetch the rows and to close the cursor: four hand-offs between threads, each
about 80 microseconds of CPU on the event loop's side, where SQLite itself needs a few for an
indexed statement. A posted message made 45 of them. The cursor here does the four steps in
one function on that thread and keeps the rows, the description, the row count and the last
row id it brings back, which is all SQLAlchemy reads from a cursor.

A transaction's BEGIN goes to SQLite with its first statement, in the same trip. The connection
also remembers whether SQLite was inside a transaction after its last trip, so a
ROLLBACK with nothing to roll back (SQLAlchemy sends one whenever a connection goes back to the
pool, or a connection that only read closes) makes no trip at all. And ``on_sqlite_thread``
runs a whole function of ``sqlite3`` calls in one trip, for hot paths that know their SQL.

A write transaction begun with the execution option ``sqlite_right_away`` (the unit of work's
``begin_writing``) makes no trips at all: its statements run ``right_away`` on the event loop's
thread. SQLite has one writer at a time, and a writer that hands a statement to a thread gets
the answer back only after the loop has run every other request's work queued before it, all
while holding the write lock. Only its BEGIN may meet another process's write and wait in
SQLite's busy handler; it is tried without waiting, and if SQLite is busy it goes to the thread.
A connection's single reads (``Database.single_reads``: the caller's identity, read on every
request) go ``read_right_away`` the same way: an indexed read costs SQLite microseconds, a trip
to its thread a hundred of the loop's.

Everything else (connections, transactions, errors, server-side cursors) is SQLAlchemy's own.
``build_engine`` passes ``module=dbapi()`` to ``create_async_engine`` for SQLite URLs.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util.concurrency import await_

T = TypeVar("T")


class Outcome:
    """What a statement left on its cursor, read on SQLite's thread."""

    __slots__ = ("description", "in_transaction", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor, many: bool) -> None:
        self.description = cursor.description
        self.rows = cursor.fetchall() if cursor.description and not many else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid
        self.in_transaction = cursor.connection.in_transaction


def run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        return Outcome(cursor, many)
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_outcome",)

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no aiosqlite cursor: see ``run``
        self._outcome: Outcome | None = None
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()

    @property
    def description(self) -> Any:
        return self._outcome.description if self._outcome else None

    @property
    def rowcount(self) -> int:
        return self._outcome.rowcount if self._outcome else -1

    @property
    def lastrowid(self) -> int | None:
        return self._outcome.lastrowid if self._outcome else None

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._run(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._run(operation, seq_of_parameters, many=True)

    async def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted: OneTripConnection = self._adapt_connection  # type: ignore[assignment]
        if adapted.writer:
            go = adapted.right_away
        elif adapted.point_reads:
            go = adapted.read_right_away
        else:
            go = adapted.trip
        outcome = await go(run, operation, parameters, many)
        adapted.in_transaction = outcome.in_transaction
        self._outcome = outcome
        self._rows = collections.deque(outcome.rows)

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("begin", "in_transaction", "point_reads", "writer")
    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, connection)
        # Whether SQLite was in a transaction after the last trip; None when unknown (a trip
        # failed), and then ROLLBACK goes to SQLite whatever it may find.
        self.in_transaction: bool | None = False
        self.begin: str | None = None  # a BEGIN that goes with the next trip
        # A write transaction whose statements all go ``right_away``, until it ends.
        self.writer = False
        self.point_reads = False  # single reads, right away unless SQLite is busy

    async def trip(self, function: Callable[..., T], *args: Any) -> T:
        """``function(sqlite3_connection, *args)`` on SQLite's thread, one statement at a time;
        a pending BEGIN runs first, in the same trip."""
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        begin, self.begin, self.in_transaction = self.begin, None, None
        async with self._execute_mutex:
            if begin is None:
                return await driver._execute(function, driver._conn, *args)
            return await driver._execute(begun, driver._conn, begin, function, args)

    async def right_away(self, function: Callable[..., T], *args: Any) -> T:
        """``function(sqlite3_connection, *args)`` on the event loop's thread, unless a pending
        BEGIN finds another process writing: then on SQLite's thread, which may wait."""
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        begin, self.begin, self.in_transaction = self.begin, None, None
        async with self._execute_mutex:
            if begin is not None and not without_waiting(driver._conn, execute, (begin,))[0]:
                return await driver._execute(begun, driver._conn, begin, function, args)
            return function(driver._conn, *args)

    async def read_right_away(self, function: Callable[..., T], *args: Any) -> T:
        """A read on the event loop's thread, unless SQLite is busy: then on its own thread."""
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._execute_mutex:
            done, result = without_waiting(driver._conn, function, args)
            if done:
                return result  # type: ignore[return-value]
            return await driver._execute(function, driver._conn, *args)

    def commit(self) -> None:
        self.begin, self.writer, self.point_reads = None, False, False
        if self.in_transaction is False:
            return  # committed already, in the trip that wrote last (``service.journal``)
        super().commit()
        self.in_transaction = False

    def rollback(self) -> None:
        self.begin, self.writer, self.point_reads = None, False, False
        if self.in_transaction is False:
            return  # nothing began since the last COMMIT or ROLLBACK
        super().rollback()
        self.in_transaction = False


def begun(
    sqlite: sqlite3.Connection, begin: str, function: Callable[..., T], args: tuple[Any, ...]
) -> T:
    sqlite.execute(begin)
    return function(sqlite, *args)


def execute(sqlite: sqlite3.Connection, sql: str) -> None:
    sqlite.execute(sql)


def without_waiting(
    sqlite: sqlite3.Connection, function: Callable[..., T], args: tuple[Any, ...]
) -> tuple[bool, T | None]:
    """``(True, function(sqlite, *args))`` run with no busy wait, or ``(False, None)`` if SQLite
    was busy (for a BEGIN or a read, which change nothing before they fail)."""
    (timeout,) = sqlite.execute("PRAGMA busy_timeout").fetchone()
    sqlite.execute("PRAGMA busy_timeout = 0")
    try:
        return True, function(sqlite, *args)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # type: ignore[attr-defined]
            raise
        return False, None
    finally:
        sqlite.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def reads_right_away(dbapi_connection: Any) -> None:
    """The connection's reads, each its own transaction, go ``read_right_away`` until it goes
    back to the pool."""
    if isinstance(dbapi_connection, OneTripConnection):
        dbapi_connection.point_reads = True


def begin_with_next_trip(dbapi_connection: Any, statement: str, *, writer: bool = False) -> bool:
    """Send ``statement`` (a BEGIN) with the connection's next statement: one trip less per
    transaction. ``writer``: every statement of the transaction goes ``right_away``. False if
    ``dbapi_connection`` is not one of ours."""
    if not isinstance(dbapi_connection, OneTripConnection):
        return False
    dbapi_connection.begin, dbapi_connection.writer = statement, writer
    return True


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        # Used from the event loop's thread too (``right_away``), never at the same time.
        kw.setdefault("check_same_thread", False)
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy does: never hold up exit
        return OneTripConnection(self, await_(connection))


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)


async def on_sqlite_thread(
    connection: AsyncConnection, function: Callable[..., T], *args: Any, statement: str = ""
) -> T:
    """``function(sqlite3_connection, *args)`` in one trip to ``connection``'s SQLite thread.

    It runs inside the connection's current transaction. A ``sqlite3`` error comes back as
    SQLAlchemy's (``IntegrityError``, ``OperationalError``, ...), naming ``statement``.
    """
    return await in_one_call(connection, function, args, statement, now=False)


async def right_away(
    connection: AsyncConnection, function: Callable[..., T], *args: Any, statement: str = ""
) -> T:
    """``function(sqlite3_connection, *args)`` on the event loop's own thread, for a short write
    under the write lock. A trip to SQLite's thread ends with the writer queued behind every
    other request's work on the event loop before it can go on, and all the other writers wait
    for it; this does not. Only a BEGIN that finds another process writing would make the loop
    wait, so that case takes the trip as usual. Errors as ``on_sqlite_thread``'s.
    """
    return await in_one_call(connection, function, args, statement, now=True)


async def in_one_call(
    connection: AsyncConnection,
    function: Callable[..., T],
    args: tuple[Any, ...],
    statement: str,
    *,
    now: bool,
) -> T:
    """``function`` right away (``now``) or in one trip; SQLAlchemy's own adapter (an engine
    that ``build_engine`` did not make) always takes the trip."""
    raw = await connection.get_raw_connection()
    adapted = raw.dbapi_connection
    try:
        if isinstance(adapted, OneTripConnection):
            go = adapted.right_away if now else adapted.trip
            result, adapted.in_transaction = await go(call, function, args)
        else:
            driver: aiosqlite.Connection = raw.driver_connection  # type: ignore[assignment]
            result, _ = await driver._execute(call, driver._conn, function, args)
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
    return result


def call(
    sqlite: sqlite3.Connection, function: Callable[..., T], args: tuple[Any, ...]
) -> tuple[T, bool]:
    return function(sqlite, *args), sqlite.in_transaction
