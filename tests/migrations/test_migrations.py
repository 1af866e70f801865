"""The migrations build exactly the schema the models describe, on the database under test."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from service import migrate
from service.db import build_engine
from service.models import metadata


async def schema_differences(url: str) -> list:
    engine = build_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = build_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_empty_database_migrates_to_head_matching_the_models(empty_database_url):
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    assert await schema_differences(url) == []
    assert {table.name for table in metadata.sorted_tables} <= await table_names(url)


async def test_head_starts_the_audit_chain_at_genesis(empty_database_url):
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    engine = build_engine(url)
    async with engine.connect() as connection:
        head = (await connection.execute(text("SELECT seq, hash FROM audit_head"))).all()
    await engine.dispose()
    assert [tuple(row) for row in head] == [(0, "0" * 64)]


async def test_downgrade_to_base_and_back(empty_database_url):
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    await migrate.upgrade_async(url, "head")  # a second upgrade is a no-op
    import anyio.to_thread
    from alembic import command

    await anyio.to_thread.run_sync(command.downgrade, migrate.alembic_config(url), "base")
    assert await table_names(url) <= {"alembic_version"}
    await migrate.upgrade_async(url)
    assert await schema_differences(url) == []
