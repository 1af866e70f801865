"""Fan-out: every outbox event becomes one delivery row per subscription that should receive it.

The fan-out head records the last outbox ``seq`` turned into deliveries. Reading events, writing
their deliveries and moving the head happen in one transaction with the head row locked, so each
event is fanned out exactly once even with several workers (on PostgreSQL a worker that finds the
head locked skips the round: another worker is doing it). Outbox ``seq`` is given at commit time,
so an event that commits late is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database, begin_writing, utcnow
from service.events import signals
from service.events.models import OutboxEvent
from service.parties.models import Dialogue, DialogueObserver
from service.webhooks.models import FanoutHead, WebhookDelivery, WebhookSubscription
from service.webhooks.routing import Parties, recipients


async def fan_out(database: Database, *, batch: int = 500) -> int:
    """Fan out the next batch of events; the number of deliveries created."""
    if not await anything_new(database):
        return 0
    async with database.sessions() as session:
        await begin_writing(session)
        locked = select(FanoutHead).where(FanoutHead.id == 1).with_for_update(skip_locked=True)
        head = (await session.scalars(locked)).one_or_none()
        if head is None:
            return 0
        query = select(OutboxEvent).where(OutboxEvent.seq > head.seq).order_by(OutboxEvent.seq)
        events = list((await session.scalars(query.limit(batch))).all())
        if not events:
            return 0
        rows = await delivery_rows(session, events)
        if rows:
            await session.execute(insert(WebhookDelivery), rows)
            await signals.notify_in_transaction(session)
        head.seq = events[-1].seq
        await session.commit()
        return len(rows)


async def anything_new(database: Database) -> bool:
    """A read without the write lock: most wake-ups find nothing to fan out."""
    async with database.sessions() as session:
        head = select(FanoutHead.seq).where(FanoutHead.id == 1).scalar_subquery()
        newer = select(OutboxEvent.seq).where(OutboxEvent.seq > head).limit(1)
        return (await session.scalar(newer)) is not None


async def delivery_rows(session: AsyncSession, events: list[OutboxEvent]) -> list[dict[str, Any]]:
    enabled = select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
    subscriptions = list((await session.scalars(enabled)).all())
    if not subscriptions:
        return []
    parties = await dialogue_parties(session, {e.dialogue_id for e in events if e.dialogue_id})
    now = utcnow()
    return [
        {
            "id": uuid4(),
            "created_at": now,
            "subscription_id": subscription.id,
            "message_id": event.id,
            "event_type": event.type,
            "event_id": event.id,
            "status": "pending",
            "attempts": 0,
            "round_attempts": 0,
            "next_attempt_at": now,
        }
        for event in events
        for subscription in recipients(subscriptions, event, parties.get(event.dialogue_id))
    ]


async def dialogue_parties(
    session: AsyncSession, dialogue_ids: Iterable[UUID | None]
) -> dict[UUID | None, Parties]:
    ids = [i for i in dialogue_ids if i is not None]
    if not ids:
        return {}
    dialogues = await session.execute(
        select(Dialogue.id, Dialogue.authority_id, Dialogue.counterpart_id).where(
            Dialogue.id.in_(ids)
        )
    )
    observers = await session.execute(
        select(DialogueObserver.dialogue_id, DialogueObserver.organization_id).where(
            DialogueObserver.dialogue_id.in_(ids)
        )
    )
    watching: dict[UUID, set[UUID]] = {}
    for dialogue_id, org_id in observers:
        watching.setdefault(dialogue_id, set()).add(org_id)
    return {
        row.id: Parties(row.authority_id, row.counterpart_id, frozenset(watching.get(row.id, ())))
        for row in dialogues
    }
