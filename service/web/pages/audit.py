"""Page: the audit trail of my dialogues, for auditors, with the chain's verification on top.

The same visibility as ``GET /api/v1/audit`` (entries of the organization's dialogues and of its
own members), in chain order, with filters a person can type: a dialogue, part of the actor's
name, part of the action.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.api.pagination import decode_position, encode_position
from service.audit import service as audit_service
from service.audit.models import AuditEntry
from service.audit.repository import visible_entries
from service.auth.principal import Principal
from service.parties import policies
from service.uow import UnitOfWork
from service.web.dependencies import WebUoW, WebUser
from service.web.forms import QueryText, optional_id
from service.web.pages.permits import PAGE, my_dialogues
from service.web.templating import gettext_for, render

router = APIRouter()
LINKS = {
    "permit": "/app/permits/",
    "end_use_assurance": "/app/assurances/",
    "consultation": "/app/consultations/",
    "decision_notice": "/app/notices/",
    "dialogue": "/app/dialogues/",
}


async def entries(
    uow: UnitOfWork,
    caller: Principal,
    *,
    dialogue_id: UUID | None,
    actor: str,
    action: str,
    cursor: str | None,
) -> tuple[Sequence[AuditEntry], str | None]:
    query = visible_entries(caller)
    if dialogue_id is not None:
        query = query.where(AuditEntry.dialogue_id == dialogue_id)
    if actor:
        query = query.where(AuditEntry.actor_name.icontains(actor, autoescape=True))
    if action:
        query = query.where(AuditEntry.action.icontains(action, autoescape=True))
    if cursor:
        query = query.where(AuditEntry.seq > decode_position(cursor))
    async with uow.reading() as session:
        rows = (await session.scalars(query.order_by(AuditEntry.seq).limit(PAGE + 1))).all()
    next_cursor = encode_position(rows[PAGE - 1].seq) if len(rows) > PAGE else None
    return rows[:PAGE], next_cursor


def link_of(entry: AuditEntry) -> str | None:
    """Where the entry's entity has a page, if it names a real id."""
    prefix = LINKS.get(entry.entity_type or "")
    try:
        return f"{prefix}{UUID(entry.entity_id or '')}" if prefix else None
    except ValueError:
        return None


@router.get("/audit")
async def audit(
    request: Request,
    user: WebUser,
    uow: WebUoW,
    dialogue: QueryText = None,
    actor: QueryText = None,
    action: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    _ = gettext_for(request)
    policies.require(
        policies.can_read_audit(user.principal), _("Only auditors read the audit trail.")
    )
    dialogue_id = optional_id(request, dialogue, "dialogue")
    actor, action = (actor or "").strip(), (action or "").strip()
    rows, next_cursor = await entries(
        uow, user.principal, dialogue_id=dialogue_id, actor=actor, action=action, cursor=cursor
    )
    async with uow.reading() as session:
        verification = await audit_service.verify(session)
    dialogues = [d for d in await my_dialogues(uow, user.principal) if d.my_side != "observer"]
    context = {
        "verification": verification,
        "rows": [(row, link_of(row)) for row in rows],
        "next_cursor": next_cursor,
        "dialogues": dialogues,
        "titles": {d.id: d.title for d in dialogues},
        "filters": {"dialogue": dialogue_id or "", "actor": actor, "action": action},
    }
    return render(request, "audit.html", context)
