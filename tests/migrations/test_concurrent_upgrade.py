"""Several replicas (or migration jobs) running ``entente db upgrade`` at once on PostgreSQL."""

import asyncio
import os
import sys

import pytest
from sqlalchemy import text

from service.db import build_engine

UPGRADERS = 3


async def current_revisions(url: str) -> list[str]:
    engine = build_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def db_upgrade(url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "db",
        "upgrade",
        env={**os.environ, "ENTENTE_DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, output.decode()


@pytest.mark.postgres_only
async def test_upgrades_started_together_take_turns_and_all_succeed(empty_database_url):
    url = await empty_database_url()
    results = await asyncio.gather(*(db_upgrade(url) for _ in range(UPGRADERS)))
    for code, output in results:
        assert code == 0, output  # none failed on a table another one had just created
    assert len(await current_revisions(url)) == 1
