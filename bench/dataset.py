"""Years of correspondence for the read-at-scale scenario, loaded fast and cached.

A freshly migrated database gets the seed case's parties (``bench.scenario.seed``), nine more
counterpart ministries each in a dialogue with the licensing authority, and ``messages``
consultation messages over five years. Consultations number one per hundred messages; their
sizes follow a Zipf law, and one, the *target* (in the seed dialogue), holds 1.5% of all messages
(about 15,000 at 1,000,000). Each message has its ``consultation.message_posted`` outbox event and
each consultation its ``consultation.opened`` one, with both sides' read receipts. A fixed number
of consultations await an answer and a few notices await acknowledgement, however long the
history: the inbox should show the same few things whether the past is short or long.

Rows are written straight into the tables (PostgreSQL ``COPY``, SQLite ``executemany`` with the
journal off), in the formats the ORM would write. Audit entries are not written: no read of this
scenario touches them. The loaded database is kept as a template (a SQLite file in the cache
directory, a PostgreSQL template database), keyed by size and a digest of the migrations, and
each run gets a copy of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench import scenario
from bench.processes import POSTGRES, ROOT, admin_sql
from service import migrate
from service.db import Database
from service.uow import UnitOfWork

VERSION = 1  # bump when the generated rows change, so cached templates are rebuilt
SPAN = timedelta(days=5 * 365)
TARGET_SHARE = 0.015
TARGET_SUBJECT = "Bench target: end use of the drone optics"
AWAITING_COUNTERPART, AWAITING_AUTHORITY, OPEN_NOTICES = 12, 6, 3
OTHER_MINISTRIES = 9
BODIES = [
    f"Note {n}: the Ministry refers to the permits under review and to the end-use assurance "
    f"of the consignee; it requests clarification of item {n} within the agreed period."
    for n in range(40)
]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "entente-bench"


@dataclass(frozen=True)
class Loaded:
    url: str
    dialogue_id: str
    target_id: str
    messages: int


@dataclass(frozen=True)
class Formats:
    """How values are written: natively for asyncpg, as SQLAlchemy stores them for SQLite."""

    uuid: Callable[[uuid.UUID | None], Any]
    time: Callable[[datetime | None], Any]
    json: Callable[[Any], str]


PG = Formats(uuid=lambda u: u, time=lambda t: t, json=json.dumps)
SQLITE = Formats(
    uuid=lambda u: u.hex if u is not None else None,
    time=lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f") if t is not None else None,
    json=json.dumps,
)


# -- the rows ---------------------------------------------------------------------------------


@dataclass
class Parties:
    authority_id: uuid.UUID
    officer_id: uuid.UUID
    counterpart_id: uuid.UUID
    diplomat_id: uuid.UUID
    main_dialogue: uuid.UUID
    others: list[tuple[uuid.UUID, uuid.UUID]]  # (dialogue, counterpart organization)

    def dialogue(self, index: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        """Consultation ``index``'s dialogue, counterpart organization and its author id."""
        if index % 4 == 0:
            return self.main_dialogue, self.counterpart_id, self.diplomat_id
        dialogue, org = self.others[index % len(self.others)]
        return dialogue, org, org


@dataclass
class Thread:
    id: uuid.UUID
    dialogue_id: uuid.UUID
    counterpart_org: uuid.UUID
    counterpart_author: uuid.UUID
    times: list[datetime]


def owners(rng: random.Random, threads: int, messages: int) -> list[int]:
    """The consultation of each message, in time order: Zipf sizes, the target (0) 1.5%."""
    weights = [1 / (rank + 1) for rank in range(threads)]
    weights[0] = TARGET_SHARE / (1 - TARGET_SHARE) * sum(weights[1:])
    return rng.choices(range(threads), weights=weights, k=messages)


def threads(rng: random.Random, parties: Parties, messages: int, now: datetime) -> list[Thread]:
    count = max(20, messages // 100)
    made = []
    for index in range(count):
        dialogue, org, author = parties.dialogue(index)
        made.append(Thread(uuid.uuid4(), dialogue, org, author, []))
    start, step = now - SPAN, SPAN / max(messages, 1)
    for n, owner in enumerate(owners(rng, count, messages)):
        made[owner].times.append(start + step * n)
    return made


def opened_at(thread: Thread, now: datetime) -> datetime:
    return (thread.times[0] if thread.times else now - timedelta(days=3)) - timedelta(hours=1)


def states(threads: Sequence[Thread], parties: Parties) -> dict[int, str]:
    """Which side each awaiting consultation waits for; a fixed few, the newest of each kind."""
    main = [n for n, t in enumerate(threads) if t.dialogue_id == parties.main_dialogue and n]
    other = [n for n, t in enumerate(threads) if t.dialogue_id != parties.main_dialogue]
    awaited = dict.fromkeys(main[-AWAITING_COUNTERPART - AWAITING_AUTHORITY :], "authority")
    awaited |= dict.fromkeys(main[-AWAITING_COUNTERPART:], "counterpart")
    return awaited | dict.fromkeys(other[-AWAITING_COUNTERPART:], "counterpart")


def consultation_rows(
    f: Formats, threads: Sequence[Thread], parties: Parties, now: datetime
) -> list[tuple]:
    awaited = states(threads, parties)
    rows = []
    for n, thread in enumerate(threads):
        side = awaited.get(n)
        status = "awaiting_response" if side else ("open" if n == 0 or n % 5 == 0 else "closed")
        due = now + timedelta(days=(n % 7) - 2) if side else None  # some are overdue
        created = opened_at(thread, now)
        closed_at = (thread.times[-1] if thread.times else created) if status == "closed" else None
        rows.append((
            f.uuid(thread.id), f.time(created), f.time(closed_at or created),
            f.uuid(thread.dialogue_id), f"{TARGET_SUBJECT if n == 0 else f'Consultation {n}'}",
            "end_use_inquiry" if n % 3 else "general", status, f.uuid(parties.officer_id),
            "authority", side, f.time(due), None, "resolved" if closed_at else None,
            f.uuid(parties.officer_id if closed_at else None), f.time(closed_at),
        ))  # fmt: skip
    return rows


CONSULTATION = (
    "id", "created_at", "updated_at", "dialogue_id", "subject", "topic", "status", "opened_by",
    "opened_by_side", "awaiting_side", "response_due_at", "overdue_notified_at", "outcome",
    "closed_by", "closed_at",
)  # fmt: skip
MESSAGE = (
    "id", "created_at", "consultation_id", "dialogue_id", "author_id", "author_name",
    "author_org_id", "side", "body", "classification", "sha256", "response_requested_by",
)  # fmt: skip
RECEIPT = ("consultation_id", "side", "read_up_to", "read_by", "read_at")
EVENT = ("id", "seq", "type", "occurred_at", "dialogue_id", "organization_id", "data")
NOTICE = (
    "id", "created_at", "updated_at", "dialogue_id", "reference", "kind", "status", "summary",
    "rationale", "legal_basis", "classification", "drafted_by", "author_ids", "issued_by",
    "issued_at", "acknowledged_by", "acknowledged_at",
)  # fmt: skip
SHA = [hashlib.sha256(body.encode()).hexdigest() for body in BODIES]


@dataclass
class Message:
    id: uuid.UUID
    at: datetime
    thread: Thread
    side: str
    body: int


def messages_of(threads: Sequence[Thread]) -> list[Message]:
    """Every message, in time order; the sides take turns within a thread."""
    found = [
        Message(uuid.uuid4(), at, thread, ("authority", "counterpart")[n % 2], n % len(BODIES))
        for thread in threads
        for n, at in enumerate(thread.times)
    ]
    found.sort(key=lambda m: m.at)
    return found


def message_rows(f: Formats, messages: Iterable[Message], parties: Parties) -> Iterable[tuple]:
    for m in messages:
        authority = m.side == "authority"
        author = parties.officer_id if authority else m.thread.counterpart_author
        org = parties.authority_id if authority else m.thread.counterpart_org
        name = "Export Controls Officer" if authority else "Embassy Counsellor"
        yield (
            f.uuid(m.id), f.time(m.at), f.uuid(m.thread.id), f.uuid(m.thread.dialogue_id),
            f.uuid(author), name, f.uuid(org), m.side, BODIES[m.body], "UNCLASSIFIED",
            SHA[m.body], None,
        )  # fmt: skip


def receipt_rows(f: Formats, threads: Sequence[Thread], parties: Parties) -> Iterable[tuple]:
    for thread in threads:
        if not thread.times:
            continue
        last = thread.times[-1]
        earlier = thread.times[-2] if len(thread.times) > 1 else last
        yield (f.uuid(thread.id), "authority", f.time(last), f.uuid(parties.officer_id),
               f.time(last))  # fmt: skip
        yield (f.uuid(thread.id), "counterpart", f.time(earlier),
               f.uuid(thread.counterpart_author), f.time(earlier))  # fmt: skip


def event_rows(
    f: Formats, threads: Sequence[Thread], messages: Sequence[Message], now: datetime, after: int
) -> Iterable[tuple]:
    """``consultation.opened`` and ``consultation.message_posted``, numbered in time order."""
    timeline = [(opened_at(t, now), 0, t.id, t) for t in threads]
    timeline += [(m.at, 1, m.id, m) for m in messages]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    for seq, (at, kind, _, item) in enumerate(timeline, start=after + 1):
        thread = item if kind == 0 else item.thread
        data = {"consultation": {"id": str(thread.id), "subject": "..."}}
        if kind:
            data["message"] = {"id": str(item.id), "side": item.side, "sha256": SHA[item.body]}
        event_type = "consultation.message_posted" if kind else "consultation.opened"
        yield (f.uuid(uuid.uuid4()), seq, event_type, f.time(at), f.uuid(thread.dialogue_id),
               None, f.json(data))  # fmt: skip


def notice_rows(f: Formats, parties: Parties, count: int, now: datetime) -> list[tuple]:
    """Acknowledged notices over the years, and the newest few issued and awaiting."""
    rows = []
    for n in range(count):
        at = now - SPAN + SPAN * (n + 1) / (count + 1)
        waiting = n >= count - OPEN_NOTICES
        rows.append((
            f.uuid(uuid.uuid4()), f.time(at), f.time(at), f.uuid(parties.main_dialogue),
            f"CA-GAC-{at.year}-B{n:05d}", "general", "issued" if waiting else "acknowledged",
            f"Bench notice {n}", "Benchmark data.", "None: benchmark data.", "UNCLASSIFIED",
            f.uuid(parties.officer_id), f.json([str(parties.officer_id)]),
            f.uuid(parties.officer_id), f.time(at),
            None if waiting else f.uuid(parties.diplomat_id),
            None if waiting else f.time(at + timedelta(days=1)),
        ))  # fmt: skip
    return rows


# -- the parties, through the service ---------------------------------------------------------


async def parties(url: str) -> Parties:
    """The seed case, plus nine more ministries each in a dialogue with the authority."""
    from service.parties.models import Dialogue, Organization
    from service.parties.repository import org_by_code, user_by_username

    database = Database(url)
    try:
        main = uuid.UUID(await scenario.seed(UnitOfWork(database)))
        async with database.sessions() as session:
            authority = await org_by_code(session, "CA-GAC")
            counterpart = await org_by_code(session, "TR-MFA")
            officer = await user_by_username(session, scenario.OFFICER)
            diplomat = await user_by_username(session, "tr-diplomat")
            assert authority is not None
            assert counterpart is not None
            assert officer is not None
            assert diplomat is not None
            others = []
            for n in range(OTHER_MINISTRIES):
                org = Organization(code=f"XM-{n}", code_key=f"xm-{n}", name=f"Ministry {n}",
                                   country="XM", kind="counterpart_ministry")  # fmt: skip
                dialogue = Dialogue(title=f"Canada/Ministry {n}", authority_id=authority.id,
                                    counterpart_id=org.id, created_by=officer[0].id)  # fmt: skip
                session.add(org)
                await session.flush()
                session.add(dialogue)
                others.append((dialogue.id, org.id))
            await session.commit()
    finally:
        await database.dispose()
    return Parties(authority.id, officer[0].id, counterpart.id, diplomat[0].id, main, others)


def tables(
    f: Formats, people: Parties, messages: int, now: datetime, after: int
) -> dict[str, tuple]:
    """Each table's columns and rows (rows as an iterable, made as they are written).

    Events are numbered after ``after``, the outbox head's sequence number of the seed case.
    """
    rng = random.Random(messages)  # noqa: S311 - reproducible data, not secrets
    made = threads(rng, people, messages, now)
    posted = messages_of(made)
    notices = notice_rows(f, people, max(OPEN_NOTICES + 2, messages // 2000), now)
    return {
        "consultation": (CONSULTATION, consultation_rows(f, made, people, now)),
        "consultation_message": (MESSAGE, message_rows(f, posted, people)),
        "consultation_read": (RECEIPT, receipt_rows(f, made, people)),
        "outbox_event": (EVENT, event_rows(f, made, posted, now, after)),
        "decision_notice": (NOTICE, notices),
    }


def batches(rows: Iterable[tuple], size: int = 50_000) -> Iterable[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def fill_postgres(url: str, people: Parties, messages: int, now: datetime) -> int:
    connection = await asyncpg.connect(plain_url(url))
    try:
        events = await connection.fetchval("SELECT seq FROM outbox_head")
        for table, (columns, rows) in tables(PG, people, messages, now, events).items():
            for batch in batches(rows):
                await connection.copy_records_to_table(table, records=batch, columns=columns)
                events += len(batch) if table == "outbox_event" else 0
        await connection.execute("UPDATE outbox_head SET seq = $1", events)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return events


def fill_sqlite(path: Path, people: Parties, messages: int, now: datetime) -> int:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-400000"):
            connection.execute(f"PRAGMA {pragma}")
        connection.execute("BEGIN")
        (events,) = connection.execute("SELECT seq FROM outbox_head").fetchone()
        for table, (columns, rows) in tables(SQLITE, people, messages, now, events).items():
            marks = ", ".join("?" * len(columns))
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
            for batch in batches(rows):
                connection.executemany(insert, batch)
                events += len(batch) if table == "outbox_event" else 0
        connection.execute("UPDATE outbox_head SET seq = ?", (events,))
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return events


def plain_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def load(url: str, messages: int) -> None:
    """Migrate the empty database at ``url`` and fill it with ``messages`` messages."""
    await migrate.upgrade_async(url)
    people = await parties(url)
    now = datetime.now(UTC)
    if url.startswith("sqlite"):
        path = Path(url.split(":///", 1)[1])
        await asyncio.to_thread(fill_sqlite, path, people, messages, now)
    else:
        await fill_postgres(url, people, messages, now)


# -- templates and copies ---------------------------------------------------------------------


def schema_digest() -> str:
    """A digest of the migrations: a template made under other migrations is not reused."""
    digest = hashlib.sha256(f"dataset {VERSION}".encode())
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def template_name(messages: int) -> str:
    return f"entente_read_{messages}_{schema_digest()}"


async def sqlite_template(messages: int) -> Path:
    path = CACHE / f"{template_name(messages)}.db"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        building = path.with_suffix(f".{os.getpid()}.building")
        building.unlink(missing_ok=True)
        await load(f"sqlite+aiosqlite:///{building}", messages)
        building.rename(path)
    return path


async def database_exists(name: str) -> bool:
    connection = await asyncpg.connect(f"{POSTGRES}/postgres", timeout=10)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name))
    finally:
        await connection.close()


async def postgres_template(messages: int) -> str:
    name = template_name(messages)
    if not await database_exists(name):
        building = f"{name}_building"
        await admin_sql(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        await admin_sql(f'CREATE DATABASE "{building}"')
        await load(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{building}", messages)
        await admin_sql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return name


@contextlib.asynccontextmanager
async def copy_of(kind: str, messages: int, workdir: Path) -> AsyncIterator[Loaded]:
    """A database of ``messages`` messages for one run, copied from its (cached) template."""
    if kind == "sqlite":
        path = workdir / f"read-{messages}.db"
        await asyncio.to_thread(shutil.copyfile, await sqlite_template(messages), path)
        yield await described(f"sqlite+aiosqlite:///{path}", messages)
        return
    name = f"entente_bench_read_{uuid.uuid4().hex[:8]}"
    await admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{await postgres_template(messages)}"')
    try:
        yield await described(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", messages)
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def described(url: str, messages: int) -> Loaded:
    from sqlalchemy import select

    from service.consultations.models import Consultation

    database = Database(url)
    try:
        async with database.sessions() as session:
            target = await session.scalar(
                select(Consultation).where(Consultation.subject == TARGET_SUBJECT)
            )
    finally:
        await database.dispose()
    assert target is not None
    return Loaded(url, str(target.dialogue_id), str(target.id), messages)


async def web_session(url: str, username: str) -> str:
    """A signed-in web client session of ``username``, for a day; its cookie value."""
    from types import SimpleNamespace

    from service.parties.repository import user_by_username
    from service.web import sessions

    database = Database(url)
    try:
        async with database.sessions() as session:
            found = await user_by_username(session, username)
        assert found is not None
        settings = SimpleNamespace(web_session_absolute_seconds=86_400)
        return await sessions.start(database, settings, found[0].id)  # type: ignore[arg-type]
    finally:
        await database.dispose()


async def thread_positions(
    loaded: Loaded, fractions: Sequence[float]
) -> list[tuple[datetime, uuid.UUID]]:
    """``(created_at, id)`` of the target's messages at these fractions of its thread."""
    from sqlalchemy import func, select

    from service.consultations.models import Message

    database = Database(loaded.url)
    try:
        async with database.sessions() as session:
            mine = Message.consultation_id == uuid.UUID(loaded.target_id)
            total = await session.scalar(select(func.count()).where(mine))
            found = []
            for fraction in fractions:
                query = select(Message.created_at, Message.id).where(mine)
                query = query.order_by(Message.created_at, Message.id)
                row = (await session.execute(query.offset(int(total * fraction)).limit(1))).one()
                found.append((row.created_at, row.id))
    finally:
        await database.dispose()
    return found


async def main() -> None:
    """``python -m bench.dataset N [sqlite|postgres]``: build (or find) the template; timings."""
    import sys
    import time

    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for kind in sys.argv[2:] or ["sqlite", "postgres"]:
        started = time.perf_counter()
        make = sqlite_template if kind == "sqlite" else postgres_template
        print(kind, messages, await make(messages), f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
