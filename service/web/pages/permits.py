"""Pages: permits of my dialogues, one permit with its items and status history.

Also the small form helpers the record pages share (ids from query strings, readable 422s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from service.auth.principal import Principal
from service.parties import dialogues as dialogue_service
from service.parties.schemas import DialogueRead
from service.permits import service as permit_service
from service.permits.schemas import PermitFilters
from service.uow import UnitOfWork
from service.web.dependencies import WebUoW, WebUser
from service.web.forms import QueryText, invalid, optional_id
from service.web.templating import render

router = APIRouter()
PAGE = 50
MAX_DIALOGUES = 200
PERMIT_STATUSES = ("active", "suspended", "cancelled", "expired")

# (dialogue, rows, next_cursor) for each dialogue shown
Group = tuple[DialogueRead, list[Any], str | None]
Lister = Callable[[DialogueRead, str | None], Awaitable[tuple[list[Any], str | None]]]


async def my_dialogues(uow: UnitOfWork, caller: Principal) -> list[DialogueRead]:
    rows, _ = await dialogue_service.list_dialogues(uow, caller, limit=MAX_DIALOGUES, cursor=None)
    return rows


async def grouped(
    uow: UnitOfWork,
    caller: Principal,
    dialogue_id: UUID | None,
    cursor: str | None,
    listing: Lister,
    *,
    sides: tuple[str, ...] = ("authority", "counterpart", "observer"),
) -> tuple[list[DialogueRead], list[Group]]:
    """One dialogue (404 if not visible) or each of mine whose side may see the records."""
    dialogues = await my_dialogues(uow, caller)
    if dialogue_id is not None:
        chosen = [await dialogue_service.get_dialogue(uow, caller, dialogue_id=dialogue_id)]
    else:
        chosen, cursor = [d for d in dialogues if d.my_side in sides], None
    groups = [(d, *(await listing(d, cursor))) for d in chosen]
    return [d for d in dialogues if d.my_side in sides], groups


@router.get("/permits")
async def permits(
    request: Request,
    user: WebUser,
    uow: WebUoW,
    dialogue: QueryText = None,
    status: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    dialogue_id = optional_id(request, dialogue, "dialogue")
    try:
        filters = PermitFilters(status=status or None)
    except ValidationError as exc:
        raise invalid(request, exc) from None

    async def listing(d: DialogueRead, after: str | None) -> tuple[list[Any], str | None]:
        return await permit_service.list_permits(
            uow, user.principal, dialogue_id=d.id, filters=filters, limit=PAGE, cursor=after
        )

    dialogues, groups = await grouped(uow, user.principal, dialogue_id, cursor, listing)
    context = {
        "dialogues": dialogues,
        "groups": groups,
        "chosen": dialogue_id,
        "status": filters.status or "",
        "statuses": PERMIT_STATUSES,
    }
    return render(request, "permits.html", context)


@router.get("/permits/{permit_id}")
async def permit(request: Request, permit_id: UUID, user: WebUser, uow: WebUoW) -> Response:
    found = await permit_service.get_permit(uow, user.principal, permit_id=permit_id)
    changes = await permit_service.history(uow, user.principal, permit_id=permit_id)
    dialogue = await dialogue_service.get_dialogue(
        uow, user.principal, dialogue_id=found.dialogue_id
    )
    context = {"permit": found, "history": changes.items, "dialogue": dialogue}
    return render(request, "permit.html", context)
