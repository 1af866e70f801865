from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from service.api.pagination import Cursor, Limit, Page
from service.api.problems import errors
from service.api.types import Printable
from service.auth.dependencies import Caller, CallerUoW
from service.permits import service as permit_service
from service.permits.schemas import (
    PermitBulkCreate,
    PermitBulkRead,
    PermitCreate,
    PermitFilters,
    PermitHistory,
    PermitRead,
    PermitStatus,
)

router = APIRouter(tags=["permits"])
READ = errors(401, 403, 404)
WRITE = errors(401, 403, 404, 409, 422)
StatusFilter = Annotated[PermitStatus | None, Query(description="Only permits in this status.")]
NumberFilter = Annotated[
    str | None, Query(max_length=64, description="Exact number, regardless of case."), Printable
]
ExporterFilter = Annotated[
    str | None,
    Query(max_length=200, description="Part of the exporter's name, any case."),
    Printable,
]


@router.post("/dialogues/{dialogue_id}/permits", status_code=201, responses=WRITE)
async def register_permit(
    dialogue_id: UUID, body: PermitCreate, caller: Caller, uow: CallerUoW
) -> PermitRead:
    """Register a permit of the dialogue's licensing authority; it starts `active`.

    Numbers are unique per authority, compared without regard to case: a number registered
    before answers 409 naming it.
    """
    return await permit_service.register(uow, caller, dialogue_id=dialogue_id, data=body)


@router.post("/dialogues/{dialogue_id}/permits/bulk", status_code=201, responses=WRITE)
async def register_permits(
    dialogue_id: UUID, body: PermitBulkCreate, caller: Caller, uow: CallerUoW
) -> PermitBulkRead:
    """Register many permits at once, all or nothing.

    If any number is registered already or appears twice in the batch, nothing is stored and
    the 409 names every such number (`numbers`).
    """
    return await permit_service.register_many(uow, caller, dialogue_id=dialogue_id, data=body)


@router.get("/dialogues/{dialogue_id}/permits", responses=errors(401, 403, 404, 422))
async def list_permits(
    dialogue_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    status: StatusFilter = None,
    number: NumberFilter = None,
    exporter: ExporterFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[PermitRead]:
    """The dialogue's permits, oldest registration first (every party and observer may read)."""
    filters = PermitFilters(status=status, number=number, exporter=exporter)
    items, next_cursor = await permit_service.list_permits(
        uow, caller, dialogue_id=dialogue_id, filters=filters, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/permits/{permit_id}", responses=READ)
async def get_permit(permit_id: UUID, caller: Caller, uow: CallerUoW) -> PermitRead:
    """One permit, with its current status."""
    return await permit_service.get_permit(uow, caller, permit_id=permit_id)


@router.get("/permits/{permit_id}/history", responses=READ)
async def permit_history(permit_id: UUID, caller: Caller, uow: CallerUoW) -> PermitHistory:
    """Every status change of the permit, oldest first, with the notice that caused it.

    `notice_id` is null for an expiry.
    """
    return await permit_service.history(uow, caller, permit_id=permit_id)
