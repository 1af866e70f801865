"""Pages: end-use assurances, and the steps each side takes on them (SPEC section 3).

The counterpart (officer, diplomat) submits a requested assurance or withdraws a submitted one;
the authority's officer accepts or rejects a submitted one. The forms shown follow the access
table; the service checks it again on every POST.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from service.assurances import service as assurance_service
from service.assurances.schemas import AssuranceDecision, AssuranceFields
from service.dialogue.access import Action, Side, allows
from service.errors import InvalidInput
from service.parties import dialogues as dialogue_service
from service.parties.schemas import DialogueRead
from service.permits import service as permit_service
from service.web.dependencies import FormUser, WebUoW, WebUser
from service.web.forms import QueryText, invalid, optional_id
from service.web.pages.permits import PAGE, grouped
from service.web.templating import gettext_for, render

router = APIRouter()
STATUSES = ("requested", "submitted", "accepted", "rejected", "withdrawn", "breached")
PARTIES = ("authority", "counterpart")  # observers never see assurances
TEXT_FIELDS = ("end_user", "end_use", "destination_country", "valid_until", "register_number")
YES_NO = {"yes": True, "no": False}


@router.get("/assurances")
async def assurances(
    request: Request,
    user: WebUser,
    uow: WebUoW,
    dialogue: QueryText = None,
    status: QueryText = None,
    cursor: QueryText = None,
) -> Response:
    dialogue_id = optional_id(request, dialogue, "dialogue")
    chosen_status = status or None
    if chosen_status not in (None, *STATUSES):
        raise InvalidInput(gettext_for(request)("There is no such assurance status."))

    async def listing(d: DialogueRead, after: str | None) -> tuple[list[Any], str | None]:
        return await assurance_service.list_assurances(
            uow, user.principal, dialogue_id=d.id, status=chosen_status, limit=PAGE, cursor=after
        )

    dialogues, groups = await grouped(
        uow, user.principal, dialogue_id, cursor, listing, sides=PARTIES
    )
    context = {
        "dialogues": dialogues,
        "groups": groups,
        "chosen": dialogue_id,
        "status": chosen_status or "",
        "statuses": STATUSES,
    }
    return render(request, "assurances.html", context)


@router.get("/assurances/{assurance_id}")
async def assurance(request: Request, assurance_id: UUID, user: WebUser, uow: WebUoW) -> Response:
    caller = user.principal
    found = await assurance_service.get(uow, caller, assurance_id=assurance_id)
    dialogue = await dialogue_service.get_dialogue(uow, caller, dialogue_id=found.dialogue_id)
    permits = [
        await permit_service.get_permit(uow, caller, permit_id=permit_id)
        for permit_id in found.permit_ids
    ]
    side = Side(dialogue.my_side)
    may_submit = allows(caller, side, Action.SUBMIT_ASSURANCE)
    may_decide = allows(caller, side, Action.DECIDE_ASSURANCE)
    context = {
        "assurance": found,
        "dialogue": dialogue,
        "permits": permits,
        "can_submit": may_submit and found.status == "requested",
        "can_withdraw": may_submit and found.status == "submitted",
        "can_decide": may_decide and found.status == "submitted",
    }
    return render(request, "assurance.html", context)


def back_to(assurance_id: UUID) -> RedirectResponse:
    return RedirectResponse(f"/app/assurances/{assurance_id}", status_code=303)


def certificate(form: Any) -> dict[str, Any]:
    """The assurance fields as the API takes them, from the submit form's fields."""
    fields: dict[str, Any] = {name: form.get(name, "") for name in TEXT_FIELDS}
    fields |= {
        "issue_date": form.get("issue_date", ""),
        "document_sha256": (form.get("document_sha256") or "").strip().lower() or None,
        "signatory": {
            "name": form.get("signatory_name", ""),
            "title": form.get("signatory_title", ""),
        },
        "retransfer_clause": YES_NO.get(form.get("retransfer_clause", "")),
        "consent_to_verification": YES_NO.get(form.get("consent_to_verification", "")),
    }
    return fields


@router.post("/assurances/{assurance_id}/submit")
async def submit(request: Request, assurance_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    try:
        data = AssuranceFields.model_validate(certificate(await request.form()))
    except ValidationError as exc:
        raise invalid(request, exc) from None
    await assurance_service.submit(uow, user.principal, assurance_id=assurance_id, data=data)
    return back_to(assurance_id)


@router.post("/assurances/{assurance_id}/withdraw")
async def withdraw(request: Request, assurance_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    await assurance_service.withdraw(uow, user.principal, assurance_id=assurance_id)
    return back_to(assurance_id)


@router.post("/assurances/{assurance_id}/accept")
async def accept(request: Request, assurance_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    await assurance_service.accept(uow, user.principal, assurance_id=assurance_id)
    return back_to(assurance_id)


@router.post("/assurances/{assurance_id}/reject")
async def reject(
    request: Request,
    assurance_id: UUID,
    user: FormUser,
    uow: WebUoW,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        decision = AssuranceDecision(reason=reason)
    except ValidationError as exc:
        raise invalid(request, exc) from None
    await assurance_service.reject(
        uow, user.principal, assurance_id=assurance_id, reason=decision.reason
    )
    return back_to(assurance_id)
