"""Hashing entries straight from their stored columns, so that verification is fast.

``chain.canonical`` works on ORM objects; building one per row and encoding it with ``json``
caps verification near 30,000 entries/s. Here rows come from the driver as plain values. On
PostgreSQL the server renders each entry's canonical JSON around ``details`` (``to_json``
quotes strings exactly as ``json.dumps`` does with ``ensure_ascii=False``); on SQLite, whose
string functions are slower than Python, Python renders it with orjson. Either way ``details``
is re-encoded with orjson (sorted keys), checked by ``exact``, and the whole is hashed.

This is a fast path only. An entry it cannot confirm is read again as an ORM object and
checked the slow way (``chain.chain_hash``), which alone decides that an entry is broken. A fast
match means the rendered bytes equal those the service hashed; every rendering here is
one-to-one on what it accepts (anything else renders as NULL), so the stored values are the
ones the service wrote, for which the slow way matches too.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

# Canonical key order (sorted); ``details`` sits between the two groups.
BEFORE_DETAILS = ("action", "actor_id", "actor_name", "actor_type", "at", "client_addr")
AFTER_DETAILS = ("dialogue_id", "entity_id", "entity_type", "org_id", "request_id", "seq")
UUIDS = {"actor_id", "org_id", "dialogue_id"}
SEQ, HASH = 0, -1  # positions in a fetched row

NUMBER_WRITTEN_DIFFERENTLY = re.compile(rb"[:,\[]-?(?:0\.0000|\d+(?:\.\d+)?e(?:\+|-\d[,\]}]))")
FAST_ERRORS = (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError, ValueError)

Row = Sequence[Any]


def postgres_json(column: str) -> str:
    if column == "at":
        return """'"' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'"""
    if column == "seq":
        return "seq::text"
    if column in UUIDS:
        return f"""coalesce('"' || {column}::text || '"', 'null')"""
    return f"coalesce(to_json({column})::text, 'null')"


def members(json_of: Callable[[str], str], names: Sequence[str], opening: str) -> str:
    parts = [
        f"""'{opening if i == 0 else ","}"{name}":' || {json_of(name)}"""
        for i, name in enumerate(names)
    ]
    return " || ".join(parts)


def batch_sql(
    json_of: Callable[[str], str], as_bytes: str, prev_hash: str, details: str, bounds: str
) -> str:
    """seq; prev_hash and the canonical JSON up to ``details``; ``details`` as stored; the
    rest of the canonical JSON; hash."""
    head = f"""{prev_hash} || {members(json_of, BEFORE_DETAILS, "{")} || ',"details":'"""
    tail = f"""{members(json_of, AFTER_DETAILS, ",")} || '}}'"""
    return (
        f"SELECT seq, {as_bytes.format(head)}, {as_bytes.format(details)},"  # noqa: S608
        f" {as_bytes.format(tail)}, hash FROM audit_entry {bounds}"
    )


POSTGRES_BATCH = batch_sql(
    postgres_json,
    "convert_to({}, 'UTF8')",
    "prev_hash",
    "details::text",
    "WHERE seq >= $1 ORDER BY seq LIMIT $2",
)
# SQLite's own string functions would cost more than Python's work on the stored values.
SQLITE_BATCH = (
    "SELECT seq, prev_hash, action, actor_id, actor_name, actor_type, at, client_addr, details,"
    " dialogue_id, entity_id, entity_type, org_id, request_id, hash"
    " FROM audit_entry WHERE seq >= ? ORDER BY seq LIMIT ?"
)


class Reader:
    """Batches of rendered rows in chain order, the next fetched while this one is checked.

    It uses the driver's own calls: SQLAlchemy's result layer would cost more than the hashing.
    """

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

    async def quiet(self) -> None:
        """Wait for the batch being fetched, so the connection can serve another query."""
        if self.ahead:
            await asyncio.wait([self.ahead])


def canonical_details(stored: bytes) -> bytes:
    return exact(orjson.dumps(orjson.loads(stored), option=orjson.OPT_SORT_KEYS))


def exact(details: bytes) -> bytes:
    """``details`` if json would have written them byte for byte the same; else ValueError.

    orjson reads integers from 2**64 as floats (json keeps them exact) and then writes them with
    ``e+`` (the service stores no float that large: ``plain_json``); it writes 1e-05 as
    ``0.00001`` and 1e-07 as ``1e-7``. Strings that merely look like these cost a slow check.
    """
    suspicious = b"e+" in details or b"e-" in details or b"0.0000" in details
    if suspicious and NUMBER_WRITTEN_DIFFERENTLY.search(details):
        raise ValueError("a number orjson may write differently")
    return details


def postgres_hashed(row: Row, prev: bytes) -> bytes:
    """What was hashed, from (seq, prev_hash and the JSON up to details, details, the rest)."""
    head = row[1]
    if head is None or head[:64] != prev:
        raise ValueError("not linked to the preceding entry")
    return head + canonical_details(row[2]) + row[3]


def sqlite_hashed(row: Row, prev: bytes) -> bytes:
    """What was hashed, from the values as SQLite stores them: times as
    ``YYYY-MM-DD HH:MM:SS.ffffff``, UUIDs as 32 hex digits, ``details`` as JSON text."""
    (_, prev_hash, action, actor_id, actor_name, actor_type, at, client_addr, details) = row[:9]
    if prev_hash != prev.decode() or len(at) != 26 or at[10] != " ":
        raise ValueError("not linked, or not a time as SQLite stores it")
    fields = {
        "action": action,
        "actor_id": uuid_text(actor_id),
        "actor_name": actor_name,
        "actor_type": actor_type,
        "at": f"{at[:10]}T{at[11:]}Z",
        "client_addr": client_addr,
        "details": orjson.Fragment(canonical_details(details)),
        "dialogue_id": uuid_text(row[9]),
        "entity_id": row[10],
        "entity_type": row[11],
        "org_id": uuid_text(row[12]),
        "request_id": row[13],
        "seq": row[0],
    }
    return prev + orjson.dumps(fields)  # the keys are in canonical order already


KNOWN_UUIDS: dict[str, str] = {}


def uuid_text(stored: str | None) -> str | None:
    """``0123…`` (32 hex digits) as ``01234567-89ab-…``; the few actors, organizations and
    dialogues recur, so the answers are remembered."""
    if stored is None:
        return None
    text = KNOWN_UUIDS.get(stored)
    if text is None:
        if len(stored) != 32:
            raise ValueError("not a UUID as SQLite stores it")
        text = f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
        if len(KNOWN_UUIDS) > 100_000:
            KNOWN_UUIDS.clear()
        KNOWN_UUIDS[stored] = text
    return text


def first_suspect(rows: Sequence[Row], postgres: bool, expected_seq: int, prev_hash: str) -> int:
    """The index of the first row the fast path cannot confirm (``len(rows)`` if none)."""
    sha256, hashed_of = hashlib.sha256, postgres_hashed if postgres else sqlite_hashed
    prev = prev_hash.encode()
    for index, row in enumerate(rows):
        if row[0] != expected_seq:
            return index
        try:
            hashed = hashed_of(row, prev)
        except FAST_ERRORS:
            return index
        hash_ = row[-1]
        if sha256(hashed).hexdigest() != hash_:
            return index
        prev, expected_seq = hash_.encode(), expected_seq + 1
    return len(rows)
