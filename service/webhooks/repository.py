"""Queries over webhooks. Every read of a subscription starts from ``own_subscriptions``.

A subscription belongs to one organization and is visible to that organization alone, so what
another organization owns is simply absent (404). Deliveries are reached through their
subscription, never by id alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.parties.models import Dialogue
from service.parties.repository import visible_dialogues
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


def own_subscriptions(caller: Principal) -> Select[tuple[WebhookSubscription]]:
    return select(WebhookSubscription).where(WebhookSubscription.organization_id == caller.org_id)


async def get_own(
    session: AsyncSession, caller: Principal, subscription_id: UUID, *, for_update: bool = False
) -> WebhookSubscription | None:
    query = own_subscriptions(caller).where(WebhookSubscription.id == subscription_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def foreign_dialogue_ids(
    session: AsyncSession, caller: Principal, dialogue_ids: Sequence[UUID]
) -> list[UUID]:
    """The ``dialogue_ids`` the caller's organization is not a party to, or that do not exist."""
    if not dialogue_ids:
        return []
    query = visible_dialogues(caller).where(Dialogue.id.in_(dialogue_ids))
    mine = {dialogue.id for dialogue in await session.scalars(query)}
    return [dialogue_id for dialogue_id in dialogue_ids if dialogue_id not in mine]


def deliveries(subscription_id: UUID, status: str | None) -> Select[tuple[WebhookDelivery]]:
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    return query if status is None else query.where(WebhookDelivery.status == status)


async def get_delivery(
    session: AsyncSession, subscription_id: UUID, delivery_id: UUID, *, for_update: bool = False
) -> WebhookDelivery | None:
    query = deliveries(subscription_id, None).where(WebhookDelivery.id == delivery_id)
    return await session.scalar(query.with_for_update() if for_update else query)


async def attempts(session: AsyncSession, delivery_id: UUID) -> list[WebhookAttempt]:
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery_id)
        .order_by(WebhookAttempt.created_at, WebhookAttempt.number)
    )
    return list((await session.scalars(query)).all())


async def requeue_failed(
    session: AsyncSession, subscription_id: UUID, *, since: datetime, values: dict[str, Any]
) -> int:
    """One statement, so a delivery a worker is finishing right now is either in or out."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status == "failed",
            WebhookDelivery.created_at >= since,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
