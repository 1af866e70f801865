"""Alembic environment, async, for SQLite and PostgreSQL alike.

The URL comes from ``config.attributes["url"]`` (set by ``service.migrate``), else from the
settings. A caller may also hand over an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from service.config import Settings
from service.db import build_engine
from service.models import metadata

config = context.config
# Any constant: migrators of one database queue on it ("entente" in ASCII).
MIGRATION_LOCK = 0x656E74656E7465


def run_with(connection: Connection) -> None:
    take_migration_lock(connection)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def take_migration_lock(connection: Connection) -> None:
    """On PostgreSQL one migrator at a time (replicas or jobs started together), until commit.

    The lock comes before Alembic reads or creates ``alembic_version``, so a migrator that
    waited finds the schema at head and does nothing. SQLite serialises writers by itself.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


async def run_online() -> None:
    url = config.attributes.get("url") or Settings().resolved_database_url
    engine = build_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline() -> None:
    url = config.attributes.get("url") or Settings().resolved_database_url
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif (connection := config.attributes.get("connection")) is not None:
    run_with(connection)
else:
    asyncio.run(run_online())
