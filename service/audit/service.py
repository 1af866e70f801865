"""Appending to the chain and proving it intact.

Concurrency design: entries are collected in memory while a unit of work runs and are chained
only at its very end, right before COMMIT. Chaining locks the single ``audit_head`` row
(``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the writer already holds the database's write
lock), numbers the entries after the head, links each to its predecessor and moves the head.
So concurrent writers are serialized only for the few statements between that lock and their
commit, never for their whole transaction, and two entries can never share a predecessor: the
second writer reads the head only after the first has committed (READ COMMITTED re-reads the
locked row). A transaction that rolls back releases the lock and leaves no entry behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.audit.chain import chain_hash, plain_json
from service.audit.models import GENESIS_HASH, AuditEntry, AuditHead
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


async def append(
    session: AsyncSession, pending: Sequence[PendingEntry], context: RequestContext
) -> list[AuditEntry]:
    head = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    seq, prev_hash = (await session.execute(head)).one()
    rows = []
    for item in pending:
        item.resolve()
        seq += 1
        row = new_entry(seq, item, context)
        row.prev_hash = prev_hash
        row.hash = prev_hash = chain_hash(prev_hash, row)
        rows.append(row)
    session.add_all(rows)
    await session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev_hash)
    )
    return rows


def new_entry(seq: int, item: PendingEntry, context: RequestContext) -> AuditEntry:
    return AuditEntry(
        seq=seq,
        at=utcnow(),
        actor_type=item.actor.type,
        actor_id=item.actor.id,
        actor_name=item.actor.name,
        org_id=item.actor.org_id,
        action=item.action,
        entity_type=item.entity_type,
        entity_id=item.entity_id,
        dialogue_id=item.dialogue_id,
        request_id=context.request_id,
        client_addr=context.client_addr,
        details=plain_json(item.details),
    )


@dataclass(frozen=True)
class Verification:
    valid: bool
    entries: int
    first_broken_seq: int | None
    reason: str | None = None


async def verify(session: AsyncSession, *, batch: int = 2000) -> Verification:
    """Recompute the whole chain; name the first entry that does not follow from its predecessor."""
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    while True:
        query = (
            select(AuditEntry)
            .where(AuditEntry.seq >= expected_seq)
            .order_by(AuditEntry.seq)
            .limit(batch)
        )
        rows = (await session.scalars(query)).all()
        for row in rows:
            reason = broken_link(row, expected_seq, prev_hash)
            if reason:
                return Verification(False, count, min(row.seq, expected_seq), reason)
            prev_hash, expected_seq, count = row.hash, row.seq + 1, count + 1
        if len(rows) < batch:
            break
    return await check_head(session, count, expected_seq, prev_hash)


def broken_link(row: AuditEntry, expected_seq: int, prev_hash: str) -> str | None:
    if row.seq != expected_seq:
        return f"entry {expected_seq} is missing"
    if row.prev_hash != prev_hash:
        return "prev_hash does not match the preceding entry"
    if chain_hash(prev_hash, row) != row.hash:
        return "content does not match its hash"
    return None


async def check_head(
    session: AsyncSession, count: int, next_seq: int, last_hash: str
) -> Verification:
    head_seq, head_hash = (
        await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1))
    ).one()
    if head_seq != next_seq - 1 or head_hash != last_hash:
        return Verification(False, count, next_seq, "entries after this one are missing")
    return Verification(True, count, None)
