"""SQLite writers of one process queue for their turn; one kept waiting too long gets a 503."""

from __future__ import annotations

import asyncio

import pytest

from service.db import Database
from service.errors import Unavailable


@pytest.fixture
async def database(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}", busy_timeout_ms=200)
    yield database
    await database.dispose()


async def test_writers_take_turns(database):
    order: list[str] = []

    async def write(name: str) -> None:
        async with database.writing():
            order.append(f"{name} starts")
            await asyncio.sleep(0.01)
            order.append(f"{name} ends")

    await asyncio.gather(write("first"), write("second"))
    assert order == ["first starts", "first ends", "second starts", "second ends"]


async def test_a_writer_kept_waiting_past_the_busy_timeout_is_told_to_retry(database):
    async with database.writing():
        with pytest.raises(Unavailable) as refused:
            async with database.writing():
                pass  # pragma: no cover - never reached
    assert refused.value.status == 503
    assert refused.value.headers["Retry-After"] == "1"
