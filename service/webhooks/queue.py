"""The delivery queue: claiming due deliveries under a lease, and releasing them.

A claim chooses due ``pending`` rows (at most ``per_endpoint`` per subscription, so one slow
endpoint cannot take every slot), then in a short transaction locks them (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so concurrent workers take disjoint rows; SQLite has one writer at a
time), and marks them ``delivering`` with ``claimed_until = now + lease``. Times come from the
database clock, so workers on machines whose clocks differ still agree on whose lease has run out.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database, begin_writing, utcnow
from service.events.models import OutboxEvent
from service.webhooks import policies
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from service.webhooks.signing import SecretBox


@dataclass(frozen=True)
class Job:
    """A claimed delivery with everything needed to send it."""

    delivery_id: UUID
    subscription_id: UUID
    message_id: str
    url: str
    secrets: tuple[str, ...]
    body: str
    attempt: int  # all attempts, this one included
    round_attempt: int  # attempts since (re)queued, this one included


async def database_now(session: AsyncSession) -> datetime:
    if session.bind.dialect.name == "postgresql":
        return (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
    return utcnow()  # embedded SQLite: the database's clock is this machine's


def envelope(event: OutboxEvent) -> dict[str, Any]:
    return policies.envelope(event.id, event.type, event.occurred_at, event.dialogue_id, event.data)


def body_of(delivery: WebhookDelivery, event: OutboxEvent | None) -> str:
    message = envelope(event) if event is not None else delivery.payload
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def secrets_of(subscription: WebhookSubscription, box: SecretBox, now: datetime) -> tuple[str, ...]:
    current = (box.open(subscription.secret),)
    until = subscription.previous_secret_until
    if subscription.previous_secret and until and until > now:
        return (*current, box.open(subscription.previous_secret))
    return current


def due_candidates(now: datetime, per_endpoint: int, busy: Collection[UUID], limit: int) -> Any:
    """Due pending deliveries of enabled endpoints, at most ``per_endpoint`` of each."""
    rank = func.row_number().over(
        partition_by=WebhookDelivery.subscription_id,
        order_by=(WebhookDelivery.next_attempt_at, WebhookDelivery.id),
    )
    ranked = (
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at, rank.label("rank"))
        .join(WebhookSubscription)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.enabled.is_(True),
        )
    )
    if busy:
        ranked = ranked.where(WebhookDelivery.subscription_id.not_in(list(busy)))
    rows = ranked.subquery()
    return (
        select(rows.c.id)
        .where(rows.c.rank <= per_endpoint)
        .order_by(rows.c.next_attempt_at)
        .limit(limit)
    )


async def claim(
    database: Database,
    box: SecretBox,
    *,
    worker: str,
    limit: int,
    lease_seconds: float,
    per_endpoint: int,
    busy: Collection[UUID] = (),
) -> list[Job]:
    """Claim up to ``limit`` due deliveries; the jobs to send.

    Choosing (a ranking over every due row) is a plain read; only the chosen rows are then locked
    by primary key, which keeps the locking transaction short and its plan trivial whatever the
    table statistics say. Rows another worker took meanwhile are skipped.
    """
    async with database.sessions() as session:
        now = await database_now(session)
        chosen = await session.scalars(due_candidates(now, per_endpoint, busy, limit * 2))
        candidates = list(chosen.all())
    if not candidates:
        return []
    ids = await lock_and_mark(database, candidates, worker, limit, lease_seconds)
    if not ids:
        return []
    async with database.sessions() as session:
        return await load_jobs(session, box, ids, now)


async def lock_and_mark(
    database: Database, candidates: list[UUID], worker: str, limit: int, lease_seconds: float
) -> list[UUID]:
    async with database.sessions() as session:
        await begin_writing(session)
        now = await database_now(session)
        free = (
            select(WebhookDelivery.id)
            .where(WebhookDelivery.id.in_(candidates), WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await session.scalars(free)).all())
        if ids:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(ids))
                .values(
                    status="delivering",
                    claimed_until=now + timedelta(seconds=lease_seconds),
                    claimed_by=worker,
                    attempts=WebhookDelivery.attempts + 1,
                    round_attempts=WebhookDelivery.round_attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return ids


async def load_jobs(
    session: AsyncSession, box: SecretBox, ids: list[UUID], now: datetime
) -> list[Job]:
    rows = await session.execute(
        select(WebhookDelivery, WebhookSubscription, OutboxEvent)
        .join(WebhookSubscription)
        .outerjoin(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    secrets: dict[UUID, tuple[str, ...]] = {}
    bodies: dict[UUID, str] = {}  # one event goes to many endpoints: render it once
    jobs = []
    for delivery, subscription, event in rows:
        if subscription.id not in secrets:
            secrets[subscription.id] = secrets_of(subscription, box, now)
        if event is not None and event.id not in bodies:
            bodies[event.id] = body_of(delivery, event)
        jobs.append(
            Job(
                delivery_id=delivery.id,
                subscription_id=subscription.id,
                message_id=str(delivery.message_id),
                url=subscription.url,
                secrets=secrets[subscription.id],
                body=bodies[event.id] if event is not None else body_of(delivery, None),
                attempt=delivery.attempts,
                round_attempt=delivery.round_attempts,
            )
        )
    return jobs


async def release(database: Database, *, worker: str, ids: Collection[UUID]) -> None:
    """Give back deliveries claimed but not attempted (shutdown): due now, attempt not counted."""
    if not ids:
        return
    async with database.sessions() as session:
        await begin_writing(session)
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(list(ids)),
                WebhookDelivery.claimed_by == worker,
                WebhookDelivery.status == "delivering",
            )
            .values(
                status="pending",
                claimed_until=None,
                claimed_by=None,
                attempts=WebhookDelivery.attempts - 1,
                round_attempts=WebhookDelivery.round_attempts - 1,
            )
        )
        await session.commit()


async def release_expired_leases(database: Database) -> int:
    """Deliveries whose worker died mid-attempt go back to the queue, due at once."""
    async with database.sessions() as session:
        await begin_writing(session)
        now = await database_now(session)
        result = await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "delivering", WebhookDelivery.claimed_until < now)
            .values(
                status="pending",
                claimed_until=None,
                claimed_by=None,
                next_attempt_at=now,
                last_error="The worker attempting it stopped before recording an answer.",
            )
        )
        await session.commit()
        return result.rowcount


async def prune(database: Database, *, retention_days: int) -> int:
    """Forget finished deliveries (and their attempts) older than the retention period."""
    async with database.sessions() as session:
        await begin_writing(session)
        cutoff = await database_now(session) - timedelta(days=retention_days)
        old = select(WebhookDelivery.id).where(
            WebhookDelivery.status.in_(("delivered", "failed")),
            WebhookDelivery.finished_at < cutoff,
        )
        await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
        result = await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.id.in_(old.scalar_subquery()))
        )
        await session.commit()
        return result.rowcount
