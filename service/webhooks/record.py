"""Recording attempts: the attempt log, the delivery's next state, and the endpoint's health.

Outcomes are written in batches, one transaction per batch, because at hundreds of deliveries a
second a transaction per attempt would cost more than the HTTP requests themselves.

After a failure the delivery is retried on the schedule in settings (``webhook_retry_schedule``,
each delay varied by the jitter fraction so that retries of many deliveries do not arrive
together); when the schedule is used up the delivery is ``failed``. An endpoint whose attempts
have all failed for ``webhook_disable_after_seconds`` is disabled, its pending deliveries are
failed, and its organization is told by a ``webhook.disabled`` event and an audit entry.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import bindparam, insert, select, update

from service.audit.service import SYSTEM
from service.config import Settings
from service.uow import Transaction, UnitOfWork
from service.webhooks import policies
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from service.webhooks.queue import database_now
from service.webhooks.sender import Outcome

ERROR_LIMIT = 500


@dataclass(frozen=True)
class Recorded:
    """What a batch came to: the times of the retries it scheduled, for metrics the rest."""

    retries: list[datetime] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)  # each recorded delivery's new status
    disabled: int = 0  # endpoints disabled


def retry_delay(settings: Settings, round_attempt: int) -> float | None:
    """Seconds until the next attempt after ``round_attempt`` failed ones; None: give up."""
    schedule = settings.webhook_retry_schedule
    if round_attempt > len(schedule):
        return None
    jitter = settings.webhook_retry_jitter
    return schedule[round_attempt - 1] * random.uniform(1 - jitter, 1 + jitter)  # noqa: S311


def next_state(settings: Settings, outcome: Outcome, now: datetime) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": outcome.job.delivery_id,
        "status": "pending",
        "last_status_code": outcome.status_code,
        "last_error": (outcome.error or "")[:ERROR_LIMIT] or None,
        "delivered_at": None,
        "finished_at": None,
        "next_attempt_at": now,
    }
    if outcome.succeeded:
        return {**state, "status": "delivered", "delivered_at": outcome.at, "finished_at": now}
    delay = retry_delay(settings, outcome.job.round_attempt)
    if delay is None:
        return {**state, "status": "failed", "finished_at": now}
    return {**state, "next_attempt_at": now + timedelta(seconds=delay)}


def update_delivery() -> Any:
    """One UPDATE run for many deliveries; only rows this worker still holds are touched."""
    table = WebhookDelivery.__table__
    fields = ("status", "last_status_code", "last_error", "delivered_at", "finished_at")
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.claimed_by == bindparam("b_worker"))
        .values(
            claimed_until=None,
            claimed_by=None,
            next_attempt_at=bindparam("b_next_attempt_at", type_=table.c.next_attempt_at.type),
            **{name: bindparam(f"b_{name}", type_=table.c[name].type) for name in fields},
        )
    )


UPDATE_DELIVERY = update_delivery()


def as_params(state: dict[str, Any], worker: str) -> dict[str, Any]:
    return {"b_worker": worker, **{f"b_{name}": value for name, value in state.items()}}


def attempt_row(outcome: Outcome, worker: str) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "created_at": outcome.at,
        "delivery_id": outcome.job.delivery_id,
        "number": outcome.job.attempt,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "error": (outcome.error or "")[:ERROR_LIMIT] or None,
        "response_excerpt": outcome.excerpt,
        "worker": worker,
    }


async def record(
    uow: UnitOfWork, settings: Settings, outcomes: Sequence[Outcome], *, worker: str
) -> Recorded:
    """Write a batch of outcomes (those of deliveries deleted meanwhile are dropped)."""
    async with uow.as_actor(SYSTEM).transaction() as tx:
        now = await database_now(tx.session)
        outcomes = await still_there(tx, outcomes)
        if not outcomes:
            return Recorded()
        states = [next_state(settings, outcome, now) for outcome in outcomes]
        await tx.session.execute(insert(WebhookAttempt), [attempt_row(o, worker) for o in outcomes])
        await tx.session.execute(UPDATE_DELIVERY, [as_params(s, worker) for s in states])
        disabled = await track_health(tx, settings, outcomes, now)
    retries = [s["next_attempt_at"] for s in states if s["status"] == "pending"]
    return Recorded(retries, [s["status"] for s in states], disabled)


async def still_there(tx: Transaction, outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Drop outcomes of deliveries deleted meanwhile (their webhook was deleted while sending)."""
    ids = [outcome.job.delivery_id for outcome in outcomes]
    existing = await tx.session.scalars(
        select(WebhookDelivery.id).where(WebhookDelivery.id.in_(ids))
    )
    present = set(existing.all())
    return [outcome for outcome in outcomes if outcome.job.delivery_id in present]


async def track_health(
    tx: Transaction, settings: Settings, outcomes: Sequence[Outcome], now: datetime
) -> int:
    """The latest outcome per endpoint decides: a success heals it, a failure may disable it.

    The number of endpoints disabled.
    """
    latest: dict[UUID, bool] = {}
    for outcome in outcomes:
        latest[outcome.job.subscription_id] = outcome.succeeded
    healed = [sid for sid, ok in latest.items() if ok]
    failing = [sid for sid, ok in latest.items() if not ok]
    if healed:
        await tx.session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id.in_(healed), WebhookSubscription.failing_since.is_not(None)
            )
            .values(failing_since=None)
        )
    return await mark_failing(tx, settings, failing, now) if failing else 0


async def mark_failing(tx: Transaction, settings: Settings, ids: list[UUID], now: datetime) -> int:
    await tx.session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id.in_(ids), WebhookSubscription.failing_since.is_(None))
        .values(failing_since=now)
    )
    limit = now - timedelta(seconds=settings.webhook_disable_after_seconds)
    worn_out = await tx.session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.id.in_(ids),
            WebhookSubscription.enabled.is_(True),
            WebhookSubscription.failing_since <= limit,
        )
    )
    disabled = list(worn_out)
    for subscription in disabled:
        await disable(tx, subscription, now)
    return len(disabled)


async def disable(tx: Transaction, subscription: WebhookSubscription, now: datetime) -> None:
    since = subscription.failing_since
    reason = f"Every attempt has failed since {since:%Y-%m-%d %H:%M} UTC." if since else None
    subscription.enabled = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason
    await tx.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.status == "pending",
        )
        .values(status="failed", finished_at=now, last_error="The endpoint was disabled.")
    )
    details = {"subscription_id": str(subscription.id), "reason": reason}
    tx.audit("webhook.disabled", subscription, details=details)
    tx.emit(
        "webhook.disabled",
        {
            **details,
            "url": policies.without_query(subscription.url),
            "disabled_at": now.isoformat(),
        },
        dialogue_id=None,
        organization_id=subscription.organization_id,
    )
