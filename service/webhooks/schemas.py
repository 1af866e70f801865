from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AliasChoices,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from service.api.types import (
    STRIPPED,
    Distinct,
    Input,
    Instant,
    Output,
    Text,
    Update,
    WholeNumber,
    no_control_characters,
)
from service.db import utcnow
from service.events.service import TYPE_FILTERS
from service.webhooks import policies

DeliveryStatus = Literal["pending", "delivering", "delivered", "failed"]
MAX_OVERLAP_SECONDS = 7 * 86400


def known_event_type(value: str) -> str:
    if not policies.is_known_event_type(value):
        raise ValueError(
            f"unknown event type {value!r}: name one (notice.issued) or a family (notice.*)"
        )
    return value


def not_in_the_future(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone (RFC 3339)")
    if value > utcnow():
        raise ValueError("must not be in the future")
    return value


Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    AfterValidator(no_control_characters),
    STRIPPED,
    Field(
        description="Where deliveries are POSTed: `https`, on a public address (or one the "
        "operator's allow-list names); no credentials. The host is resolved when registered.",
        examples=["https://customs.example.gc.ca/entente/webhooks"],
    ),
]
EventType = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    AfterValidator(known_event_type),
    WithJsonSchema({"type": "string", "enum": list(TYPE_FILTERS)}),
]
EventTypes = Annotated[
    Distinct(EventType),
    Field(
        min_length=1,
        max_length=50,
        description="Exact types (`notice.issued`) or families (`notice.*`); see `/events` "
        "for the types. Observers receive `permit.*` and `notice.*` only.",
        examples=[["notice.*", "permit.status_changed"]],
    ),
]
DialogueIds = Annotated[
    Distinct(UUID),
    Field(
        max_length=100,
        description="Only events of these dialogues (yours); empty: every dialogue of yours.",
    ),
]
Description = Text(500, min_length=0)
Since = Annotated[Instant, AfterValidator(not_in_the_future)]

CREATE_EXAMPLE = {
    "url": "https://customs.example.gc.ca/entente/webhooks",
    "event_types": ["notice.*", "permit.status_changed"],
    "dialogue_ids": ["5e2d9a7c-1f3b-4c8e-a6d0-9b7f2e4c1a58"],
    "description": "CBSA border systems: permit status changes",
    "enabled": True,
}


class WebhookCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [CREATE_EXAMPLE]})

    url: Url
    event_types: EventTypes
    dialogue_ids: DialogueIds = Field(default_factory=list)
    description: Description = ""  # type: ignore[valid-type]
    enabled: StrictBool = True


class WebhookUpdate(Update):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enabled": True}, {"event_types": ["notice.issued"]}]}
    )

    url: Url | None = None
    event_types: EventTypes | None = None
    dialogue_ids: DialogueIds | None = None
    description: Description | None = None  # type: ignore[valid-type]
    enabled: StrictBool | None = Field(
        None, description="`true` on a disabled webhook re-enables it and clears why it stopped."
    )


WEBHOOK_EXAMPLE = CREATE_EXAMPLE | {
    "id": "9a3e7c1f-5b2d-4e8a-b6f0-1c4d7e9a2b35",
    "organization_id": "c4e6a8b0-2d4f-4a6c-8e0a-1b3d5f7a9c2e",
    "failing_since": None,
    "disabled_at": None,
    "disabled_reason": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": None,
}


class WebhookRead(Output):
    model_config = ConfigDict(json_schema_extra={"examples": [WEBHOOK_EXAMPLE]})

    id: UUID
    organization_id: UUID
    url: str
    event_types: list[str]
    dialogue_ids: list[UUID]
    description: str
    enabled: bool
    failing_since: datetime | None = Field(
        description="Start of the current run of failed attempts; null once one succeeds."
    )
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        validation_alias=AliasChoices("previous_secret_until", "previous_secret_expires_at"),
        description="Until then deliveries are also signed with the secret replaced last.",
    )
    created_at: datetime
    updated_at: datetime | None


class WebhookCreated(WebhookRead):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [WEBHOOK_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )

    secret: str = Field(description="Shown only in this answer; store it now.")


class SecretRotate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"overlap_seconds": 3600}]})

    overlap_seconds: WholeNumber(ge=0, le=MAX_OVERLAP_SECONDS) | None = Field(  # type: ignore[valid-type]
        None,
        description="How long the replaced secret keeps signing too (default: the operator's "
        "setting, one day unless changed); 0 drops it at once.",
    )


class SecretRotated(Output):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    "previous_secret_expires_at": "2026-11-28T09:00:00Z",
                }
            ]
        }
    )

    secret: str = Field(description="The new secret, shown only in this answer.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then each delivery carries a signature by the old secret as well; "
        "null when the overlap was 0."
    )


class QueuedTestMessage(Output):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "delivery_id": "2c7e9b1d-4f6a-4d8e-9b3c-5a1f7e2d8c46",
                    "message_id": "6d4b2f8e-1a3c-4e5f-8b7d-9c0e2a4f6b18",
                }
            ]
        }
    )

    delivery_id: UUID
    message_id: UUID = Field(description="The `webhook-id` header the receiver will see.")


class RedeliverFailed(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"since": "2026-11-26T00:00:00Z"}]})

    since: Since = Field(description="Requeue failed deliveries created at or after this time.")


class Requeued(Output):
    model_config = ConfigDict(json_schema_extra={"examples": [{"count": 12}]})

    count: int = Field(description="How many failed deliveries were put back in the queue.")


DELIVERY_EXAMPLE = {
    "id": "2c7e9b1d-4f6a-4d8e-9b3c-5a1f7e2d8c46",
    "subscription_id": "9a3e7c1f-5b2d-4e8a-b6f0-1c4d7e9a2b35",
    "message_id": "6d4b2f8e-1a3c-4e5f-8b7d-9c0e2a4f6b18",
    "event_type": "notice.issued",
    "event_id": "6d4b2f8e-1a3c-4e5f-8b7d-9c0e2a4f6b18",
    "status": "delivered",
    "attempts": 2,
    "next_attempt_at": "2026-11-27T09:00:05Z",
    "last_status_code": 200,
    "last_error": None,
    "delivered_at": "2026-11-27T09:00:05Z",
    "finished_at": "2026-11-27T09:00:05Z",
    "created_at": "2026-11-27T09:00:00Z",
}
ATTEMPTS_EXAMPLE = [
    {
        "number": 1,
        "attempted_at": "2026-11-27T09:00:00Z",
        "status_code": 503,
        "latency_ms": 212,
        "error": "The receiver answered 503.",
        "response_excerpt": "Service Unavailable",
        "worker": "worker-7f3a",
    },
    {
        "number": 2,
        "attempted_at": "2026-11-27T09:00:05Z",
        "status_code": 200,
        "latency_ms": 48,
        "error": None,
        "response_excerpt": "ok",
        "worker": "worker-7f3a",
    },
]


class DeliveryRead(Output):
    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    id: UUID
    subscription_id: UUID
    message_id: UUID = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    event_id: UUID | None = Field(description="Null for test messages.")
    status: DeliveryStatus
    attempts: int = Field(description="Attempts made, over every (re)delivery.")
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    finished_at: datetime | None
    created_at: datetime


class AttemptRead(Output):
    number: int
    attempted_at: datetime = Field(validation_alias=AliasChoices("created_at", "attempted_at"))
    status_code: int | None
    latency_ms: int | None
    error: str | None
    response_excerpt: str | None = Field(description="The start of the receiver's answer.")
    worker: str | None


class DeliveryDetail(DeliveryRead):
    model_config = ConfigDict(
        json_schema_extra={"examples": [DELIVERY_EXAMPLE | {"attempts_log": ATTEMPTS_EXAMPLE}]}
    )

    attempts_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")
