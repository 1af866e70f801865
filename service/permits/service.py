"""Use cases for permits: register (one or many), read, list, history, expiry.

No use case here changes a permit's status directly: that happens only in
``transitions.change_status``, driven by an issued notice or by ``expire_permits``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.audit.service import SYSTEM
from service.auth.principal import Principal
from service.db import utcnow
from service.dialogue import access
from service.dialogue.access import Action
from service.errors import StateConflict
from service.permits import repository, transitions
from service.permits.models import Permit
from service.permits.schemas import (
    PermitBulkCreate,
    PermitBulkRead,
    PermitCreate,
    PermitFilters,
    PermitHistory,
    PermitRead,
    PermitStatusChangeRead,
)
from service.uow import Transaction, UnitOfWork

EXPIRY_BATCH = 200


async def register(
    uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID, data: PermitCreate
) -> PermitRead:
    (registered,) = await register_all(uow, caller, dialogue_id=dialogue_id, permits=[data])
    return registered


async def register_many(
    uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID, data: PermitBulkCreate
) -> PermitBulkRead:
    """All or nothing: one duplicate number and not a single permit of the batch is stored."""
    items = await register_all(uow, caller, dialogue_id=dialogue_id, permits=data.permits)
    return PermitBulkRead(items=items)


async def register_all(
    uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID, permits: Sequence[PermitCreate]
) -> list[PermitRead]:
    async with uow.transaction() as tx:
        standing = await access.standing(tx.session, caller, dialogue_id)
        access.require(caller, standing, Action.REGISTER_PERMITS)
        authority_id = standing.dialogue.authority_id
        await refuse_duplicates(tx.session, authority_id, [p.number for p in permits])
        rows = [new_permit(caller, dialogue_id, authority_id, data) for data in permits]
        tx.session.add_all(rows)
        await tx.session.flush()
        views = [announce(tx, row) for row in rows]
    return views


async def refuse_duplicates(session: AsyncSession, authority_id: UUID, numbers: list[str]) -> None:
    """409 naming every number already registered by the authority or given twice here."""
    keys = [repository.number_key(number) for number in numbers]
    repeated = {key for key, count in Counter(keys).items() if count > 1}
    clashing = repeated | await repository.taken_keys(session, authority_id, keys)
    if not clashing:
        return
    named = list(dict.fromkeys(n for n, key in zip(numbers, keys, strict=True) if key in clashing))
    raise StateConflict(
        f"Permit numbers already registered or repeated: {', '.join(named)}.", numbers=named
    )


def new_permit(
    caller: Principal, dialogue_id: UUID, authority_id: UUID, data: PermitCreate
) -> Permit:
    now = utcnow()
    return Permit(
        dialogue_id=dialogue_id,
        authority_id=authority_id,
        number=data.number,
        number_key=repository.number_key(data.number),
        exporter=data.exporter,
        consignee=data.consignee,
        end_user=data.end_user,
        destination_country=data.destination_country,
        items=[item.model_dump(mode="json") for item in data.items],
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        status="active",
        registered_by=caller.id,
        created_at=now,
        updated_at=now,
    )


def announce(tx: Transaction, permit: Permit) -> PermitRead:
    view = PermitRead.model_validate(permit)
    tx.emit("permit.registered", view, dialogue_id=permit.dialogue_id)
    tx.audit("permit.registered", permit, details={"number": permit.number})
    return view


async def list_permits(
    uow: UnitOfWork,
    caller: Principal,
    *,
    dialogue_id: UUID,
    filters: PermitFilters,
    limit: int,
    cursor: str | None,
) -> tuple[list[PermitRead], str | None]:
    async with uow.reading() as session:
        await access.permitted(session, caller, dialogue_id, Action.READ_PERMITS)
        query = repository.in_dialogue(dialogue_id, filters)
        rows, next_cursor = await paginate(session, query, Permit, limit=limit, cursor=cursor)
    return [PermitRead.model_validate(row) for row in rows], next_cursor


async def readable(session: AsyncSession, caller: Principal, permit_id: UUID) -> Permit:
    permit, standing = await access.load_scoped(
        session, caller, Permit, permit_id, Action.READ_PERMITS
    )
    access.require(caller, standing, Action.READ_PERMITS)
    return permit


async def get_permit(uow: UnitOfWork, caller: Principal, *, permit_id: UUID) -> PermitRead:
    async with uow.reading() as session:
        return PermitRead.model_validate(await readable(session, caller, permit_id))


async def history(uow: UnitOfWork, caller: Principal, *, permit_id: UUID) -> PermitHistory:
    async with uow.reading() as session:
        permit = await readable(session, caller, permit_id)
        changes = await repository.history(session, permit.id)
    return PermitHistory(items=[PermitStatusChangeRead.model_validate(c) for c in changes])


async def expire_permits(
    uow: UnitOfWork, *, today: date | None = None, batch_size: int = EXPIRY_BATCH
) -> int:
    """Expire every active or suspended permit whose ``valid_until`` is before ``today``.

    Each batch commits on its own, so a long backlog neither holds locks for long nor is lost
    to one failure; a rerun picks up where the last one stopped and changes nothing when done.
    """
    today = today or utcnow().date()
    system = uow.as_actor(SYSTEM)
    expired = 0
    while True:
        async with system.transaction() as tx:
            batch = await repository.lock_expired(tx.session, today, batch_size)
            for permit in batch:
                transitions.change_status(tx, permit, "expired")
        expired += len(batch)
        if len(batch) < batch_size:
            return expired
