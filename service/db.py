"""Database plumbing: declarative base, portable types, engine and session factory.

SQLite is the embedded default and PostgreSQL the production database; everything here works the
same on both. Engines are built by ``Database`` inside the app's lifespan, never at import.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import JSON, DateTime, MetaData, event, make_url
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from service import sqlite_driver
from service.checkpoints import FALLBACK_PAGES, Checkpointer, file_path
from service.errors import Unavailable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Entity(Base):
    """A row with a UUID key and a creation time, the shape of every domain object."""

    __abstract__ = True

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __init__(self, **values: Any) -> None:
        # Known from construction on, so audit entries and events can name a row before flush.
        values.setdefault("id", uuid4())
        values.setdefault("created_at", utcnow())
        super().__init__(**values)


class Database:
    """Owns the engine and hands out sessions."""

    write_lock: asyncio.Lock | None = None
    busy_timeout_ms = 5000

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 10) -> None:
        self.url = url
        self.checkpointer = sqlite_checkpointer(url)
        self.engine = build_engine(
            url,
            busy_timeout_ms=busy_timeout_ms,
            pool_size=pool_size,
            checkpointer=self.checkpointer,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.busy_timeout_ms = busy_timeout_ms
        if self.is_sqlite:
            self.write_lock = asyncio.Lock()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """This process's turn to write, held until the transaction ends (SQLite only).

        SQLite admits one writer at a time; the others wait in its busy handler, which sleeps
        in steps of up to 100 ms and so leaves the database idle while writers queue (the write
        bench measured p99 above 2 s at 32 concurrent writes). Writers of one process queue
        here instead and start the moment the previous one ends. Other processes (a worker)
        still meet the busy handler. Waiting is bounded by the same busy timeout.
        """
        if self.write_lock is None:
            yield
            return
        try:
            async with asyncio.timeout(self.busy_timeout_ms / 1000):
                await self.write_lock.acquire()
        except TimeoutError:
            busy = Unavailable("The database is busy with other writes; retry shortly.")
            busy.headers["Retry-After"] = "1"
            raise busy from None
        try:
            yield
        finally:
            self.write_lock.release()

    @asynccontextmanager
    async def single_reads(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads that need no transaction around them (each alone is one).

        It runs in autocommit mode: no BEGIN and ROLLBACK round trips (thread hops on SQLite),
        and a single statement sees the same committed data either way. SQLite's driver is in
        autocommit mode already (``configure_sqlite``); only our BEGIN is left out there, since
        changing its isolation level would put the driver back in its own transaction handling.
        On SQLite these reads run right away on the event loop's thread, unless SQLite is busy
        (``sqlite_driver.read_right_away``).
        """
        async with self.engine.connect() as connection:
            if self.is_sqlite:
                await connection.execution_options(sqlite_begin="NONE")
                raw = await connection.get_raw_connection()
                sqlite_driver.reads_right_away(raw.dbapi_connection)
            else:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            yield connection

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        if self.checkpointer is not None:
            await asyncio.to_thread(self.checkpointer.stop)
        await self.engine.dispose()


def sqlite_checkpointer(url: str) -> Checkpointer | None:
    """A checkpointer for a SQLite file; None for PostgreSQL and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    path = file_path(make_url(url).database)
    return Checkpointer(path) if path else None


class BoundDatabase(Database):
    """Sessions bound to one open connection, joining its transaction through SAVEPOINTs.

    Tests use it so the application's real commit path runs while the outer transaction is
    rolled back afterwards.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self.url = str(connection.engine.url)
        self.connection = connection
        self.engine = connection.engine
        self.sessions = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )

    @asynccontextmanager
    async def single_reads(self) -> AsyncIterator[AsyncConnection]:
        yield self.connection

    async def dispose(self) -> None:
        return None


def build_engine(
    url: str,
    *,
    busy_timeout_ms: int = 5000,
    pool_size: int = 10,
    checkpointer: Checkpointer | None = None,
) -> AsyncEngine:
    """``checkpointer``, for SQLite, takes WAL checkpoints over from the engine's writers."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": busy_timeout_ms / 1000}, module=sqlite_driver.dbapi()
        )
        configure_sqlite(engine, busy_timeout_ms, checkpointer)
        return engine
    # No pre-ping on every checkout: it costs a round trip, two per request. A connection that
    # died with its server while in use fails its statement once, and SQLAlchemy then
    # invalidates the whole pool, so the following checkouts connect afresh. Only a connection
    # that sat idle is pinged first (``ping_after_idle``).
    engine = create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )
    ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


# A connection unused for this long is pinged before use. Under load connections are back in
# use within milliseconds, so the hot path has no ping; across a quiet spell in which PostgreSQL
# restarted (no restart takes less than this), the first request finds a live connection instead
# of failing with 503 on a dead one.
PING_AFTER_IDLE_SECONDS = 0.25


def ping_after_idle(engine: AsyncEngine, seconds: float) -> None:
    """SQLAlchemy's pessimistic disconnect handling, for connections idle ``seconds`` or more:
    a failed ping raises ``DisconnectionError``, and the pool replaces the connection."""

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("an idle connection did not answer") from exc


def configure_sqlite(
    engine: AsyncEngine, busy_timeout_ms: int, checkpointer: Checkpointer | None = None
) -> None:
    """WAL, foreign keys, busy timeout, and transactions that SQLite really begins.

    pysqlite begins transactions lazily and on its own terms, which breaks SAVEPOINT and lets two
    writers both read before either writes (the second then fails with SQLITE_BUSY instead of
    waiting). We take over BEGIN, as SQLAlchemy's documentation recommends, and let a unit of work
    ask for ``BEGIN IMMEDIATE`` so writers queue on the busy timeout instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpointer is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
            checkpointer.start()
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        mode = options.get("sqlite_begin", "DEFERRED")
        if mode == "NONE":  # each statement is its own transaction (``single_reads``)
            return
        if not sqlite_driver.begin_with_next_trip(
            connection.connection.dbapi_connection,
            f"BEGIN {mode}",
            writer=options.get("sqlite_right_away", False),
        ):
            connection.exec_driver_sql(f"BEGIN {mode}")


WRITER = {"sqlite_begin": "IMMEDIATE", "sqlite_right_away": True}


async def begin_writing(session: AsyncSession) -> None:
    """Start the session's transaction as a writer. SQLite: BEGIN IMMEDIATE, which goes with
    its first statement and takes the write lock before it; then every statement runs right
    away on the event loop's thread (``sqlite_driver.right_away``), so that the writer holding
    the write lock never waits behind other requests' work for the loop to resume it."""
    await session.connection(execution_options=WRITER)
