from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query

from service.api.pagination import Cursor, Limit, Page
from service.api.problems import errors
from service.assurances import service as assurance_service
from service.assurances.schemas import (
    AssuranceAccept,
    AssuranceCreate,
    AssuranceDecision,
    AssuranceFields,
    AssuranceRead,
    AssuranceStatus,
    AssuranceWithdraw,
)
from service.auth.dependencies import Caller, CallerUoW

router = APIRouter(tags=["assurances"])
READ = errors(401, 403, 404, 422)
WRITE = errors(401, 403, 404, 409, 422)

CERTIFICATE: dict[str, Any] = {
    "end_user": "Turkish Armed Forces",
    "end_use": "Own use on the armed forces' unmanned aerial vehicles; no re-export.",
    "destination_country": "TR",
    "retransfer_clause": True,
    "valid_until": "2021-12-31",
    "signatory": {"name": "A. Diplomat", "title": "Director General for Arms Control"},
    "document_sha256": "9f2b5c1e8d7a6b4c3f2e1d0c9b8a7f6e5d4c3b2a19f8e7d6c5b4a39281706f5e",
    "register_number": "TR-EUC-2020-17",
    "issue_date": "2020-01-15",
    "consent_to_verification": True,
}
PERMIT_ID = "0b7c1a52-6e1f-4c1e-9a43-2f1d9c6a8e01"
CREATE_EXAMPLES = {
    "request": {
        "summary": "Authority: request an assurance",
        "value": {"permit_ids": [PERMIT_ID], "due_at": "2030-01-31T17:00:00Z"},
    },
    "submit": {
        "summary": "Counterpart: submit an assurance unasked",
        "value": {"permit_ids": [PERMIT_ID], **CERTIFICATE},
    },
}
CreateBody = Annotated[AssuranceCreate, Body(openapi_examples=CREATE_EXAMPLES)]
SubmitBody = Annotated[
    AssuranceFields, Body(openapi_examples={"certificate": {"value": CERTIFICATE}})
]
RejectBody = Annotated[
    AssuranceDecision,
    Body(openapi_examples={"reason": {"value": {"reason": "The end user is not named."}}}),
]
StatusFilter = Annotated[AssuranceStatus | None, Query(description="Only assurances in it.")]


@router.post(
    "/dialogues/{dialogue_id}/assurances", status_code=201, responses=errors(401, 403, 404, 422)
)
async def create_assurance(
    dialogue_id: UUID, body: CreateBody, caller: Caller, uow: CallerUoW
) -> AssuranceRead:
    """Request an assurance (authority) or submit one unasked (counterpart).

    The caller's side decides: the licensing authority sends `{permit_ids, due_at}` and gets a
    `requested` assurance; the counterpart sends the full certificate with `permit_ids` and gets
    a `submitted` one. The other side's shape is refused with 422.
    """
    return await assurance_service.create(uow, caller, dialogue_id=dialogue_id, data=body)


@router.get("/dialogues/{dialogue_id}/assurances", responses=READ)
async def list_assurances(
    dialogue_id: UUID,
    caller: Caller,
    uow: CallerUoW,
    status: StatusFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AssuranceRead]:
    """The dialogue's assurances, oldest first (parties only; observers never see them)."""
    items, next_cursor = await assurance_service.list_assurances(
        uow, caller, dialogue_id=dialogue_id, status=status, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/assurances/{assurance_id}", responses=errors(401, 403, 404))
async def get_assurance(assurance_id: UUID, caller: Caller, uow: CallerUoW) -> AssuranceRead:
    """One assurance and the permits it covers."""
    return await assurance_service.get(uow, caller, assurance_id=assurance_id)


@router.post("/assurances/{assurance_id}/submit", responses=WRITE)
async def submit_assurance(
    assurance_id: UUID, body: SubmitBody, caller: Caller, uow: CallerUoW
) -> AssuranceRead:
    """Answer the authority's request with the certificate (counterpart; `requested` only)."""
    return await assurance_service.submit(uow, caller, assurance_id=assurance_id, data=body)


@router.post("/assurances/{assurance_id}/accept", responses=WRITE)
async def accept_assurance(
    assurance_id: UUID, body: AssuranceAccept, caller: Caller, uow: CallerUoW
) -> AssuranceRead:
    """Accept a submitted assurance (authority officers)."""
    return await assurance_service.accept(uow, caller, assurance_id=assurance_id)


@router.post("/assurances/{assurance_id}/reject", responses=WRITE)
async def reject_assurance(
    assurance_id: UUID, body: RejectBody, caller: Caller, uow: CallerUoW
) -> AssuranceRead:
    """Reject a submitted assurance, with the reason the counterpart will read."""
    return await assurance_service.reject(
        uow, caller, assurance_id=assurance_id, reason=body.reason
    )


@router.post("/assurances/{assurance_id}/withdraw", responses=WRITE)
async def withdraw_assurance(
    assurance_id: UUID, body: AssuranceWithdraw, caller: Caller, uow: CallerUoW
) -> AssuranceRead:
    """Withdraw a submitted assurance before the authority decides (counterpart)."""
    return await assurance_service.withdraw(uow, caller, assurance_id=assurance_id)
