from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service.api.pagination import Cursor, Limit, decode_position, encode_position
from service.api.problems import errors
from service.auth.dependencies import Caller, CallerUoW
from service.events import service as events_service
from service.parties import policies

router = APIRouter(tags=["events"])


class EventRead(BaseModel):
    model_config = {"from_attributes": True}

    id: UUID = Field(description="Stable across deliveries: use it to deduplicate.")
    type: str = Field(examples=["notice.issued"])
    occurred_at: datetime
    dialogue_id: UUID | None
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventRead]
    next_cursor: str | None = Field(
        description="Pass as `after` to continue; present even at the end, so polling resumes."
    )


# Names separated by commas, blanks around them and empty entries allowed (``permit.*, ``).
TYPE_NAME = "|".join(re.escape(name) for name in events_service.TYPE_FILTERS)
TYPES_PATTERN = rf"^ *(?:{TYPE_NAME})? *(?:, *(?:{TYPE_NAME})? *)*$"
Types = Annotated[
    str | None,
    Query(
        max_length=1000,
        pattern=TYPES_PATTERN,
        description="Comma-separated types, exact (`notice.issued`) or by family (`permit.*`).",
        examples=["permit.*,notice.issued"],
    ),
]


@router.get("/events", responses=errors(401, 403, 422))
async def list_events(
    caller: Caller,
    uow: CallerUoW,
    after: Cursor = None,
    types: Types = None,
    limit: Limit = 100,
) -> EventPage:
    """The events of your dialogues that your side may see, oldest first.

    For systems that cannot accept inbound HTTP: poll with the last `next_cursor` as `after`.
    Observers receive `permit.*` and `notice.*` only.
    """
    policies.require(
        caller.is_user or caller.has_scope("events:read"), "This client lacks events:read."
    )
    position = decode_position(after) if after else 0
    wanted = [t.strip() for t in (types or "").split(",") if t.strip()]
    async with uow.reading() as session:
        rows = await events_service.feed(session, caller, after=position, types=wanted, limit=limit)
    last = rows[-1].seq if rows else position
    return EventPage(
        items=[EventRead.model_validate(row) for row in rows],
        next_cursor=encode_position(last) if last else None,
    )
