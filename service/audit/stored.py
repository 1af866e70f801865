"""Checking the stored chain in batches, straight from the driver.

Each entry stores the bytes its hash covers (``canonical``), so checking an entry is one
SHA-256 over ``prev_hash ‖ canonical`` and two comparisons. The database sends that material
ready-joined as bytes (no text decoding in Python, no joining and encoding again), and
Python's ``hashlib`` checks it: measured, PostgreSQL's own ``sha256`` costs about three times
Python's per entry. SQLAlchemy's result layer would cost more than the hashing, so rows come
from the driver's own calls.

A batch starts at the entry that should come next. When a batch is intact its last entry is
``start + size - 1``, so the next batch is fetched (by the database, beside this thread) while
this one is checked; when it is not, verification stops there.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

# (seq, prev_hash ‖ canonical as UTF-8 bytes, hash)
POSTGRES_BATCH = (
    "SELECT seq, textsend(prev_hash || canonical), hash FROM audit_entry"
    " WHERE seq >= $1 ORDER BY seq LIMIT $2"
)
SQLITE_BATCH = (
    "SELECT seq, CAST(prev_hash || canonical AS BLOB), hash FROM audit_entry"
    " WHERE seq >= ? ORDER BY seq LIMIT ?"
)
HASH_LENGTH = 64  # hex digits of a SHA-256
SLICE = 1_000

Row = Sequence[Any]


@dataclass(frozen=True)
class Broken:
    """The first entry of a batch that does not follow from its predecessor."""

    seq: int
    prev_hash: str
    expected_seq: int
    expected_prev: str


@dataclass(frozen=True)
class Batch:
    """What some rows say: how many there are, how many of them are intact from the first on,
    the last intact one's seq and hash, and the first broken one."""

    rows: int
    intact: int
    last_seq: int = 0
    last_hash: str = ""
    broken: Broken | None = None


class Reader:
    """Checked slices of the chain in order, the next batch fetched while this one is checked."""

    def __init__(self, driver: Any, dialect: str, size: int) -> None:
        self.driver = driver
        self.postgres = dialect == "postgresql"
        self.size = size
        self.ahead: asyncio.Future[list[Row]] | None = None

    @classmethod
    async def of(cls, connection: AsyncConnection, size: int) -> Reader:
        raw = await connection.get_raw_connection()
        return cls(raw.driver_connection, connection.dialect.name, size)

    async def fetch(self, start: int) -> list[Row]:
        if self.postgres:
            return await self.driver.fetch(POSTGRES_BATCH, start, self.size)
        # One call on aiosqlite's thread (not execute, then fetchall), so the whole batch is
        # read there while this thread hashes the previous one.
        return list(await self.driver.execute_fetchall(SQLITE_BATCH, (start, self.size)))

    async def batches(self, start: int, prev_hash: str) -> AsyncIterator[Batch]:
        """From entry ``start``, whose predecessor's hash is ``prev_hash``, to the first short
        or broken batch; each fetched batch is checked in slices of ``SLICE`` rows."""
        fetching: asyncio.Future[list[Row]] | None = asyncio.ensure_future(self.fetch(start))
        while fetching is not None:
            rows = await fetching
            self.ahead = fetching = None
            if len(rows) == self.size:
                self.ahead = fetching = asyncio.ensure_future(self.fetch(start + self.size))
            for first in range(0, len(rows), SLICE):
                # Between slices the driver takes in the next batch: asyncpg reads the socket
                # on this thread, and the server stops sending while nobody reads.
                await asyncio.sleep(0)
                batch = check_rows(rows[first : first + SLICE], start, prev_hash)
                yield batch
                if batch.broken:
                    return
                start, prev_hash = batch.last_seq + 1, batch.last_hash

    async def close(self) -> None:
        """Wait for a batch still being fetched, so the connection can serve another query."""
        if self.ahead:
            await asyncio.wait([self.ahead])


def check_rows(rows: Sequence[Row], start: int, prev_hash: str) -> Batch:
    """Each row's hash covers its material, which begins with its predecessor's hash."""
    sha256 = hashlib.sha256
    expected_seq, last_seq, prev = start, 0, prev_hash.encode()
    for index, (seq, material, hash_) in enumerate(rows):
        # Canonical JSON is an object: a longer prev_hash cannot pass for the predecessor's.
        linked = material.startswith(prev) and material.startswith(b"{", HASH_LENGTH)
        if seq != expected_seq or not linked or sha256(material).hexdigest() != hash_:
            stored_prev = bytes(material[:HASH_LENGTH]).decode(errors="replace")
            broken = Broken(seq, stored_prev, expected_seq, prev.decode())
            return Batch(len(rows), index, last_seq, "", broken)
        prev, expected_seq, last_seq = hash_.encode(), expected_seq + 1, seq
    return Batch(len(rows), len(rows), last_seq, prev.decode())
