"""Use cases of webhook subscriptions: register, change, rotate, test, and redeliver.

A subscription is its organization's own: admins (or clients with ``webhooks:manage``) manage
their organization's subscriptions and see nothing of anyone else's. URLs are checked by the
egress policy (resolving the host) before any transaction opens, so no write lock is held while
DNS answers. The secret is shown twice at most: when created and when rotated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.auth.principal import Principal
from service.config import Settings
from service.db import utcnow
from service.errors import InvalidInput, NotAllowed, NotFound, StateConflict
from service.uow import UnitOfWork
from service.webhooks import policies, repository
from service.webhooks.egress import EgressPolicy
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from service.webhooks.queue import database_now
from service.webhooks.schemas import WebhookCreate, WebhookUpdate
from service.webhooks.signing import SecretBox, new_secret

Page = tuple[Sequence, str | None]


@dataclass(frozen=True)
class Tools:
    """What these use cases need from the running app."""

    egress: EgressPolicy
    box: SecretBox
    settings: Settings


def require_manager(caller: Principal) -> None:
    if not policies.can_manage(caller):
        raise NotAllowed(policies.MANAGER_ONLY)


async def check_dialogues(
    session: AsyncSession, caller: Principal, dialogue_ids: Sequence[UUID]
) -> None:
    # One wording for absent and foreign dialogues, so the answer reveals neither.
    foreign = await repository.foreign_dialogue_ids(session, caller, dialogue_ids)
    if foreign:
        raise InvalidInput(
            "dialogue_ids may name only dialogues your organization belongs to.",
            dialogue_ids=[str(dialogue_id) for dialogue_id in foreign],
        )


async def own(
    session: AsyncSession, caller: Principal, subscription_id: UUID, *, for_update: bool = False
) -> WebhookSubscription:
    subscription = await repository.get_own(session, caller, subscription_id, for_update=for_update)
    if subscription is None:
        raise NotFound(WebhookSubscription.__tablename__, subscription_id, label="webhook")
    return subscription


def audited(changes: dict[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of a change: the URL without its query (it may carry tokens)."""
    if "url" in changes:
        return changes | {"url": policies.without_query(changes["url"])}
    return changes


async def create(
    uow: UnitOfWork, caller: Principal, *, data: WebhookCreate, tools: Tools
) -> tuple[WebhookSubscription, str]:
    require_manager(caller)
    await tools.egress.destination(data.url)  # refused URLs: 422
    secret = new_secret()
    fields = data.model_dump(mode="json")
    async with uow.transaction() as tx:
        await check_dialogues(tx.session, caller, data.dialogue_ids)
        subscription = WebhookSubscription(
            organization_id=caller.org_id, secret=tools.box.seal(secret), **fields
        )
        if not data.enabled:
            apply(subscription, policies.switched(False, subscription.created_at))
        tx.session.add(subscription)
        tx.audit("webhook.created", subscription, details=audited(fields))
    return subscription, secret


def apply(row: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(row, name, value)


async def list_subscriptions(
    uow: UnitOfWork, caller: Principal, *, limit: int, cursor: str | None
) -> Page:
    require_manager(caller)
    async with uow.reading() as session:
        query = repository.own_subscriptions(caller)
        return await paginate(session, query, WebhookSubscription, limit=limit, cursor=cursor)


async def get(uow: UnitOfWork, caller: Principal, *, subscription_id: UUID) -> WebhookSubscription:
    require_manager(caller)
    async with uow.reading() as session:
        return await own(session, caller, subscription_id)


async def update(
    uow: UnitOfWork, caller: Principal, *, subscription_id: UUID, data: WebhookUpdate, tools: Tools
) -> WebhookSubscription:
    require_manager(caller)
    if data.url is not None:
        await tools.egress.destination(data.url)  # refused URLs: 422
    changes = data.model_dump(mode="json", exclude_unset=True)
    async with uow.transaction() as tx:
        subscription = await own(tx.session, caller, subscription_id, for_update=True)
        await check_dialogues(tx.session, caller, data.dialogue_ids or [])
        if not changes:
            return subscription
        now = utcnow()
        apply(subscription, {name: value for name, value in changes.items() if name != "enabled"})
        if data.enabled is not None and data.enabled != subscription.enabled:
            apply(subscription, policies.switched(data.enabled, now))
            tx.wake = data.enabled  # deliveries that waited while it was off are due again
        subscription.updated_at = now
        tx.audit("webhook.updated", subscription, details=audited(changes))
    return subscription


async def delete(uow: UnitOfWork, caller: Principal, *, subscription_id: UUID) -> None:
    """Remove a subscription; its deliveries and their attempts go with it (ON DELETE CASCADE)."""
    require_manager(caller)
    async with uow.transaction() as tx:
        subscription = await own(tx.session, caller, subscription_id, for_update=True)
        await tx.session.delete(subscription)
        tx.audit(
            "webhook.deleted",
            entity_type=WebhookSubscription.__tablename__,
            entity_id=str(subscription.id),
            details={"url": policies.without_query(subscription.url)},
        )


async def rotate_secret(
    uow: UnitOfWork,
    caller: Principal,
    *,
    subscription_id: UUID,
    overlap_seconds: int | None,
    tools: Tools,
) -> tuple[str, datetime | None]:
    """A new secret; the one it replaces keeps signing until the overlap ends.

    Only the secret replaced last is kept: rotating again within an overlap drops the older
    one at once, so at most two signatures ever accompany a delivery.
    """
    require_manager(caller)
    if overlap_seconds is None:
        overlap_seconds = tools.settings.webhook_rotation_overlap_seconds
    secret = new_secret()
    async with uow.transaction() as tx:
        subscription = await own(tx.session, caller, subscription_id, for_update=True)
        now = utcnow()
        until = policies.previous_secret_until(now, overlap_seconds)
        subscription.previous_secret = subscription.secret if until else None
        subscription.previous_secret_until = until
        subscription.secret = tools.box.seal(secret)
        subscription.updated_at = now
        details = {
            "overlap_seconds": overlap_seconds,
            "previous_secret_expires_at": until.isoformat() if until else None,
        }
        tx.audit("webhook.secret_rotated", subscription, details=details)
    return secret, until


def require_enabled(subscription: WebhookSubscription) -> None:
    if not subscription.enabled:
        raise StateConflict("This webhook is disabled; enable it first.")


async def send_test(
    uow: UnitOfWork, caller: Principal, *, subscription_id: UUID
) -> WebhookDelivery:
    require_manager(caller)
    async with uow.transaction() as tx:
        subscription = await own(tx.session, caller, subscription_id, for_update=True)
        require_enabled(subscription)
        now = await database_now(tx.session)  # the worker compares due times with this clock
        message_id = uuid4()
        delivery = WebhookDelivery(
            subscription_id=subscription.id,
            message_id=message_id,
            event_type=policies.TEST_EVENT_TYPE,
            event_id=None,
            payload=policies.envelope_for_test_message(message_id, subscription.id, now),
            status="pending",
            attempts=0,
            round_attempts=0,
            next_attempt_at=now,
        )
        tx.session.add(delivery)
        tx.wake = True
        details = {"delivery_id": str(delivery.id), "message_id": str(message_id)}
        tx.audit("webhook.test_requested", subscription, details=details)
    return delivery


async def list_deliveries(
    uow: UnitOfWork,
    caller: Principal,
    *,
    subscription_id: UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> Page:
    require_manager(caller)
    async with uow.reading() as session:
        subscription = await own(session, caller, subscription_id)
        query = repository.deliveries(subscription.id, status)
        return await paginate(
            session, query, WebhookDelivery, limit=limit, cursor=cursor, newest_first=True
        )


async def delivery_of(
    session: AsyncSession,
    subscription: WebhookSubscription,
    delivery_id: UUID,
    *,
    for_update: bool = False,
) -> WebhookDelivery:
    delivery = await repository.get_delivery(
        session, subscription.id, delivery_id, for_update=for_update
    )
    if delivery is None:
        raise NotFound(WebhookDelivery.__tablename__, delivery_id, label="delivery")
    return delivery


async def get_delivery(
    uow: UnitOfWork, caller: Principal, *, subscription_id: UUID, delivery_id: UUID
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    require_manager(caller)
    async with uow.reading() as session:
        subscription = await own(session, caller, subscription_id)
        delivery = await delivery_of(session, subscription, delivery_id)
        return delivery, await repository.attempts(session, delivery.id)


async def redeliver(
    uow: UnitOfWork, caller: Principal, *, subscription_id: UUID, delivery_id: UUID
) -> WebhookDelivery:
    """Put one delivery back in the queue, due now, with a fresh retry schedule."""
    require_manager(caller)
    async with uow.transaction() as tx:
        subscription = await own(tx.session, caller, subscription_id)
        delivery = await delivery_of(tx.session, subscription, delivery_id, for_update=True)
        require_enabled(subscription)
        if not policies.can_redeliver(delivery.status):
            raise StateConflict("This delivery is being attempted right now; try again shortly.")
        apply(delivery, policies.requeued(await database_now(tx.session)))
        tx.wake = True
        tx.audit(
            "webhook.redelivery_requested",
            subscription,
            details={"delivery_id": str(delivery.id)},
        )
    return delivery


async def redeliver_failed(
    uow: UnitOfWork, caller: Principal, *, subscription_id: UUID, since: datetime
) -> int:
    """Requeue every failed delivery created at or after ``since``; how many there were."""
    require_manager(caller)
    async with uow.transaction() as tx:
        subscription = await own(tx.session, caller, subscription_id)
        require_enabled(subscription)
        values = policies.requeued(await database_now(tx.session))
        count = await repository.requeue_failed(
            tx.session, subscription.id, since=since, values=values
        )
        tx.wake = count > 0
        details = {"count": count, "since": since.isoformat()}
        tx.audit("webhook.redelivery_requested", subscription, details=details)
    return count
