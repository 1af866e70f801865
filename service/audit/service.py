"""Appending to the chain and proving it intact.

Concurrency design: entries are collected in memory while a unit of work runs and are chained
only at its very end, right before COMMIT. Chaining reserves the entries' numbers on the single
``audit_head`` row with ``UPDATE … RETURNING``, which locks it (on SQLite the writer already
holds the database's write lock), links each entry to its predecessor, and ``service.journal``
inserts them and moves the head's hash. So concurrent writers are serialized only for the two
statements between that lock and their commit, never for their whole transaction, and two
entries can never share a predecessor: the second writer's UPDATE waits for the first to commit
and then works on the committed row (READ COMMITTED re-evaluates it). A transaction that rolls
back releases the lock and leaves no entry behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service.audit import stored
from service.audit.chain import canonical, link, plain_json
from service.audit.models import GENESIS_HASH, AuditHead
from service.db import utcnow


@dataclass(frozen=True)
class Actor:
    type: str  # user | client | anonymous | system
    id: UUID | None = None
    name: str | None = None
    org_id: UUID | None = None


SYSTEM = Actor(type="system", name="entente")
ANONYMOUS = Actor(type="anonymous")


@dataclass
class PendingEntry:
    action: str
    actor: Actor
    entity: Any = None
    entity_type: str | None = None
    entity_id: str | None = None
    dialogue_id: UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def resolve(self) -> None:
        """Read the entity's key and dialogue now that the session has flushed it."""
        if self.entity is None:
            return
        self.entity_type = self.entity_type or self.entity.__tablename__
        self.entity_id = self.entity_id or str(self.entity.id)
        self.dialogue_id = self.dialogue_id or getattr(self.entity, "audit_dialogue_id", None)


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    client_addr: str | None = None


HEAD = AuditHead.__table__
# Reserves the entries' numbers and reads the tip's hash; the UPDATE locks the head until COMMIT.
RESERVE = (
    update(HEAD)
    .where(HEAD.c.id == 1)
    .values(seq=HEAD.c.seq + bindparam("count"))
    .returning(HEAD.c.seq, HEAD.c.hash)
)


async def chain(
    connection: AsyncConnection, pending: Sequence[PendingEntry], context: RequestContext
) -> list[dict[str, Any]]:
    """The rows of ``pending``, numbered after the chain's tip and each linked to the one before.

    A row is the entry's canonical JSON and its hash; the database generates the other columns
    from the JSON. The caller inserts them and moves the head's hash to the last one's
    (``service.journal``).
    """
    entries = drafts(pending, context)
    last, prev_hash = (await connection.execute(RESERVE, {"count": len(entries)})).one()
    return linked(entries, last - len(entries) + 1, prev_hash)


def drafts(pending: Sequence[PendingEntry], context: RequestContext) -> list[dict[str, Any]]:
    """What each entry says, all but its number, once the session has flushed its entities."""
    for item in pending:
        item.resolve()
    return [draft(item, context) for item in pending]


def linked(entries: Sequence[dict[str, Any]], first: int, prev_hash: str) -> list[dict[str, Any]]:
    """Drafts numbered from ``first`` on and linked, each to the one before, after ``prev_hash``."""
    rows = []
    for seq, entry in enumerate(entries, start=first):
        text = canonical(SimpleNamespace(seq=seq, **entry)).decode()
        hash_ = link(prev_hash, text)
        rows.append({"seq": seq, "prev_hash": prev_hash, "canonical": text, "hash": hash_})
        prev_hash = hash_
    return rows


def draft(item: PendingEntry, context: RequestContext) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_type": item.actor.type,
        "actor_id": item.actor.id,
        "actor_name": item.actor.name,
        "org_id": item.actor.org_id,
        "action": item.action,
        "entity_type": item.entity_type,
        "entity_id": item.entity_id,
        "dialogue_id": item.dialogue_id,
        "request_id": context.request_id,
        "client_addr": context.client_addr,
        "details": plain_json(item.details),
    }


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_broken_seq: int | None
    reason: str | None = None


@dataclass
class Progress:
    """How far verification has come: the next expected entry and its predecessor's hash."""

    prev_hash: str = GENESIS_HASH
    expected_seq: int = 1
    count: int = 0

    def passed(self, seq: int, hash_: str, entries: int = 1) -> None:
        self.prev_hash, self.expected_seq, self.count = hash_, seq + 1, self.count + entries


async def verify(session: AsyncSession, *, batch: int = 10_000) -> Verification:
    """Recompute the whole chain; name the first entry that does not follow from its predecessor.

    Batches of ``batch`` entries are checked straight from the driver (``audit.stored``).
    """
    reader = await stored.Reader.of(await session.connection(), batch)
    progress = Progress()
    async for checked in reader.batches(progress.expected_seq, progress.prev_hash):
        if checked.broken:
            await reader.close()
            return verdict(checked.broken, progress.count + checked.intact)
        if checked.rows:
            progress.passed(checked.last_seq, checked.last_hash, checked.rows)
    return await check_head(session, progress.count, progress.expected_seq, progress.prev_hash)


def verdict(broken: stored.Broken, count: int) -> Verification:
    """On the first entry that does not follow from the one before it."""
    if broken.seq != broken.expected_seq:
        reason = f"entry {broken.expected_seq} is missing"
    elif broken.prev_hash != broken.expected_prev:
        reason = "prev_hash does not match the preceding entry"
    else:
        reason = "content does not match its hash"
    return Verification(False, count, min(broken.seq, broken.expected_seq), reason)


async def check_head(
    session: AsyncSession, count: int, next_seq: int, last_hash: str
) -> Verification:
    head_seq, head_hash = (
        await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))
    ).one()
    if head_seq != next_seq - 1 or head_hash != last_hash:
        return Verification(False, count, next_seq, "entries after this one are missing")
    return Verification(True, count, None)
