"""Pages: a consultation's thread, replying to it and closing it.

The thread shows its latest ``THREAD_PAGE`` messages, with a link to earlier ones page by page.
Viewing the latest page as a party records that the viewer's side has read the thread (the
service's read receipt), so the other side sees when its messages were read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from service.api.pagination import InvalidCursor
from service.auth.principal import Principal
from service.consultations import service as consultation_service
from service.consultations.schemas import (
    ConsultationClose,
    ConsultationRead,
    MessageCreate,
    MessageRead,
)
from service.dialogue.access import Action
from service.errors import InvalidInput
from service.parties import dialogues as dialogue_service
from service.uow import UnitOfWork
from service.web.dependencies import FormUser, WebUoW, WebUser
from service.web.forms import QueryText, see_other, validated
from service.web.pages.dialogues import MARKINGS, labels, may, party_names
from service.web.templating import gettext_for, render

router = APIRouter()
THREAD_PAGE = 100  # messages per page of a thread, the latest first


def highest_marking(markings: list[str]) -> str | None:
    """The most restrictive marking; one this page does not know counts as the highest."""
    rank = {marking: index for index, marking in enumerate(MARKINGS)}
    return max(markings, key=lambda m: rank.get(m, len(MARKINGS)), default=None)


def utc_from_form(request: Request, value: str) -> datetime | None:
    """A ``datetime-local`` field, read as UTC (the form says so); empty means none."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        _ = gettext_for(request)
        raise InvalidInput(_("The answer deadline is not a valid date and time.")) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def receipts_by_side(consultation: ConsultationRead) -> dict[str, object]:
    return {receipt.side: receipt for receipt in consultation.read_receipts}


async def thread_page(
    request: Request,
    uow: UnitOfWork,
    caller: Principal,
    consultation_id: UUID,
    before: str | None,
) -> tuple[list[MessageRead], str | None]:
    """The page of messages before ``before`` (the latest if None), oldest first; older's cursor."""
    try:
        rows, older = await consultation_service.list_messages(
            uow,
            caller,
            consultation_id=consultation_id,
            limit=THREAD_PAGE,
            cursor=before,
            newest_first=True,
        )
    except InvalidCursor as exc:
        _ = gettext_for(request)
        raise InvalidInput(_("This link to earlier messages is not valid.")) from exc
    return rows[::-1], older


@router.get("/consultations/{consultation_id}")
async def consultation_page(
    request: Request,
    consultation_id: UUID,
    user: WebUser,
    uow: WebUoW,
    before: QueryText = None,
) -> Response:
    caller = user.principal
    before = before or None
    consultation = await consultation_service.get_consultation(
        uow, caller, consultation_id=consultation_id
    )
    dialogue = await dialogue_service.get_dialogue(
        uow, caller, dialogue_id=consultation.dialogue_id
    )
    side = dialogue.my_side
    # Read before listing, so the receipt covers no message this page does not show; and only
    # on the latest page: an earlier page does not show the newest messages.
    if before is None and may(caller, side, Action.CONSULT):
        consultation = await consultation_service.mark_read(
            uow, caller, consultation_id=consultation_id
        )
    messages, older = await thread_page(request, uow, caller, consultation.id, before)
    markings = await consultation_service.message_classifications(
        uow, caller, consultation_id=consultation.id
    )
    is_open = consultation.status != "closed"
    context = {
        "consultation": consultation,
        "dialogue": dialogue,
        "parties": await party_names(uow, caller, dialogue),
        "messages": messages,
        "older_cursor": older,
        "is_latest": before is None,
        "highest": highest_marking(markings),
        "receipts": receipts_by_side(consultation),
        "may_reply": is_open and may(caller, side, Action.CONSULT),
        "may_close": is_open and may(caller, side, Action.CLOSE_CONSULTATION),
        "markings": MARKINGS,
        "labels": labels(request),
    }
    return render(request, "consultation.html", context)


@router.post("/consultations/{consultation_id}/messages")
async def post_message(
    request: Request,
    consultation_id: UUID,
    user: FormUser,
    uow: WebUoW,
    body: Annotated[str, Form()] = "",
    classification: Annotated[str, Form()] = "UNCLASSIFIED",
    response_requested_by: Annotated[str, Form()] = "",
) -> Response:
    data = validated(
        MessageCreate,
        body=body,
        classification=classification,
        response_requested_by=utc_from_form(request, response_requested_by),
    )
    posted = await consultation_service.post_message(
        uow, user.principal, consultation_id=consultation_id, data=data
    )
    return see_other(f"/app/consultations/{consultation_id}#message-{posted.id}")


@router.post("/consultations/{consultation_id}/close")
async def close_consultation(
    consultation_id: UUID,
    user: FormUser,
    uow: WebUoW,
    outcome: Annotated[str, Form()] = "",
) -> Response:
    data = validated(ConsultationClose, outcome=outcome)
    await consultation_service.close(
        uow, user.principal, consultation_id=consultation_id, data=data
    )
    return see_other(f"/app/consultations/{consultation_id}")
