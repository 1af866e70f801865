from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from service.api.pagination import Cursor, Limit, Page, decode_position, encode_position
from service.api.problems import errors
from service.api.types import Printable
from service.audit import service as audit_service
from service.audit.models import AuditEntry
from service.audit.repository import visible_entries
from service.auth.dependencies import Caller, CallerUoW
from service.parties import policies

router = APIRouter(tags=["audit"])


class AuditEntryRead(BaseModel):
    model_config = {"from_attributes": True}

    seq: int
    at: datetime
    actor_type: str
    actor_id: UUID | None
    actor_name: str | None
    org_id: UUID | None
    action: str
    entity_type: str | None
    entity_id: str | None
    dialogue_id: UUID | None
    request_id: str | None
    client_addr: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationRead(BaseModel):
    valid: bool
    entries: int
    first_broken_seq: int | None
    reason: str | None


@router.get("/audit", responses=errors(401, 403, 422))
async def list_audit(
    caller: Caller,
    uow: CallerUoW,
    dialogue_id: UUID | None = None,
    actor_id: UUID | None = None,
    action: Annotated[str | None, Query(max_length=80), Printable] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AuditEntryRead]:
    """The audit trail of your dialogues and your organization (auditors), in chain order."""
    policies.require(policies.can_read_audit(caller), "Only auditors read the audit trail.")
    query = visible_entries(caller)
    for column, value in (
        (AuditEntry.dialogue_id, dialogue_id),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    if cursor:
        query = query.where(AuditEntry.seq > decode_position(cursor))
    async with uow.reading() as session:
        rows = (await session.scalars(query.order_by(AuditEntry.seq).limit(limit + 1))).all()
    next_cursor = encode_position(rows[limit - 1].seq) if len(rows) > limit else None
    items = [AuditEntryRead.model_validate(row) for row in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor)


@router.get("/audit/verify", responses=errors(401, 403))
async def verify_audit(caller: Caller, uow: CallerUoW) -> VerificationRead:
    """Recompute the whole hash chain and name the first entry that breaks it."""
    policies.require(policies.can_read_audit(caller), "Only auditors verify the audit trail.")
    async with uow.reading() as session:
        result = await audit_service.verify(session)
    return VerificationRead(
        valid=result.valid,
        entries=result.entries,
        first_broken_seq=result.first_broken_seq,
        reason=result.reason,
    )
