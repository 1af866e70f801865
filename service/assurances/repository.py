"""Queries over assurances. Visibility comes from ``service.dialogue.access``; these only read."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.assurances.models import AssurancePermit, EndUseAssurance
from service.permits.models import Permit


def in_dialogue(dialogue_id: UUID, status: str | None = None) -> Select[tuple[EndUseAssurance]]:
    query = select(EndUseAssurance).where(EndUseAssurance.dialogue_id == dialogue_id)
    if status is not None:
        query = query.where(EndUseAssurance.status == status)
    return query


async def permits_in_dialogue(
    session: AsyncSession, dialogue_id: UUID, permit_ids: Sequence[UUID]
) -> set[UUID]:
    """Which of ``permit_ids`` are permits of this dialogue."""
    query = select(Permit.id).where(Permit.dialogue_id == dialogue_id, Permit.id.in_(permit_ids))
    return set((await session.scalars(query)).all())


async def permit_ids_of(
    session: AsyncSession, assurance_ids: Sequence[UUID]
) -> dict[UUID, list[UUID]]:
    """The permits each assurance covers, in permit-number order."""
    query = (
        select(AssurancePermit.assurance_id, AssurancePermit.permit_id)
        .join(Permit, Permit.id == AssurancePermit.permit_id)
        .where(AssurancePermit.assurance_id.in_(assurance_ids))
        .order_by(Permit.number, Permit.id)
    )
    found: dict[UUID, list[UUID]] = {assurance_id: [] for assurance_id in assurance_ids}
    for assurance_id, permit_id in await session.execute(query):
        found[assurance_id].append(permit_id)
    return found
