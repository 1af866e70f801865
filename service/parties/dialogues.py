"""Use cases for dialogues: the bilateral channel and its observers."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.auth.principal import Principal
from service.db import utcnow
from service.errors import InvalidInput, NotFound, StateConflict
from service.parties import policies, repository
from service.parties.models import Dialogue, DialogueObserver, Organization
from service.parties.schemas import DialogueCreate, DialogueRead
from service.uow import Transaction, UnitOfWork


def view(caller: Principal, dialogue: Dialogue, observer_ids: list[UUID]) -> DialogueRead:
    return DialogueRead(
        id=dialogue.id,
        title=dialogue.title,
        authority_id=dialogue.authority_id,
        counterpart_id=dialogue.counterpart_id,
        observer_ids=observer_ids,
        my_side=policies.side(caller.org_id, dialogue.authority_id, dialogue.counterpart_id),
        created_at=dialogue.created_at,
    )


async def organization_of_kind(session: AsyncSession, org_id: UUID, kind: str) -> Organization:
    org = await session.get(Organization, org_id)
    if org is None or not org.active:
        raise InvalidInput(f"Organization {org_id} does not exist or is inactive.")
    if org.kind != kind:
        raise InvalidInput(f"Organization {org.code} is a {org.kind}, not a {kind}.")
    return org


async def open_dialogue(
    uow: UnitOfWork, caller: Principal, *, data: DialogueCreate
) -> DialogueRead:
    policies.require(
        policies.can_open_dialogue(caller, data.authority_id),
        "Only an admin of the licensing authority opens its dialogues.",
    )
    async with uow.transaction() as tx:
        await organization_of_kind(tx.session, data.authority_id, "licensing_authority")
        await organization_of_kind(tx.session, data.counterpart_id, "counterpart_ministry")
        dialogue = Dialogue(
            title=data.title,
            authority_id=data.authority_id,
            counterpart_id=data.counterpart_id,
            created_by=caller.id,
        )
        tx.session.add(dialogue)
        await tx.session.flush()
        observers = await add_observer_rows(tx, dialogue, data.observer_ids)
        tx.emit("dialogue.opened", view(caller, dialogue, observers), dialogue_id=dialogue.id)
        tx.audit(
            "dialogue.opened",
            dialogue,
            details={
                "title": data.title,
                "counterpart_id": str(data.counterpart_id),
                "observer_ids": [str(o) for o in observers],
            },
        )
    return view(caller, dialogue, observers)


async def add_observer_rows(tx: Transaction, dialogue: Dialogue, org_ids: list[UUID]) -> list[UUID]:
    if len(set(org_ids)) != len(org_ids):
        raise InvalidInput("An observer is listed twice.")
    existing = (await repository.observer_ids(tx.session, [dialogue.id]))[dialogue.id]
    for org_id in org_ids:
        await organization_of_kind(tx.session, org_id, "observer")
        if org_id in existing:
            raise StateConflict(f"Organization {org_id} already observes this dialogue.")
        tx.session.add(
            DialogueObserver(dialogue_id=dialogue.id, organization_id=org_id, added_at=utcnow())
        )
    return existing + list(org_ids)


async def add_observers(
    uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID, org_ids: list[UUID]
) -> DialogueRead:
    async with uow.transaction() as tx:
        dialogue = await visible_dialogue(tx.session, caller, dialogue_id)
        policies.require(
            policies.can_open_dialogue(caller, dialogue.authority_id),
            "Only an admin of the licensing authority adds observers.",
        )
        observers = await add_observer_rows(tx, dialogue, org_ids)
        tx.audit(
            "dialogue.observers_added",
            dialogue,
            details={"observer_ids": [str(o) for o in org_ids]},
        )
    return view(caller, dialogue, observers)


async def visible_dialogue(session: AsyncSession, caller: Principal, dialogue_id: UUID) -> Dialogue:
    dialogue = await repository.get_visible_dialogue(session, caller, dialogue_id)
    if dialogue is None:
        raise NotFound("dialogue", dialogue_id)
    return dialogue


async def get_dialogue(uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID) -> DialogueRead:
    async with uow.reading() as session:
        dialogue = await visible_dialogue(session, caller, dialogue_id)
        policies.require(policies.can_read_dialogues(caller), policies.READ_DIALOGUES_ONLY)
        observers = await repository.observer_ids(session, [dialogue.id])
    return view(caller, dialogue, observers[dialogue.id])


async def list_dialogues(
    uow: UnitOfWork, caller: Principal, *, limit: int, cursor: str | None
) -> tuple[list[DialogueRead], str | None]:
    policies.require(policies.can_read_dialogues(caller), policies.READ_DIALOGUES_ONLY)
    async with uow.reading() as session:
        query = repository.visible_dialogues(caller)
        rows, next_cursor = await paginate(session, query, Dialogue, limit=limit, cursor=cursor)
        observers = await repository.observer_ids(session, [row.id for row in rows])
    return [view(caller, row, observers[row.id]) for row in rows], next_cursor
