"""Subscriptions, the deliveries they are owed, and every attempt made.

The delivery rows are the queue: a worker claims a row by setting ``claimed_until`` (a lease) and
``status = 'delivering'``; a worker that dies leaves a lease that runs out, and the row is
returned to ``pending``. Nothing is held only in memory, so a crash loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, Entity, JSONType

DELIVERY_STATUSES = ("pending", "delivering", "delivered", "failed")


class WebhookSubscription(Entity):
    __tablename__ = "webhook_subscription"
    __table_args__ = (Index("ix_webhook_subscription_organization_id", "organization_id"),)

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSONType)
    dialogue_ids: Mapped[list[str]] = mapped_column(JSONType)  # empty: every dialogue
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Encrypted at rest (the worker needs the secret itself to sign), never shown after creation.
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None]
    # Start of the current run of failed attempts; cleared by any success.
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime | None]


class WebhookDelivery(Entity):
    """One message owed to one subscription: an outbox event, or a test message."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "message_id"),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription_id_created_at", "subscription_id", "created_at"),
        CheckConstraint(
            "status IN ('pending', 'delivering', 'delivered', 'failed')", name="known_status"
        ),
    )

    subscription_id: Mapped[UUID] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    # The ``webhook-id`` header: the event's id, the same on every attempt, so receivers dedupe.
    message_id: Mapped[UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[UUID | None] = mapped_column(ForeignKey("outbox_event.id"))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # test messages only
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # all attempts, ever
    # Attempts since the delivery was (re)queued: drives the retry schedule; a redelivery resets it.
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class WebhookAttempt(Entity):
    """One try at one delivery: when, what came back, how long it took."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        Index("ix_webhook_attempt_delivery_id_created_at", "delivery_id", "created_at"),
        Index("ix_webhook_attempt_created_at", "created_at"),
    )

    delivery_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_delivery.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None]
    latency_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(100))


class FanoutHead(Base):
    """How far the outbox has been turned into deliveries (one row, locked while fanning out)."""

    __tablename__ = "webhook_fanout_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
