"""Reading the chain for verification straight from the driver, in batches.

Each entry stores the bytes its hash covers (``canonical``), so checking an entry is one
SHA-256 over ``prev_hash ‖ canonical`` and two comparisons. On PostgreSQL the server computes
the SHA-256 of each row (``sha256``, in C, beside the data) and sends back whether it matches;
on SQLite Python's ``hashlib`` does it. SQLAlchemy's result layer would cost more than the
hashing, so rows come from the driver's own calls.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

SEQ, PREV_HASH, HASH = 0, 1, 2  # positions in a fetched row; the fourth is checked per database

POSTGRES_BATCH = (
    "SELECT seq, prev_hash, hash,"
    " encode(sha256(convert_to(prev_hash || canonical, 'UTF8')), 'hex') = hash"
    " FROM audit_entry WHERE seq >= $1 ORDER BY seq LIMIT $2"
)
SQLITE_BATCH = (
    "SELECT seq, prev_hash, hash, canonical FROM audit_entry WHERE seq >= ? ORDER BY seq LIMIT ?"
)

Row = Sequence[Any]


class Reader:
    """Batches of rows in chain order, the next fetched while this one is checked."""

    def __init__(self, driver: Any, dialect: str, size: int) -> None:
        self.driver = driver
        self.postgres = dialect == "postgresql"
        self.size = size
        self.ahead: asyncio.Future[list[Row]] | None = None

    @classmethod
    async def of(cls, connection: AsyncConnection, size: int) -> Reader:
        raw = await connection.get_raw_connection()
        return cls(raw.driver_connection, connection.dialect.name, size)

    async def fetch(self, from_seq: int) -> list[Row]:
        if self.postgres:
            return await self.driver.fetch(POSTGRES_BATCH, from_seq, self.size)
        # One call on aiosqlite's thread (not execute, then fetchall), so the whole batch is
        # read there while this thread hashes the previous one.
        return list(await self.driver.execute_fetchall(SQLITE_BATCH, (from_seq, self.size)))

    async def batches(self) -> AsyncIterator[list[Row]]:
        rows = await self.fetch(1)
        while rows:
            self.ahead = None
            if len(rows) == self.size:
                self.ahead = asyncio.ensure_future(self.fetch(rows[-1][SEQ] + 1))
                await asyncio.sleep(0)  # the query goes out before the checking starts
            yield rows
            rows = await self.ahead if self.ahead else []

    async def close(self) -> None:
        """Wait for a batch still being fetched, so the connection can serve another query."""
        if self.ahead:
            await asyncio.wait([self.ahead])


def first_broken(rows: Sequence[Row], postgres: bool, expected_seq: int, prev_hash: str) -> int:
    """The index of the first row that does not follow from its predecessor (``len(rows)`` if
    none)."""
    for index, (seq, prev, hash_, checked) in enumerate(rows):
        if seq != expected_seq or prev != prev_hash:
            return index
        if not (checked is True if postgres else hashes_to(prev, checked, hash_)):
            return index
        prev_hash, expected_seq = hash_, expected_seq + 1
    return len(rows)


def hashes_to(prev_hash: str, canonical: Any, hash_: str) -> bool:
    if not isinstance(canonical, str):
        return False
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest() == hash_
