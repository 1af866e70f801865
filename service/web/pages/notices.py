"""Pages: decision notices — the list, one notice, its signed form, drafting, editing, issuing
(four-eyes) and acknowledging.

Buttons follow the access table and the four-eyes rule; the service enforces both anyway, so a
forged POST meets the same refusal as the API's.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from service.assurances import service as assurance_service
from service.auth.principal import Principal
from service.dialogue.access import Action
from service.errors import NotAllowed, StateConflict
from service.notices import policies, signing
from service.notices import service as notice_service
from service.notices.models import DecisionNotice
from service.notices.schemas import NoticeCreate, NoticeRead, NoticeUpdate
from service.parties import dialogues as dialogue_service
from service.parties.models import ApiClient, User
from service.parties.schemas import DialogueRead
from service.permits import service as permit_service
from service.permits import transitions
from service.permits.schemas import PermitFilters
from service.uow import UnitOfWork
from service.web.dependencies import FormUser, WebUoW, WebUser
from service.web.forms import see_other, validated
from service.web.pages.dialogues import MARKINGS, every, labels, may, notices_of
from service.web.templating import gettext_for, render

router = APIRouter()
PUBLISHED = ("issued", "acknowledged")


# Reading what the notice page shows.


async def author_ids(uow: UnitOfWork, notice_id: UUID) -> list[UUID]:
    """Who drafted or edited the notice (called once the notice is known to be visible)."""
    async with uow.reading() as session:
        ids = await session.scalar(
            select(DecisionNotice.author_ids).where(DecisionNotice.id == notice_id)
        )
    return [UUID(each) for each in ids or []]


async def people(uow: UnitOfWork, ids: list[UUID | None]) -> dict[UUID, str]:
    """Display names of the users (or API clients) named by a visible notice."""
    wanted = sorted({each for each in ids if each}, key=str)
    async with uow.reading() as session:
        users = await session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
        clients = await session.execute(
            select(ApiClient.id, ApiClient.name).where(ApiClient.id.in_(wanted))
        )
        return {**dict(clients.all()), **dict(users.all())}


async def dialogue_permits(uow: UnitOfWork, caller: Principal, dialogue_id: UUID) -> list:
    fetch = partial(
        permit_service.list_permits, uow, caller, dialogue_id=dialogue_id, filters=PermitFilters()
    )
    return await every(fetch)


async def moves(uow: UnitOfWork, caller: Principal, notice: NoticeRead) -> list[dict[str, Any]]:
    """Each permit with its transition: as made once issued, as it would be while a draft."""
    if notice.status != "draft":
        return [{"permit": p, "from": p.from_status, "to": p.to_status} for p in notice.permits]
    current = {p.id: p.status for p in await dialogue_permits(uow, caller, notice.dialogue_id)}
    return [
        {
            "permit": p,
            "from": current.get(p.id),
            "to": transitions.target_status(notice.kind, current.get(p.id, "")),
        }
        for p in notice.permits
    ]


async def breached(
    uow: UnitOfWork, caller: Principal, notice: NoticeRead, side: str
) -> list[tuple[UUID, Any]]:
    """The assurances found breached, with their details where the side may read them."""
    if not may(caller, side, Action.READ_ASSURANCES):
        return [(each, None) for each in notice.breached_assurance_ids]
    return [
        (each, await assurance_service.get(uow, caller, assurance_id=each))
        for each in notice.breached_assurance_ids
    ]


def actions(caller: Principal, notice: NoticeRead, side: str, authors: list[UUID]) -> dict:
    draft = notice.status == "draft"
    approver = may(caller, side, Action.ISSUE_NOTICE)
    own = policies.is_own_draft(caller, [str(each) for each in authors])
    return {
        "may_edit": draft and may(caller, side, Action.DRAFT_NOTICE),
        "may_issue": draft and approver and not own,
        "issue_refused_as_author": draft and approver and own,
        "may_acknowledge": notice.status == "issued"
        and may(caller, side, Action.ACKNOWLEDGE_NOTICE),
        "signed": notice.status in PUBLISHED,
    }


# The list and one notice.


async def my_dialogues(uow: UnitOfWork, caller: Principal) -> list[DialogueRead]:
    return await every(partial(dialogue_service.list_dialogues, uow, caller))


@router.get("/notices")
async def notices_page(request: Request, user: WebUser, uow: WebUoW) -> Response:
    rows = [
        (dialogue, notice)
        for dialogue in await my_dialogues(uow, user.principal)
        for notice in await notices_of(uow, user.principal, dialogue.id)
    ]
    rows.sort(key=lambda row: row[1].issued_at or row[1].created_at, reverse=True)
    return render(request, "notices.html", {"rows": rows, "labels": labels(request)})


@router.get("/notices/{notice_id}")
async def notice_page(request: Request, notice_id: UUID, user: WebUser, uow: WebUoW) -> Response:
    caller = user.principal
    notice = await notice_service.get(uow, caller, notice_id=notice_id)
    dialogue = await dialogue_service.get_dialogue(uow, caller, dialogue_id=notice.dialogue_id)
    authors = await author_ids(uow, notice.id)
    names = await people(uow, [*authors, notice.issued_by, notice.acknowledged_by])
    unknown = gettext_for(request)("someone unknown")
    context = {
        "notice": notice,
        "dialogue": dialogue,
        "names": defaultdict(lambda: unknown, names),
        "drafter": names.get(notice.drafted_by, unknown),
        "editors": [names.get(each, unknown) for each in authors if each != notice.drafted_by],
        "moves": await moves(uow, caller, notice),
        "breached": await breached(uow, caller, notice, dialogue.my_side),
        "labels": labels(request),
        **actions(caller, notice, dialogue.my_side, authors),
    }
    return render(request, "notice.html", context)


@router.get("/notices/{notice_id}/signed")
async def signed_notice(notice_id: UUID, user: WebUser, uow: WebUoW) -> Response:
    notice = await notice_service.get(uow, user.principal, notice_id=notice_id)
    jws = await notice_service.signed(uow, user.principal, notice_id=notice_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{notice.reference}.jws"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(content=jws, media_type=signing.MEDIA_TYPE, headers=headers)


# Issuing and acknowledging.


@router.post("/notices/{notice_id}/issue")
async def issue_notice(request: Request, notice_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    tokens = request.app.state.tokens
    await notice_service.issue(uow, user.principal, notice_id=notice_id, tokens=tokens)
    return see_other(f"/app/notices/{notice_id}")


@router.post("/notices/{notice_id}/acknowledge")
async def acknowledge_notice(notice_id: UUID, user: FormUser, uow: WebUoW) -> Response:
    await notice_service.acknowledge(uow, user.principal, notice_id=notice_id)
    return see_other(f"/app/notices/{notice_id}")


# Drafting and editing.


def notice_fields(
    kind: Annotated[str, Form()] = "",
    permit_ids: Annotated[list[str] | None, Form()] = None,
    summary: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
    breached_assurance_ids: Annotated[list[str] | None, Form()] = None,
    classification: Annotated[str, Form()] = "UNCLASSIFIED",
) -> dict[str, Any]:
    """The notice form's fields, as the service's schemas take them."""
    return {
        "kind": kind,
        "permit_ids": permit_ids or [],
        "summary": summary,
        "rationale": rationale,
        "legal_basis": legal_basis,
        "breached_assurance_ids": breached_assurance_ids or [],
        "classification": classification,
    }


NoticeFields = Annotated[dict[str, Any], Depends(notice_fields)]


def require_drafter(request: Request, caller: Principal, dialogue: DialogueRead) -> None:
    if not may(caller, dialogue.my_side, Action.DRAFT_NOTICE):
        _ = gettext_for(request)
        raise NotAllowed(_("Only an officer of the licensing authority drafts decision notices."))


def markings_with(current: str | None) -> list[str]:
    """The usual markings, and the draft's own if it is another."""
    return [*MARKINGS, *([current] if current and current not in MARKINGS else [])]


async def form_page(
    request: Request,
    uow: UnitOfWork,
    caller: Principal,
    dialogue: DialogueRead,
    notice: NoticeRead | None,
) -> Response:
    assurances = partial(
        assurance_service.list_assurances, uow, caller, dialogue_id=dialogue.id, status="accepted"
    )
    context = {
        "dialogue": dialogue,
        "notice": notice,
        "permits": await dialogue_permits(uow, caller, dialogue.id),
        "assurances": await every(assurances),
        "markings": markings_with(notice.classification if notice else None),
        "labels": labels(request),
    }
    return render(request, "notice_form.html", context)


@router.get("/dialogues/{dialogue_id}/notices/new")
async def new_notice_form(
    request: Request, dialogue_id: UUID, user: WebUser, uow: WebUoW
) -> Response:
    dialogue = await dialogue_service.get_dialogue(uow, user.principal, dialogue_id=dialogue_id)
    require_drafter(request, user.principal, dialogue)
    return await form_page(request, uow, user.principal, dialogue, None)


@router.post("/dialogues/{dialogue_id}/notices/new")
async def draft_notice(
    dialogue_id: UUID, user: FormUser, uow: WebUoW, fields: NoticeFields
) -> Response:
    data = validated(NoticeCreate, **fields)
    drafted = await notice_service.draft(uow, user.principal, dialogue_id=dialogue_id, data=data)
    return see_other(f"/app/notices/{drafted.id}")


@router.get("/notices/{notice_id}/edit")
async def edit_notice_form(
    request: Request, notice_id: UUID, user: WebUser, uow: WebUoW
) -> Response:
    notice = await notice_service.get(uow, user.principal, notice_id=notice_id)
    dialogue = await dialogue_service.get_dialogue(
        uow, user.principal, dialogue_id=notice.dialogue_id
    )
    require_drafter(request, user.principal, dialogue)
    if notice.status != "draft":
        _ = gettext_for(request)
        raise StateConflict(_("This notice has been issued; an issued notice never changes."))
    return await form_page(request, uow, user.principal, dialogue, notice)


@router.post("/notices/{notice_id}/edit")
async def edit_notice(
    notice_id: UUID, user: FormUser, uow: WebUoW, fields: NoticeFields
) -> Response:
    data = validated(NoticeUpdate, **fields)
    await notice_service.edit(uow, user.principal, notice_id=notice_id, data=data)
    return see_other(f"/app/notices/{notice_id}")
