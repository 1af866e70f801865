"""Queries over decision notices and the rows they name.

Visibility of the notice itself goes through ``access.load_scoped`` (dialogue membership and
side); what is here either starts from a notice already found visible or from its dialogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Select, and_, delete, false, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.assurances.models import AssurancePermit, EndUseAssurance
from service.dialogue.access import Side
from service.notices.models import (
    DecisionNotice,
    NoticeBreachedAssurance,
    NoticeCounter,
    NoticePermit,
)
from service.notices.schemas import NoticedPermit
from service.permits.models import Permit, PermitStatusChange

PUBLISHED = ("issued", "acknowledged")


def dialogue_notices(
    dialogue_id: UUID, side: Side, *, status: str | None, kind: str | None
) -> Select[tuple[DecisionNotice]]:
    """A dialogue's notices as ``side`` may see them: drafts are the authority's own."""
    query = select(DecisionNotice).where(DecisionNotice.dialogue_id == dialogue_id)
    hidden = side is not Side.AUTHORITY and status is not None and status not in PUBLISHED
    if status is not None:
        # One equality, not also "IN published": SQLite then uses (dialogue_id, status, ...).
        query = query.where(DecisionNotice.status == status)
        if hidden:  # a draft, asked for by a side that never sees drafts
            query = query.where(false())
    elif side is not Side.AUTHORITY:
        query = query.where(DecisionNotice.status.in_(PUBLISHED))
    if kind is not None:
        query = query.where(DecisionNotice.kind == kind)
    return query


async def named_permits(
    session: AsyncSession, notice_ids: Sequence[UUID]
) -> dict[UUID, list[NoticedPermit]]:
    """Each notice's permits in the order it lists them, with the transition it caused."""
    change = and_(
        PermitStatusChange.permit_id == NoticePermit.permit_id,
        PermitStatusChange.notice_id == NoticePermit.notice_id,
    )
    query = (
        select(NoticePermit.notice_id, Permit.id, Permit.number, PermitStatusChange)
        .join(Permit, Permit.id == NoticePermit.permit_id)
        .outerjoin(PermitStatusChange, change)
        .where(NoticePermit.notice_id.in_(notice_ids))
        .order_by(NoticePermit.notice_id, NoticePermit.position)
    )
    found: dict[UUID, list[NoticedPermit]] = defaultdict(list)
    for notice_id, permit_id, number, step in await session.execute(query):
        found[notice_id].append(
            NoticedPermit(
                id=permit_id,
                number=number,
                from_status=step.from_status if step else None,
                to_status=step.to_status if step else None,
            )
        )
    return found


async def breached_assurance_ids(
    session: AsyncSession, notice_ids: Sequence[UUID]
) -> dict[UUID, list[UUID]]:
    query = (
        select(NoticeBreachedAssurance)
        .where(NoticeBreachedAssurance.notice_id.in_(notice_ids))
        .order_by(NoticeBreachedAssurance.assurance_id)
    )
    found: dict[UUID, list[UUID]] = defaultdict(list)
    for row in await session.scalars(query):
        found[row.notice_id].append(row.assurance_id)
    return found


async def ids_outside(
    session: AsyncSession, model: Any, dialogue_id: UUID, ids: Sequence[UUID]
) -> list[UUID]:
    """Those of ``ids`` that are not rows of ``model`` in this dialogue, in the order given."""
    if not ids:
        return []
    query = select(model.id).where(model.id.in_(ids), model.dialogue_id == dialogue_id)
    inside = set((await session.scalars(query)).all())
    return [row_id for row_id in ids if row_id not in inside]


async def published_notice(
    session: AsyncSession, dialogue_id: UUID, notice_id: UUID
) -> DecisionNotice | None:
    query = select(DecisionNotice).where(
        DecisionNotice.id == notice_id,
        DecisionNotice.dialogue_id == dialogue_id,
        DecisionNotice.status.in_(PUBLISHED),
    )
    return await session.scalar(query)


async def replace_links(
    session: AsyncSession,
    notice_id: UUID,
    *,
    permit_ids: Sequence[UUID] | None,
    assurance_ids: Sequence[UUID] | None,
) -> None:
    if permit_ids is not None:
        await session.execute(delete(NoticePermit).where(NoticePermit.notice_id == notice_id))
        session.add_all(
            NoticePermit(notice_id=notice_id, permit_id=permit_id, position=position)
            for position, permit_id in enumerate(permit_ids)
        )
    if assurance_ids is not None:
        await session.execute(
            delete(NoticeBreachedAssurance).where(NoticeBreachedAssurance.notice_id == notice_id)
        )
        session.add_all(
            NoticeBreachedAssurance(notice_id=notice_id, assurance_id=assurance_id)
            for assurance_id in assurance_ids
        )


async def lock_permits(session: AsyncSession, notice_id: UUID) -> list[Permit]:
    """The notice's permits, locked in id order (one order for every issuer: no deadlock)."""
    query = (
        select(Permit, NoticePermit.position)
        .join(NoticePermit, NoticePermit.permit_id == Permit.id)
        .where(NoticePermit.notice_id == notice_id)
        .order_by(Permit.id)
        .with_for_update(of=Permit)
        .execution_options(populate_existing=True)
    )
    rows = (await session.execute(query)).all()
    return [permit for permit, _position in sorted(rows, key=lambda row: row[1])]


async def lock_assurances(session: AsyncSession, notice_id: UUID) -> list[EndUseAssurance]:
    query = (
        select(EndUseAssurance)
        .join(NoticeBreachedAssurance, NoticeBreachedAssurance.assurance_id == EndUseAssurance.id)
        .where(NoticeBreachedAssurance.notice_id == notice_id)
        .order_by(EndUseAssurance.id)
        .with_for_update(of=EndUseAssurance)
        .execution_options(populate_existing=True)
    )
    return list((await session.scalars(query)).all())


async def assurance_permit_ids(
    session: AsyncSession, assurance_ids: Sequence[UUID]
) -> dict[UUID, list[UUID]]:
    query = select(AssurancePermit).where(AssurancePermit.assurance_id.in_(assurance_ids))
    found: dict[UUID, list[UUID]] = defaultdict(list)
    for row in await session.scalars(query.order_by(AssurancePermit.permit_id)):
        found[row.assurance_id].append(row.permit_id)
    return found


async def next_number(session: AsyncSession, authority_id: UUID, year: int) -> int:
    """Take the authority's next reference number for ``year``.

    One upsert: the row lock it takes is held until COMMIT, so concurrent issuers queue here
    and a rolled-back issue gives its number back (references have no gaps).
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(NoticeCounter)
        .values(authority_id=authority_id, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[NoticeCounter.authority_id, NoticeCounter.year],
            set_={"last_number": NoticeCounter.last_number + 1},
        )
        .returning(NoticeCounter.last_number)
    )
    return (await session.execute(statement)).scalar_one()
