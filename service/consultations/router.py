from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from service.api.pagination import Cursor, Limit, Page
from service.api.problems import errors
from service.auth.dependencies import Caller, CallerUoW
from service.consultations import service as consultation_service
from service.consultations.schemas import (
    ConsultationClose,
    ConsultationCreate,
    ConsultationRead,
    ConsultationStatus,
    MessageCreate,
    MessageRead,
)

router = APIRouter(tags=["consultations"])
READ = errors(401, 403, 404)
LIST = errors(401, 403, 404, 422)
# Every POST may also meet an Idempotency-Key in use (409) or reused with another body (422).
WRITE = errors(401, 403, 404, 409, 422)
StatusFilter = Annotated[ConsultationStatus | None, Query(description="Only this status.")]


@router.post("/dialogues/{dialogue_id}/consultations", status_code=201, responses=WRITE)
async def open_consultation(
    dialogue_id: UUID, body: ConsultationCreate, caller: Caller, uow: CallerUoW
) -> ConsultationRead:
    """Open a consultation about permits and assurances of this dialogue."""
    return await consultation_service.open_consultation(
        uow, caller, dialogue_id=dialogue_id, data=body
    )


@router.get("/dialogues/{dialogue_id}/consultations", responses=LIST)
async def list_consultations(
    dialogue_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ConsultationRead]:
    """The dialogue's consultations, oldest first."""
    items, next_cursor = await consultation_service.list_consultations(
        uow, caller, dialogue_id=dialogue_id, status=status, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/consultations/{consultation_id}", responses=READ)
async def get_consultation(
    consultation_id: UUID, caller: Caller, uow: CallerUoW
) -> ConsultationRead:
    """A consultation: its links, whose answer it awaits, and how far each side has read."""
    return await consultation_service.get_consultation(uow, caller, consultation_id=consultation_id)


@router.post("/consultations/{consultation_id}/messages", status_code=201, responses=WRITE)
async def post_message(
    consultation_id: UUID, body: MessageCreate, caller: Caller, uow: CallerUoW
) -> MessageRead:
    """Post an immutable message; `response_requested_by` awaits the other side's answer."""
    return await consultation_service.post_message(
        uow, caller, consultation_id=consultation_id, data=body
    )


@router.get("/consultations/{consultation_id}/messages", responses=LIST)
async def list_messages(
    consultation_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MessageRead]:
    """The messages, oldest first, each saying whether the other side has read it."""
    items, next_cursor = await consultation_service.list_messages(
        uow, caller, consultation_id=consultation_id, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post("/consultations/{consultation_id}/read", responses=WRITE)
async def mark_read(consultation_id: UUID, caller: Caller, uow: CallerUoW) -> ConsultationRead:
    """Record that your side has read every message posted so far."""
    return await consultation_service.mark_read(uow, caller, consultation_id=consultation_id)


@router.post("/consultations/{consultation_id}/close", responses=WRITE)
async def close_consultation(
    consultation_id: UUID, body: ConsultationClose, caller: Caller, uow: CallerUoW
) -> ConsultationRead:
    """Close the consultation with an outcome; it takes no more messages."""
    return await consultation_service.close(uow, caller, consultation_id=consultation_id, data=body)
