"""Queries over consultations. Visibility is checked by ``dialogue.access`` before these run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, func, literal, null, select, type_coerce, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from service.assurances.models import EndUseAssurance
from service.consultations.models import (
    Consultation,
    ConsultationAssurance,
    ConsultationPermit,
    Message,
    ReadReceipt,
)
from service.permits.models import Permit


async def missing_ids(
    session: AsyncSession, model: type[Permit | EndUseAssurance], dialogue_id: UUID, ids: list[UUID]
) -> list[UUID]:
    """Those of ``ids`` that name no row of ``model`` in this dialogue."""
    if not ids:
        return []
    query = select(model.id).where(model.dialogue_id == dialogue_id, model.id.in_(ids))
    found = set((await session.scalars(query)).all())
    return [each for each in ids if each not in found]


def details_query() -> Select[Any]:
    """A consultation's links of both kinds and its read receipts in one query, built once:
    posting a message reads them every time. ``kind`` tells a row's sort; the columns that
    sort does not fill are NULL."""
    ids = bindparam("ids", expanding=True)
    no_id = type_coerce(null(), ConsultationPermit.permit_id.type)
    no_time = type_coerce(null(), ReadReceipt.read_at.type)
    receipts = select(
        literal("receipt").label("kind"),
        ReadReceipt.consultation_id,
        no_id.label("linked_id"),
        ReadReceipt.side,
        ReadReceipt.read_up_to,
        ReadReceipt.read_by,
        ReadReceipt.read_at,
    ).where(ReadReceipt.consultation_id.in_(ids))
    nothing_read = (null().label("side"), no_time, no_id, no_time)
    permits = select(
        literal("permit"),
        ConsultationPermit.consultation_id,
        ConsultationPermit.permit_id,
        *nothing_read,
    ).where(ConsultationPermit.consultation_id.in_(ids))
    assurances = select(
        literal("assurance"),
        ConsultationAssurance.consultation_id,
        ConsultationAssurance.assurance_id,
        *nothing_read,
    ).where(ConsultationAssurance.consultation_id.in_(ids))
    every = union_all(receipts, permits, assurances).subquery()
    return select(every).order_by(every.c.linked_id, every.c.side)


DETAILS = details_query()


@dataclass
class Details:
    """Per consultation: linked permit ids and assurance ids, and the sides' read receipts
    (rows with ``side``, ``read_up_to``, ``read_by`` and ``read_at``)."""

    permits: dict[UUID, list[UUID]] = field(default_factory=lambda: defaultdict(list))
    assurances: dict[UUID, list[UUID]] = field(default_factory=lambda: defaultdict(list))
    receipts: dict[UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))


async def details(session: AsyncSession, consultation_ids: Sequence[UUID]) -> Details:
    found = Details()
    if not consultation_ids:
        return found
    for row in await session.execute(DETAILS, {"ids": list(consultation_ids)}):
        if row.kind == "receipt":
            found.receipts[row.consultation_id].append(row)
        else:
            kind = found.permits if row.kind == "permit" else found.assurances
            kind[row.consultation_id].append(row.linked_id)
    return found


async def receipts(
    session: AsyncSession, consultation_ids: Sequence[UUID]
) -> dict[UUID, list[ReadReceipt]]:
    found: dict[UUID, list[ReadReceipt]] = defaultdict(list)
    if not consultation_ids:
        return found
    query = (
        select(ReadReceipt)
        .where(ReadReceipt.consultation_id.in_(consultation_ids))
        .order_by(ReadReceipt.side)
    )
    for receipt in (await session.scalars(query)).all():
        found[receipt.consultation_id].append(receipt)
    return found


async def receipts_by_side(session: AsyncSession, consultation_id: UUID) -> dict[str, ReadReceipt]:
    found = await receipts(session, [consultation_id])
    return {each.side: each for each in found[consultation_id]}


async def receipt(session: AsyncSession, consultation_id: UUID, side: str) -> ReadReceipt | None:
    return await session.get(ReadReceipt, (consultation_id, side))


async def last_message_at(session: AsyncSession, consultation_id: UUID) -> datetime | None:
    query = select(func.max(Message.created_at)).where(Message.consultation_id == consultation_id)
    return await session.scalar(query)


def in_dialogue(
    dialogue_id: UUID, status: str | None, awaiting_side: str | None = None
) -> Select[tuple[Consultation]]:
    query = select(Consultation).where(Consultation.dialogue_id == dialogue_id)
    if awaiting_side:
        query = query.where(Consultation.awaiting_side == awaiting_side)
    return query.where(Consultation.status == status) if status else query


def messages_of(consultation_id: UUID) -> Select[tuple[Message]]:
    return select(Message).where(Message.consultation_id == consultation_id)


async def classifications(session: AsyncSession, consultation_id: UUID) -> list[str]:
    """Each marking carried by at least one of the consultation's messages."""
    query = (
        select(Message.classification).where(Message.consultation_id == consultation_id).distinct()
    )
    return list((await session.scalars(query)).all())


async def due_for_overdue_notice(session: AsyncSession, now: datetime) -> list[Consultation]:
    """Awaiting an answer past the deadline and not yet reported; locked for this run.

    Rows another worker holds are skipped (PostgreSQL), and once it commits they no longer match
    ``overdue_notified_at IS NULL``, so each deadline is reported once.
    """
    query = (
        select(Consultation)
        .where(
            Consultation.status == "awaiting_response",
            Consultation.response_due_at < now,
            Consultation.overdue_notified_at.is_(None),
        )
        .order_by(Consultation.response_due_at, Consultation.id)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(query)).all())
