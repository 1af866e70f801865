"""Test harness: the whole suite runs against SQLite (default) or PostgreSQL (``--db=postgres``).

The schema is built once per run by Alembic (never ``create_all``). Each test runs inside an
outer transaction that is rolled back at the end; the app's sessions join it through SAVEPOINTs,
so the real commit path runs. Tests that need real concurrent commits use ``committed_database``,
which empties every table afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service import migrate
from service.app import create_app
from service.auth import passwords
from service.config import Settings
from service.db import BoundDatabase, Database, build_engine
from service.models import metadata
from tests.factories import World, build_world, http_client, running

POSTGRES_ADMIN_DSN = os.environ.get(
    "ENTENTE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgres"],
        default=os.environ.get("ENTENTE_TEST_DB", "sqlite"),
        help="database to run the suite against",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Argon2 stays real in tests, only cheaper, so hundreds of users take seconds, not minutes.
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") == "postgres":
        return
    skip = pytest.mark.skip(reason="needs real concurrent PostgreSQL connections (--db=postgres)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    return f"entente database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


async def create_postgres_database(name: str) -> str:
    """A fresh, empty PostgreSQL database; its SQLAlchemy URL."""
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.exit(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN}: {exc}", returncode=3)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


async def drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def empty_database_url(
    db_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[object]:
    """A factory of fresh, empty databases of the kind under test (dropped at the end)."""
    created: list[str] = []

    async def make() -> str:
        if db_kind == "sqlite":
            path = tmp_path_factory.mktemp("db") / "entente.db"
            return f"sqlite+aiosqlite:///{path}"
        name = f"entente_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        created.append(name)
        return await create_postgres_database(name)

    yield make
    for name in created:
        await drop_postgres_database(name)


@pytest.fixture(scope="session")
async def database_url(empty_database_url) -> str:
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = build_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield connection
        await outer.rollback()


@pytest.fixture
def database(connection: AsyncConnection) -> BoundDatabase:
    return BoundDatabase(connection)


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "signing-key.pem"


@pytest.fixture
def settings(database_url: str, signing_key_file: Path, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        signing_key_file=signing_key_file,
        password_grant=True,
        serve_worker=False,  # webhook tests start their workers themselves
    )


@pytest.fixture
async def app(settings: Settings, database: Database):
    async with running(create_app(settings, database=database)) as application:
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(app) as client:
        yield client


@pytest.fixture
async def world(app, client: httpx.AsyncClient) -> World:
    """Parties of the seed case plus an unrelated authority, with tokens for each persona."""
    return await build_world(app, client)


@pytest.fixture
async def committed_database(database_url: str, db_kind: str) -> AsyncIterator[Database]:
    """A real engine whose commits are real; every table is emptied afterwards."""
    real = Database(database_url)
    yield real
    async with real.engine.begin() as conn:
        await empty_all_tables(conn, db_kind)
    await real.dispose()


async def empty_all_tables(conn: AsyncConnection, db_kind: str) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    if db_kind == "postgres":
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    else:
        for name in tables:
            await conn.execute(text(f"DELETE FROM {name}"))
    # The migrations seed the heads (audit chain, outbox, fan-out); put them back as they were.
    await conn.execute(
        text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64}
    )
    await conn.execute(text("INSERT INTO outbox_head (id, seq) VALUES (1, 0)"))
    await conn.execute(text("INSERT INTO webhook_fanout_head (id, seq) VALUES (1, 0)"))
