"""Writing events into the outbox, and reading them back as an organization may see them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.db import utcnow
from service.errors import InvalidInput
from service.events.models import OutboxEvent
from service.parties import repository
from service.parties.models import Dialogue

EVENT_TYPES = (
    "dialogue.opened",
    "permit.registered",
    "permit.status_changed",
    "assurance.requested",
    "assurance.submitted",
    "assurance.accepted",
    "assurance.rejected",
    "assurance.withdrawn",
    "assurance.breached",
    "consultation.opened",
    "consultation.message_posted",
    "consultation.response_overdue",
    "consultation.closed",
    "notice.issued",
    "notice.acknowledged",
    "webhook.disabled",
)
# What a subscription or the feed may ask for: an exact type, or a family of them as ``family.*``.
TYPE_FILTERS = (*EVENT_TYPES, *sorted({f"{t.split('.', 1)[0]}.*" for t in EVENT_TYPES}))
# Observers (customs, border agency) learn of permits and notices, never of the rest.
# Events addressed to one organization (``webhook.disabled``) reach that organization alone.
OBSERVER_TYPE_PREFIXES = ("permit.", "notice.")


@dataclass
class PendingEvent:
    type: str
    dialogue_id: UUID | None
    data: dict[str, Any]
    organization_id: UUID | None = None
    id: UUID = field(default_factory=uuid4)
    occurred_at: datetime = field(default_factory=utcnow)


def pending(
    type_: str,
    data: BaseModel | dict[str, Any],
    dialogue_id: UUID | None,
    organization_id: UUID | None = None,
) -> PendingEvent:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    body = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    return PendingEvent(
        type=type_, dialogue_id=dialogue_id, data=body, organization_id=organization_id
    )


def type_filter(types: Sequence[str]) -> ColumnElement[bool]:
    """``notice.issued`` matches exactly, ``notice.*`` every type of that family."""
    conditions: list[ColumnElement[bool]] = []
    for wanted in types:
        if wanted.endswith(".*") and any(t.startswith(wanted[:-1]) for t in EVENT_TYPES):
            conditions.append(OutboxEvent.type.startswith(wanted[:-1], autoescape=True))
        elif wanted in EVENT_TYPES:
            conditions.append(OutboxEvent.type == wanted)
        else:
            raise InvalidInput(f"Unknown event type {wanted!r}.")
    return or_(*conditions) if conditions else false()


def visible_events(caller: Principal) -> Any:
    org = caller.org_id
    party = select(Dialogue.id).where(
        or_(Dialogue.authority_id == org, Dialogue.counterpart_id == org)
    )
    observed = select(Dialogue.id).where(repository.is_observer(org))
    observer_types = or_(*(OutboxEvent.type.startswith(p) for p in OBSERVER_TYPE_PREFIXES))
    return select(OutboxEvent).where(
        or_(
            OutboxEvent.dialogue_id.in_(party),
            OutboxEvent.dialogue_id.in_(observed) & observer_types,
            OutboxEvent.organization_id == org,
        )
    )


async def feed(
    session: AsyncSession,
    caller: Principal,
    *,
    after: int,
    types: Sequence[str],
    limit: int,
) -> list[OutboxEvent]:
    query = visible_events(caller).where(OutboxEvent.seq > after)
    if types:
        query = query.where(type_filter(types))
    return list((await session.scalars(query.order_by(OutboxEvent.seq).limit(limit))).all())
