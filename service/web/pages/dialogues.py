"""Pages: one dialogue (parties, consultations, notices) and opening a consultation in it.

Also the small helpers the consultation and notice pages share: labels in the user's language,
form input checked by the service's own schemas, and lists read to their end.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from service.auth.principal import Principal
from service.consultations import service as consultation_service
from service.consultations.schemas import ConsultationCreate
from service.dialogue import access
from service.dialogue.access import Action, Side
from service.notices import service as notice_service
from service.parties import dialogues as dialogue_service
from service.parties import service as party_service
from service.parties.schemas import DialogueRead
from service.uow import UnitOfWork
from service.web.dependencies import FormUser, WebUoW, WebUser
from service.web.forms import see_other, validated
from service.web.templating import gettext_for, render

router = APIRouter()
PAGE = 200
MOST = 2000  # a page lists at most this many rows of one kind
# Security markings offered in forms, lowest first (the service accepts any well-formed one).
MARKINGS = ("UNCLASSIFIED", "PROTECTED A", "PROTECTED B", "CONFIDENTIAL")
M = TypeVar("M", bound=BaseModel)


def labels(request: Request) -> dict[str, dict[str, str]]:
    """Words for the service's codes, in the user's language."""
    _ = gettext_for(request)
    return {
        "topics": {
            "end_use_inquiry": _("End-use inquiry"),
            "allegation": _("Allegation"),
            "pre_licensing": _("Pre-licensing"),
            "general": _("General"),
        },
        "kinds": {
            "suspension": _("Suspension"),
            "cancellation": _("Cancellation"),
            "reinstatement": _("Reinstatement"),
            "general": _("General notice"),
        },
        "sides": {
            "authority": _("Licensing authority"),
            "counterpart": _("Counterpart ministry"),
            "observer": _("Observer"),
        },
        "outcomes": {
            "favorable": _("Favorable"),
            "unfavorable": _("Unfavorable"),
            "no_action": _("No action"),
            "resolved": _("Resolved"),
        },
    }


async def every(fetch: Callable[..., Awaitable[tuple[list[Any], str | None]]]) -> list[Any]:
    """All rows of a paginated service list (oldest first), up to ``MOST``."""
    rows, cursor = await fetch(limit=PAGE, cursor=None)
    while cursor and len(rows) < MOST:
        more, cursor = await fetch(limit=PAGE, cursor=cursor)
        rows += more
    return rows


def newest_first(rows: Iterable[Any]) -> list[Any]:
    return sorted(rows, key=lambda row: (row.created_at, str(row.id)), reverse=True)


def may(caller: Principal, side: str, action: Action) -> bool:
    """What the access table allows the caller here: to show a button (the service enforces)."""
    return access.may_see(Side(side), action) and access.allows(caller, Side(side), action)


async def party_names(uow: UnitOfWork, caller: Principal, dialogue: DialogueRead) -> dict:
    ids = [dialogue.authority_id, dialogue.counterpart_id, *dialogue.observer_ids]
    orgs = [await party_service.get_organization(uow, caller, org_id=i) for i in ids]
    return {org.id: org.name for org in orgs}


async def consultations_of(uow: UnitOfWork, caller: Principal, dialogue: DialogueRead) -> list:
    if not may(caller, dialogue.my_side, Action.READ_CONSULTATIONS):
        return []
    fetch = partial(
        consultation_service.list_consultations, uow, caller, dialogue_id=dialogue.id, status=None
    )
    return newest_first(await every(fetch))


async def notices_of(uow: UnitOfWork, caller: Principal, dialogue_id: UUID) -> list:
    fetch = partial(
        notice_service.list_notices, uow, caller, dialogue_id=dialogue_id, status=None, kind=None
    )
    return newest_first(await every(fetch))


@router.get("/dialogues/{dialogue_id}")
async def dialogue_page(
    request: Request, dialogue_id: UUID, user: WebUser, uow: WebUoW
) -> Response:
    caller = user.principal
    dialogue = await dialogue_service.get_dialogue(uow, caller, dialogue_id=dialogue_id)
    side = dialogue.my_side
    context = {
        "dialogue": dialogue,
        "parties": await party_names(uow, caller, dialogue),
        "consultations": await consultations_of(uow, caller, dialogue),
        "notices": await notices_of(uow, caller, dialogue.id),
        "sees_consultations": may(caller, side, Action.READ_CONSULTATIONS),
        "sees_assurances": may(caller, side, Action.READ_ASSURANCES),
        "may_consult": may(caller, side, Action.CONSULT),
        "may_draft": may(caller, side, Action.DRAFT_NOTICE),
        "labels": labels(request),
    }
    return render(request, "dialogue.html", context)


@router.post("/dialogues/{dialogue_id}/consultations")
async def open_consultation(
    dialogue_id: UUID,
    user: FormUser,
    uow: WebUoW,
    subject: Annotated[str, Form()] = "",
    topic: Annotated[str, Form()] = "",
) -> Response:
    data = validated(ConsultationCreate, subject=subject, topic=topic)
    opened = await consultation_service.open_consultation(
        uow, user.principal, dialogue_id=dialogue_id, data=data
    )
    return see_other(f"/app/consultations/{opened.id}")
