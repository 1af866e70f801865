"""A valid audit chain of any length, built in bulk and kept as a template for the next run.

The entries look like the service's own (users of three organizations acting in five dialogues,
small ``details``, some with unicode and floats) and are written and hashed with the service's
``canonical`` and ``link``, so ``entente audit verify`` accepts them. PostgreSQL gets them by
COPY into a template database; SQLite by ``executemany`` into a file copied for each run.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import asyncpg
from sqlalchemy import create_engine, insert, update

from bench.processes import POSTGRES, ROOT, admin_sql
from service import migrate
from service.audit.chain import canonical, link, plain_json
from service.audit.models import GENESIS_HASH, AuditEntry, AuditHead

CACHE = ROOT / "bench" / "results" / "cache"
ACTIONS = (
    "consultation.message_posted",
    "permit.registered",
    "assurance.submitted",
    "notice.issued",
    "auth.signed_in",
    "access.denied",
)


class Entry(NamedTuple):
    """An entry as stored: the database generates the other columns from ``canonical``."""

    seq: int
    prev_hash: str
    canonical: str
    hash: str


def ids(count: int, seed: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=(seed << 64) + i + 1) for i in range(count)]


USERS, ORGS, DIALOGUES = ids(30, 1), ids(3, 2), ids(5, 3)
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def details_of(seq: int) -> dict:
    """Mostly short ASCII details; every 7th with unicode, every 11th with numbers."""
    values: dict = {"number": f"CA-2026-{seq % 10000:04d}", "status": "submitted"}
    if seq % 7 == 0:
        values["end_user"] = (
            "T\u00fcrkiye D\u0131\u015fi\u015fleri Bakanl\u0131\u011f\u0131 \u2014 \U0001f6f0"
        )
    if seq % 11 == 0:
        values["items"] = [{"quantity": seq % 50, "value": 1234.5, "ratio": 0.1}]
    return plain_json(values)


def entries(count: int) -> Iterator[Entry]:
    prev_hash = GENESIS_HASH
    for seq in range(1, count + 1):
        user = seq % len(USERS)
        fields = SimpleNamespace(
            seq=seq,
            at=START + timedelta(seconds=seq * 2.5, microseconds=seq % 997),
            actor_type="user",
            actor_id=USERS[user],
            actor_name=f"officer{user}",
            org_id=ORGS[user % len(ORGS)],
            action=ACTIONS[seq % len(ACTIONS)],
            entity_type="consultation_message",
            entity_id=str(uuid.UUID(int=seq)),
            dialogue_id=DIALOGUES[seq % len(DIALOGUES)],
            request_id=f"{seq:032x}",
            client_addr="127.0.0.1",
            details=details_of(seq),
        )
        text = canonical(fields).decode()
        entry = Entry(seq, prev_hash, text, link(prev_hash, text))
        prev_hash = entry.hash
        yield entry


def batches(count: int, size: int = 50_000) -> Iterator[list[Entry]]:
    batch: list[Entry] = []
    for entry in entries(count):
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- SQLite -------------------------------------------------------------------------------


async def sqlite_template(count: int) -> Path:
    """A migrated SQLite file holding ``count`` chained entries (built once, then reused)."""
    path = CACHE / f"audit-{count}-{migrate_head()}.sqlite"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    await migrate.upgrade_async(f"sqlite+aiosqlite:///{building}")
    await asyncio.to_thread(fill_sqlite, building, count)
    building.rename(path)
    for leftover in (f"{building}-shm", f"{building}-wal"):
        await asyncio.to_thread(Path(leftover).unlink, missing_ok=True)
    return path


def fill_sqlite(path: Path, count: int) -> None:
    # SQLAlchemy Core, so each value is stored exactly as the service stores it.
    engine = create_engine(f"sqlite:///{path}")
    head = GENESIS_HASH
    with engine.begin() as connection:
        for batch in batches(count):
            connection.execute(insert(AuditEntry), [entry._asdict() for entry in batch])
            head = batch[-1].hash
        connection.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=count, hash=head))
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def sqlite_copy(count: int, workdir: Path) -> str:
    target = workdir / "audit.sqlite"
    shutil.copyfile(await sqlite_template(count), target)
    return f"sqlite+aiosqlite:///{target}"


# --- PostgreSQL ---------------------------------------------------------------------------


def template_name(count: int) -> str:
    return f"entente_bench_audit_{count}_{migrate_head()[:12]}"


async def postgres_template(count: int) -> str:
    name = template_name(count)
    if await database_exists(name):
        return name
    building = f"{name}_building"
    await admin_sql(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
    await admin_sql(f'CREATE DATABASE "{building}"')
    await migrate.upgrade_async(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{building}")
    await fill_postgres(building, count)
    await admin_sql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return name


async def fill_postgres(name: str, count: int) -> None:
    connection = await asyncpg.connect(f"{POSTGRES}/{name}")
    try:
        head = GENESIS_HASH
        for batch in batches(count):
            await connection.copy_records_to_table(
                "audit_entry", records=batch, columns=Entry._fields
            )
            head = batch[-1].hash
        await connection.execute("UPDATE audit_head SET seq = $1, hash = $2", count, head)
        await connection.execute("VACUUM ANALYZE audit_entry")
    finally:
        await connection.close()


async def database_exists(name: str) -> bool:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await connection.close()
    return bool(found)


async def postgres_copy(count: int) -> str:
    """A new database cloned from the template; its SQLAlchemy URL (drop it with ``drop``)."""
    template = await postgres_template(count)
    name = f"entente_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop(url: str) -> None:
    if url.startswith("postgresql"):
        await admin_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def migrate_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_current_head()


if __name__ == "__main__":
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(asyncio.run(sqlite_template(size)))
    print(asyncio.run(postgres_template(size)))
