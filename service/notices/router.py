from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from service.api.pagination import Cursor, Limit, Page
from service.api.problems import errors
from service.auth.dependencies import Caller, CallerUoW
from service.notices import service as notice_service
from service.notices import signing
from service.notices.schemas import (
    NoticeAcknowledge,
    NoticeCreate,
    NoticeIssue,
    NoticeKind,
    NoticeRead,
    NoticeStatus,
    NoticeUpdate,
)

router = APIRouter(tags=["notices"])
READ = errors(401, 403, 404)
WRITE = errors(401, 403, 404, 409, 422)
JWS_EXAMPLE = (
    "eyJhbGciOiJFUzI1NiIsImtpZCI6Ii4uLiIsInR5cCI6ImVudGVudGUtbm90aWNlK2p3cyJ9.eyJ...fQ.MEUC..."
)


@router.post("/dialogues/{dialogue_id}/notices", status_code=201, responses=WRITE)
async def draft_notice(
    dialogue_id: UUID, body: NoticeCreate, caller: Caller, uow: CallerUoW
) -> NoticeRead:
    """Draft a decision notice (authority officers); an approver issues it later."""
    return await notice_service.draft(uow, caller, dialogue_id=dialogue_id, data=body)


@router.get("/dialogues/{dialogue_id}/notices", responses=errors(401, 403, 404, 422))
async def list_notices(
    dialogue_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    status: Annotated[NoticeStatus | None, Query()] = None,
    kind: Annotated[NoticeKind | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[NoticeRead]:
    """A dialogue's notices, oldest first; drafts only for the authority."""
    items, next_cursor = await notice_service.list_notices(
        uow, caller, dialogue_id=dialogue_id, status=status, kind=kind, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/notices/{notice_id}", responses=READ)
async def get_notice(notice_id: UUID, caller: Caller, uow: CallerUoW) -> NoticeRead:
    """One notice; drafts are visible to the authority only."""
    return await notice_service.get(uow, caller, notice_id=notice_id)


@router.patch("/notices/{notice_id}", responses=WRITE)
async def edit_notice(
    notice_id: UUID, body: NoticeUpdate, caller: Caller, uow: CallerUoW
) -> NoticeRead:
    """Change a draft (authority officers); an issued notice never changes (409)."""
    return await notice_service.edit(uow, caller, notice_id=notice_id, data=body)


@router.post("/notices/{notice_id}/issue", responses=WRITE)
async def issue_notice(
    notice_id: UUID, body: NoticeIssue, request: Request, caller: Caller, uow: CallerUoW
) -> NoticeRead:
    """Issue a draft: four-eyes, atomic, signed.

    An approver who did not draft the notice issues it; API clients never can. Every listed
    permit moves and every listed assurance becomes breached in one transaction, or nothing
    changes and the answer (409) names the permits that cannot move.
    """
    tokens = request.app.state.tokens
    return await notice_service.issue(uow, caller, notice_id=notice_id, tokens=tokens)


@router.post("/notices/{notice_id}/acknowledge", responses=WRITE)
async def acknowledge_notice(
    notice_id: UUID, body: NoticeAcknowledge, caller: Caller, uow: CallerUoW
) -> NoticeRead:
    """Acknowledge an issued notice (counterpart officers and diplomats)."""
    return await notice_service.acknowledge(uow, caller, notice_id=notice_id)


@router.get(
    "/notices/{notice_id}/signed",
    response_class=Response,
    responses={
        200: {
            "description": "The compact JWS (ES256); its payload is the notice as issued.",
            "content": {signing.MEDIA_TYPE: {"schema": {"type": "string"}, "example": JWS_EXAMPLE}},
        },
        **READ,
    },
)
async def signed_notice(notice_id: UUID, caller: Caller, uow: CallerUoW) -> Response:
    """The issued notice as a JWS, verifiable with `/.well-known/jwks.json` (404 while draft)."""
    jws = await notice_service.signed(uow, caller, notice_id=notice_id)
    return Response(content=jws, media_type=signing.MEDIA_TYPE)
