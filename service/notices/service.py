"""Use cases of decision notices: draft, edit, issue (atomic, four-eyes, signed), acknowledge."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.assurances import service as assurance_service
from service.assurances.models import EndUseAssurance
from service.auth.principal import Principal
from service.auth.tokens import TokenService
from service.db import utcnow
from service.dialogue import access
from service.dialogue.access import Action, Side, Standing
from service.errors import InvalidInput, NotAllowed, NotFound, ServiceError, StateConflict
from service.notices import policies, repository, signing
from service.notices.models import DecisionNotice
from service.notices.schemas import (
    NoticeAcknowledged,
    NoticeCreate,
    NoticedPermit,
    NoticeIssued,
    NoticeRead,
    NoticeUpdate,
    SignedNotice,
)
from service.parties.models import Dialogue, Organization
from service.permits.models import Permit
from service.permits.transitions import change_status
from service.uow import Transaction, UnitOfWork

SCALARS = ("kind", "summary", "rationale", "legal_basis", "classification", "supersedes_id")


class NotSigned(ServiceError):
    """A draft has no signed form yet; the caller may know the draft, so this is no denial."""

    status, code, title = 404, "not-signed", "Not signed yet"


async def visible_notice(
    session: AsyncSession,
    caller: Principal,
    notice_id: UUID,
    *,
    for_update: bool = False,
) -> tuple[DecisionNotice, Standing]:
    """The notice, or 404: drafts are the authority's own until issued.

    Visibility is that of reading (observers see issued notices), so an observer who tries to
    acknowledge one is told 403, not that it does not exist.
    """
    notice, standing = await access.load_scoped(
        session, caller, DecisionNotice, notice_id, Action.READ_NOTICES, for_update=for_update
    )
    if notice.status == "draft" and standing.side is not Side.AUTHORITY:
        # Worded as for an id that does not exist, or the wording would betray the draft.
        name = DecisionNotice.__tablename__
        raise NotFound(name, notice_id, label=access.LABELS[name])
    return notice, standing


def read_model(
    dialogue: Dialogue,
    notice: DecisionNotice,
    permits: list[NoticedPermit],
    assurance_ids: list[UUID],
) -> NoticeRead:
    columns = {column.key: getattr(notice, column.key) for column in DecisionNotice.__table__.c}
    return NoticeRead.model_validate(
        columns
        | {
            "authority_id": dialogue.authority_id,
            "counterpart_id": dialogue.counterpart_id,
            "permit_ids": [permit.id for permit in permits],
            "permits": permits,
            "breached_assurance_ids": assurance_ids,
        }
    )


async def views(
    session: AsyncSession, dialogue: Dialogue, notices: Sequence[DecisionNotice]
) -> list[NoticeRead]:
    ids = [notice.id for notice in notices]
    permits = await repository.named_permits(session, ids)
    breached = await repository.breached_assurance_ids(session, ids)
    return [read_model(dialogue, n, permits[n.id], breached[n.id]) for n in notices]


async def check_references(
    session: AsyncSession,
    dialogue_id: UUID,
    *,
    permit_ids: Sequence[UUID] | None,
    assurance_ids: Sequence[UUID] | None,
    supersedes_id: UUID | None,
) -> None:
    """Everything a notice names lives in its dialogue (422 naming what does not)."""
    foreign = await repository.ids_outside(session, Permit, dialogue_id, permit_ids or [])
    if foreign:
        raise InvalidInput(
            "These permits are not in this dialogue.", permit_ids=[str(i) for i in foreign]
        )
    foreign = await repository.ids_outside(
        session, EndUseAssurance, dialogue_id, assurance_ids or []
    )
    if foreign:
        raise InvalidInput(
            "These assurances are not in this dialogue.",
            breached_assurance_ids=[str(i) for i in foreign],
        )
    if supersedes_id and not await repository.published_notice(session, dialogue_id, supersedes_id):
        raise InvalidInput(
            "supersedes_id must name an issued notice of this dialogue.",
            supersedes_id=str(supersedes_id),
        )


async def draft(
    uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID, data: NoticeCreate
) -> NoticeRead:
    async with uow.transaction() as tx:
        standing = await access.standing(tx.session, caller, dialogue_id)
        access.require(caller, standing, Action.DRAFT_NOTICE)
        await check_references(
            tx.session,
            dialogue_id,
            permit_ids=data.permit_ids,
            assurance_ids=data.breached_assurance_ids,
            supersedes_id=data.supersedes_id,
        )
        notice = DecisionNotice(
            dialogue_id=dialogue_id,
            status="draft",
            drafted_by=caller.id,
            author_ids=[str(caller.id)],
            **data.model_dump(include=set(SCALARS)),
        )
        tx.session.add(notice)
        await tx.session.flush()
        await repository.replace_links(
            tx.session,
            notice.id,
            permit_ids=data.permit_ids,
            assurance_ids=data.breached_assurance_ids,
        )
        tx.audit("notice.drafted", notice, details=data.model_dump(mode="json"))
        [view] = await views(tx.session, standing.dialogue, [notice])
    return view


async def edit(
    uow: UnitOfWork, caller: Principal, *, notice_id: UUID, data: NoticeUpdate
) -> NoticeRead:
    async with uow.transaction() as tx:
        notice, standing = await visible_notice(tx.session, caller, notice_id, for_update=True)
        access.require(caller, standing, Action.DRAFT_NOTICE)
        if notice.status != "draft":
            raise StateConflict(f"Notice {notice.reference} is {notice.status}; it never changes.")
        await check_references(
            tx.session,
            notice.dialogue_id,
            permit_ids=data.permit_ids,
            assurance_ids=data.breached_assurance_ids,
            supersedes_id=data.supersedes_id,
        )
        for name, value in data.model_dump(include=set(SCALARS), exclude_unset=True).items():
            setattr(notice, name, value)
        notice.updated_at = utcnow()
        await repository.replace_links(
            tx.session,
            notice.id,
            permit_ids=data.permit_ids,
            assurance_ids=data.breached_assurance_ids,
        )
        [view] = await views(tx.session, standing.dialogue, [notice])
        if view.kind != "general" and not view.permit_ids:
            raise InvalidInput(f"A {view.kind} notice names at least one permit.")
        if str(caller.id) not in notice.author_ids:
            notice.author_ids = [*notice.author_ids, str(caller.id)]
        tx.audit("notice.edited", notice, details=data.model_dump(mode="json", exclude_unset=True))
    return view


async def issue(
    uow: UnitOfWork, caller: Principal, *, notice_id: UUID, tokens: TokenService
) -> NoticeRead:
    """Issue a draft: in one transaction the notice, its permits and assurances all change."""
    async with uow.transaction() as tx:
        notice, standing = await visible_notice(tx.session, caller, notice_id, for_update=True)
        access.require(caller, standing, Action.ISSUE_NOTICE)
        if policies.is_own_draft(caller, notice.author_ids):
            raise NotAllowed("Four-eyes: a notice is issued by someone who did not draft it.")
        if notice.status != "draft":
            raise StateConflict(f"Notice {notice.reference} is already {notice.status}.")
        permits = await repository.lock_permits(tx.session, notice.id)
        plan = movable(notice.kind, permits)
        assurances = await locked_accepted_assurances(tx.session, notice.id)
        await mark_issued(tx.session, standing.dialogue, notice, caller)
        view = issued_view(standing.dialogue, notice, permits, plan, assurances)
        notice.signed_jws = signing.sign(tokens, SignedNotice.model_validate(view.model_dump()))
        tx.emit(
            "notice.issued",
            NoticeIssued(notice=view, jws=notice.signed_jws),
            dialogue_id=notice.dialogue_id,
        )
        for permit, to_status in plan.moves:
            change_status(tx, permit, to_status, notice=notice)
        await breach(tx, assurances, notice)
        tx.audit(
            "notice.issued",
            notice,
            details={"reference": notice.reference, "kind": notice.kind, "moved": len(plan.moves)},
        )
    return view


def movable(kind: str, permits: list[Permit]) -> policies.Plan:
    """How the permits move, or 409 naming every permit that cannot (then nothing changes)."""
    plan = policies.plan(kind, permits)
    if plan.blocked:
        raise StateConflict(
            policies.describe_blocked(kind, plan.blocked),
            permits=[
                {"id": str(p.id), "number": p.number, "status": p.status} for p in plan.blocked
            ],
        )
    return plan


async def locked_accepted_assurances(
    session: AsyncSession, notice_id: UUID
) -> list[EndUseAssurance]:
    assurances = await repository.lock_assurances(session, notice_id)
    unfit = [a for a in assurances if a.status != "accepted"]
    if unfit:
        raise StateConflict(
            "Only accepted assurances can be found breached.",
            assurances=[{"id": str(a.id), "status": a.status} for a in unfit],
        )
    return assurances


async def mark_issued(
    session: AsyncSession, dialogue: Dialogue, notice: DecisionNotice, caller: Principal
) -> None:
    now = utcnow()
    authority = await session.get(Organization, dialogue.authority_id)
    assert authority is not None  # a dialogue's authority is never deleted
    number = await repository.next_number(session, authority.id, now.year)
    notice.reference = f"{authority.code}-{now.year:04d}-{number:04d}"
    notice.status, notice.issued_by = "issued", caller.id
    notice.issued_at = notice.updated_at = now


def issued_view(
    dialogue: Dialogue,
    notice: DecisionNotice,
    permits: list[Permit],
    plan: policies.Plan,
    assurances: list[EndUseAssurance],
) -> NoticeRead:
    """The notice as issued, with each permit's transition, before the permits move."""
    targets = {permit.id: to_status for permit, to_status in plan.moves}
    named = [
        NoticedPermit(
            id=p.id,
            number=p.number,
            from_status=p.status if p.id in targets else None,
            to_status=targets.get(p.id),
        )
        for p in permits
    ]
    return read_model(dialogue, notice, named, sorted(a.id for a in assurances))


async def breach(
    tx: Transaction, assurances: list[EndUseAssurance], notice: DecisionNotice
) -> None:
    permit_ids = await repository.assurance_permit_ids(tx.session, [a.id for a in assurances])
    now = utcnow()
    for assurance in assurances:
        assurance.status, assurance.breached_by_notice_id = "breached", notice.id
        assurance.updated_at = now
        tx.emit(
            "assurance.breached",
            assurance_service.view(assurance, permit_ids[assurance.id]),
            dialogue_id=assurance.dialogue_id,
        )
        tx.audit(
            "assurance.breached",
            assurance,
            details={"notice_id": str(notice.id), "reference": notice.reference},
        )


async def acknowledge(uow: UnitOfWork, caller: Principal, *, notice_id: UUID) -> NoticeRead:
    async with uow.transaction() as tx:
        notice, standing = await visible_notice(tx.session, caller, notice_id, for_update=True)
        access.require(caller, standing, Action.ACKNOWLEDGE_NOTICE)
        if notice.status != "issued":
            raise StateConflict(f"Notice {notice.reference} is {notice.status}, not issued.")
        now = utcnow()
        notice.status, notice.acknowledged_by, notice.acknowledged_at = (
            "acknowledged",
            caller.id,
            now,
        )
        notice.updated_at = now
        [view] = await views(tx.session, standing.dialogue, [notice])
        tx.emit(
            "notice.acknowledged", NoticeAcknowledged(notice=view), dialogue_id=notice.dialogue_id
        )
        tx.audit("notice.acknowledged", notice, details={"reference": notice.reference})
    return view


async def get(uow: UnitOfWork, caller: Principal, *, notice_id: UUID) -> NoticeRead:
    async with uow.reading() as session:
        notice, standing = await visible_notice(session, caller, notice_id)
        access.require(caller, standing, Action.READ_NOTICES)
        [view] = await views(session, standing.dialogue, [notice])
    return view


async def signed(uow: UnitOfWork, caller: Principal, *, notice_id: UUID) -> str:
    async with uow.reading() as session:
        notice, standing = await visible_notice(session, caller, notice_id)
        access.require(caller, standing, Action.READ_NOTICES)
    if notice.signed_jws is None:
        raise NotSigned("A draft is signed when it is issued.")
    return notice.signed_jws


async def list_notices(
    uow: UnitOfWork,
    caller: Principal,
    *,
    dialogue_id: UUID,
    status: str | None,
    kind: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[NoticeRead], str | None]:
    async with uow.reading() as session:
        standing = await access.permitted(session, caller, dialogue_id, Action.READ_NOTICES)
        query = repository.dialogue_notices(dialogue_id, standing.side, status=status, kind=kind)
        rows, next_cursor = await paginate(
            session, query, DecisionNotice, limit=limit, cursor=cursor
        )
        return await views(session, standing.dialogue, rows), next_cursor
