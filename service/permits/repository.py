"""Queries over permits. Reads start from the caller's standing in the permit's dialogue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.parties.repository import normalize
from service.permits.models import Permit, PermitStatusChange
from service.permits.schemas import PermitFilters
from service.permits.transitions import EXPIRABLE


def number_key(number: str) -> str:
    """The form in which permit numbers are compared: ``exp-1`` and ``EXP-1`` are one permit."""
    return normalize(number)


async def taken_keys(session: AsyncSession, authority_id: UUID, keys: Iterable[str]) -> set[str]:
    query = select(Permit.number_key).where(
        Permit.authority_id == authority_id, Permit.number_key.in_(set(keys))
    )
    return set((await session.scalars(query)).all())


def in_dialogue(dialogue_id: UUID, filters: PermitFilters) -> Select[tuple[Permit]]:
    query = select(Permit).where(Permit.dialogue_id == dialogue_id)
    if filters.status is not None:
        query = query.where(Permit.status == filters.status)
    if filters.number is not None:
        query = query.where(Permit.number_key == number_key(filters.number))
    if filters.exporter is not None:
        query = query.where(Permit.exporter.icontains(filters.exporter, autoescape=True))
    return query


async def history(session: AsyncSession, permit_id: UUID) -> Sequence[PermitStatusChange]:
    query = (
        select(PermitStatusChange)
        .where(PermitStatusChange.permit_id == permit_id)
        .order_by(PermitStatusChange.at, PermitStatusChange.id)
    )
    return (await session.scalars(query)).all()


async def lock_expired(session: AsyncSession, today: date, limit: int) -> Sequence[Permit]:
    """Up to ``limit`` permits past validity that may still expire, locked for this transaction.

    SKIP LOCKED (PostgreSQL; SQLite serializes writers anyway) lets two expiry runs share the
    work instead of one waiting for the other's batch.
    """
    query = (
        select(Permit)
        .where(Permit.status.in_(EXPIRABLE), Permit.valid_until < today)
        .order_by(Permit.valid_until, Permit.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(query)).all()
