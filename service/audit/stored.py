"""Checking the stored chain in batches, straight from the driver.

Each entry stores the bytes its hash covers (``canonical``), so checking an entry is one
SHA-256 over ``prev_hash ‖ canonical`` and two comparisons. Python's ``hashlib`` does it
(PostgreSQL's own ``sha256`` measured about three times slower per entry), and SQLAlchemy's
result layer is bypassed: it would cost more than the hashing.

Most batches are whole, so the first reading of a batch is the cheapest one that can prove it:
every entry of a range of ``seq`` as one value, ``hash ‖ prev_hash ‖ canonical`` in bytes. A
range that holds all its entries, each hashing right and beginning with its predecessor's
hash, is whole. Anything else (a short range, an entry that does not follow) is read again
with each entry's ``seq`` and checked entry by entry, to name the first that does not follow
and why.

On PostgreSQL the next batch is fetched by the server while this one is checked. On SQLite a
batch is read and checked in one call on aiosqlite's thread: one thread then wants the GIL,
not two taking turns, which measured slower than not overlapping at all.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from service.sqlite_driver import on_sqlite_thread

# A range of entries, each as one value: hash ‖ prev_hash ‖ canonical, in UTF-8 bytes. An entry
# whose hashes are not 64 characters long is left out, so its range is read again exactly.
JOINED = {
    "postgresql": "SELECT textsend(hash || prev_hash || canonical) FROM audit_entry"
    " WHERE seq BETWEEN $1 AND $2 AND length(hash) = 64 AND length(prev_hash) = 64"
    " ORDER BY seq",
    "sqlite": "SELECT CAST(hash || prev_hash || canonical AS BLOB) FROM audit_entry"
    " WHERE seq BETWEEN ? AND ? AND length(hash) = 64 AND length(prev_hash) = 64"
    " ORDER BY seq",
}
# The entries from a seq on, each as (seq, prev_hash ‖ canonical in bytes, hash).
EXACT = {
    "postgresql": "SELECT seq, textsend(prev_hash || canonical), hash FROM audit_entry"
    " WHERE seq >= $1 ORDER BY seq LIMIT $2",
    "sqlite": "SELECT seq, CAST(prev_hash || canonical AS BLOB), hash FROM audit_entry"
    " WHERE seq >= ? ORDER BY seq LIMIT ?",
}
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
    """What some entries say: how many there are, how many of them are intact from the first
    on, the last intact one's seq and hash, and the first broken one."""

    rows: int
    intact: int
    last_seq: int = 0
    last_hash: str = ""
    broken: Broken | None = None


class Reader:
    """Checked batches of the chain in order, from an entry on, to the first short or broken
    one."""

    def __init__(self, connection: AsyncConnection, driver: Any, size: int) -> None:
        self.connection = connection
        self.driver = driver
        self.postgres = connection.dialect.name == "postgresql"
        self.size = size
        self.ahead: asyncio.Future[list[Row]] | None = None

    @classmethod
    async def of(cls, connection: AsyncConnection, size: int) -> Reader:
        raw = await connection.get_raw_connection()
        return cls(connection, raw.driver_connection, size)

    def batches(self, start: int, prev_hash: str) -> AsyncIterator[Batch]:
        """From entry ``start``, whose predecessor's hash is ``prev_hash``."""
        if self.postgres:
            return self.postgres_batches(start, prev_hash)
        return self.sqlite_batches(start, prev_hash)

    async def sqlite_batches(self, start: int, prev_hash: str) -> AsyncIterator[Batch]:
        while True:
            batch = await on_sqlite_thread(
                self.connection,
                sqlite_batch,
                start,
                prev_hash,
                self.size,
                statement=JOINED["sqlite"],
            )
            yield batch
            if batch.broken or batch.rows < self.size:
                return
            start, prev_hash = batch.last_seq + 1, batch.last_hash

    async def postgres_batches(self, start: int, prev_hash: str) -> AsyncIterator[Batch]:
        fetching: asyncio.Future[list[Row]] | None = self.fetch_joined(start)
        while fetching is not None:
            rows = await fetching
            self.ahead = fetching = None
            if len(rows) == self.size:
                self.ahead = fetching = self.fetch_joined(start + self.size)
            last_hash = await self.whole_in_slices(rows, prev_hash)
            if last_hash is None:
                yield await self.postgres_exact(start, prev_hash)
                return
            start, prev_hash = start + self.size, last_hash
            yield Batch(self.size, self.size, start - 1, last_hash)

    def fetch_joined(self, start: int) -> asyncio.Future[list[Row]]:
        end = start + self.size - 1
        return asyncio.ensure_future(self.driver.fetch(JOINED["postgresql"], start, end))

    async def whole_in_slices(self, rows: list[Row], prev_hash: str) -> str | None:
        """``whole``, a slice at a time: between slices asyncpg reads the next batch from the
        socket (on this thread; the server stops sending while nobody reads)."""
        if len(rows) != self.size:
            return None
        last_hash: str | None = prev_hash
        for first in range(0, len(rows), SLICE):
            await asyncio.sleep(0)
            last_hash = whole(rows[first : first + SLICE], last_hash)
            if last_hash is None:
                return None
        return last_hash

    async def postgres_exact(self, start: int, prev_hash: str) -> Batch:
        await self.close()  # one query at a time on a connection
        rows = await self.driver.fetch(EXACT["postgresql"], start, self.size)
        return check_rows(rows, start, prev_hash)

    async def close(self) -> None:
        """Wait for a batch still being fetched, so the connection can serve another query."""
        if self.ahead:
            await asyncio.wait([self.ahead])
            self.ahead = None


def sqlite_batch(sqlite: Any, start: int, prev_hash: str, size: int) -> Batch:
    """One batch, read and checked on the thread that owns ``sqlite``."""
    rows = fetch_all(sqlite, JOINED["sqlite"], (start, start + size - 1))
    last_hash = whole(rows, prev_hash) if len(rows) == size else None
    if last_hash is not None:
        return Batch(size, size, start + size - 1, last_hash)
    return check_rows(fetch_all(sqlite, EXACT["sqlite"], (start, size)), start, prev_hash)


def fetch_all(sqlite: Any, query: str, parameters: tuple[int, int]) -> list[Row]:
    cursor = sqlite.execute(query, parameters)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def whole(rows: Sequence[Row], prev_hash: str) -> str | None:
    """The last entry's hash when each of ``rows`` (``hash ‖ prev_hash ‖ canonical``) hashes
    right and begins with its predecessor's hash, the first with ``prev_hash``; else None."""
    sha256 = hashlib.sha256
    prev = prev_hash.encode()
    for (joined,) in rows:
        hash_ = joined[:HASH_LENGTH]
        # Canonical JSON is an object: a longer prev_hash cannot pass for the predecessor's.
        linked = joined.startswith(prev, HASH_LENGTH) and joined.startswith(b"{", 2 * HASH_LENGTH)
        if not linked or sha256(joined[HASH_LENGTH:]).hexdigest().encode() != hash_:
            return None
        prev = hash_
    return prev.decode()


def check_rows(rows: Sequence[Row], start: int, prev_hash: str) -> Batch:
    """Entry by entry (``seq``, ``prev_hash ‖ canonical``, ``hash``): where the chain breaks."""
    sha256 = hashlib.sha256
    expected_seq, last_seq, prev = start, 0, prev_hash.encode()
    for index, (seq, material, hash_) in enumerate(rows):
        linked = material.startswith(prev) and material.startswith(b"{", HASH_LENGTH)
        if seq != expected_seq or not linked or sha256(material).hexdigest() != hash_:
            stored_prev = bytes(material[:HASH_LENGTH]).decode(errors="replace")
            broken = Broken(seq, stored_prev, expected_seq, prev.decode())
            return Batch(len(rows), index, last_seq, "", broken)
        prev, expected_seq, last_seq = hash_.encode(), expected_seq + 1, seq
    return Batch(len(rows), len(rows), last_seq, prev.decode())
