"""Who may manage webhooks, and the pure rules their inputs follow. No database here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from service.auth.principal import Principal
from service.events.service import EVENT_TYPES

FAMILIES = frozenset(event_type.split(".", 1)[0] for event_type in EVENT_TYPES)
MANAGER_ONLY = (
    "Managing webhooks takes your organization's admin role or the webhooks:manage scope."
)
TEST_EVENT_TYPE = "webhook.test"


def can_manage(caller: Principal) -> bool:
    """An organization's admins, or its systems holding ``webhooks:manage`` (SPEC section 2)."""
    return caller.has_role("admin") or caller.has_scope("webhooks:manage")


def is_known_event_type(value: str) -> bool:
    """An exact event type, or ``family.*`` for a family that has event types."""
    if value.endswith(".*"):
        return value[:-2] in FAMILIES
    return value in EVENT_TYPES


def without_query(url: str) -> str:
    """The URL as the audit trail keeps it: query strings often carry the receiver's tokens."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def previous_secret_until(now: datetime, overlap_seconds: int) -> datetime | None:
    """Until when the replaced secret still signs; a zero overlap drops it at once."""
    return now + timedelta(seconds=overlap_seconds) if overlap_seconds > 0 else None


def can_redeliver(status: str) -> bool:
    # A worker is sending it right now; requeueing would race that attempt's outcome.
    return status != "delivering"


def requeued(now: datetime) -> dict[str, Any]:
    """A delivery put back in the queue: due now, with a fresh retry schedule."""
    return {
        "status": "pending",
        "next_attempt_at": now,
        "round_attempts": 0,
        "finished_at": None,
        "claimed_until": None,
        "claimed_by": None,
    }


def switched(enabled: bool, now: datetime) -> dict[str, Any]:
    """The columns that change when an owner turns a webhook on or off.

    Turning it on starts afresh: why it stopped, and since when it was failing, are forgotten,
    so the worker's disable-after-days clock restarts. Turning it off pauses it; its pending
    deliveries wait (the worker claims none of a disabled webhook's) until it is turned on.
    """
    if enabled:
        return {
            "enabled": True,
            "disabled_at": None,
            "disabled_reason": None,
            "failing_since": None,
        }
    return {"enabled": False, "disabled_at": now, "disabled_reason": "Disabled by its owner."}


def envelope(
    message_id: UUID,
    event_type: str,
    occurred_at: datetime,
    dialogue_id: UUID | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    """The body of every delivery: the events feed's envelope (SPEC section 4)."""
    return {
        "id": str(message_id),
        "type": event_type,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "dialogue_id": str(dialogue_id) if dialogue_id else None,
        "data": data,
    }


def envelope_for_test_message(
    message_id: UUID, subscription_id: UUID, now: datetime
) -> dict[str, Any]:
    """A test message in the envelope every event has, dialogue-less."""
    data = {"subscription_id": str(subscription_id), "message": "Test message from Entente."}
    return envelope(message_id, TEST_EVENT_TYPE, now, None, data)
