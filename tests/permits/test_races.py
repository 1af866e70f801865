"""Concurrent registrations of one number: one permit, the rest conflicts (never a 500)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from sqlalchemy import func, select

from service.auth.principal import Principal
from service.errors import StateConflict
from service.events.models import OutboxEvent
from service.parties import dialogues
from service.parties import service as party_service
from service.parties.schemas import DialogueCreate, OrganizationCreate
from service.permits import service as permit_service
from service.permits.models import Permit
from service.permits.schemas import PermitBulkCreate, PermitCreate
from service.uow import UnitOfWork
from tests.domain import permit_body


def principal(org_id, roles, *, host=False) -> Principal:
    return Principal(
        kind="user",
        id=uuid4(),
        name="someone",
        org_id=org_id,
        org_kind="licensing_authority",
        org_is_host=host,
        roles=frozenset(roles),
    )


async def dialogue_with_officer(database) -> tuple:
    host = principal(uuid4(), ["admin"], host=True)
    uow = UnitOfWork(database)
    orgs = []
    for code, kind in [("CA-GAC", "licensing_authority"), ("TR-MFA", "counterpart_ministry")]:
        data = OrganizationCreate(code=code, name=code, country=code[:2], kind=kind)
        orgs.append(await party_service.create_organization(uow, host, data=data))
    authority, counterpart = orgs
    data = DialogueCreate(
        title="t", authority_id=authority.id, counterpart_id=counterpart.id, observer_ids=[]
    )
    dialogue = await dialogues.open_dialogue(uow, principal(authority.id, ["admin"]), data=data)
    return dialogue.id, principal(authority.id, ["officer"])


async def outcome(work) -> str:
    try:
        await work
    except StateConflict:
        return "conflict"
    return "created"


async def test_concurrent_registrations_of_one_number_store_one_permit(committed_database):
    dialogue_id, officer = await dialogue_with_officer(committed_database)

    def register(number: str):
        data = PermitCreate.model_validate(permit_body(number))
        uow = UnitOfWork(committed_database)
        return permit_service.register(uow, officer, dialogue_id=dialogue_id, data=data)

    def register_batch(numbers: list[str]):
        data = PermitBulkCreate.model_validate({"permits": [permit_body(n) for n in numbers]})
        uow = UnitOfWork(committed_database)
        return permit_service.register_many(uow, officer, dialogue_id=dialogue_id, data=data)

    work = [register(n) for n in ["EXP-1", "exp-1", "Exp-1", "EXP-1"]]
    work += [register_batch(["EXP-2", "EXP-1"]), register_batch(["EXP-3", "exp-1"])]
    results = await asyncio.gather(*(outcome(w) for w in work))
    assert sorted(results) == ["conflict"] * 5 + ["created"]
    async with committed_database.sessions() as session:
        keys = list((await session.scalars(select(Permit.number_key))).all())
        registered = await session.scalar(
            select(func.count()).where(OutboxEvent.type == "permit.registered")
        )
    assert keys.count("exp-1") == 1
    assert registered == len(keys)
