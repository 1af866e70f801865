"""Concurrent requests for the same name: one wins, the others get a conflict (never a 500)."""

import asyncio
from uuid import uuid4

from sqlalchemy import func, select

from service.auth.principal import Principal
from service.errors import StateConflict
from service.parties import service as party_service
from service.parties.models import Organization, User
from service.parties.schemas import OrganizationCreate, UserCreate
from service.uow import UnitOfWork
from tests.factories import PASSWORD

HOST_ADMIN = Principal(
    kind="user",
    id=uuid4(),
    name="gac-admin",
    org_id=uuid4(),
    org_kind="licensing_authority",
    org_is_host=True,
    roles=frozenset({"admin"}),
)


async def outcome(work) -> str:
    try:
        await work
    except StateConflict:
        return "conflict"
    return "created"


async def create_org(database, code: str) -> Organization:
    data = OrganizationCreate(code=code, name="Bundesamt", country="DE", kind="observer")
    return await party_service.create_organization(UnitOfWork(database), HOST_ADMIN, data=data)


async def count(database, model) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_concurrent_duplicate_codes_create_one_organization(committed_database):
    codes = ["DE-BAFA", "de-bafa", "De-Bafa", "DE-BAFA"] * 3
    results = await asyncio.gather(*(outcome(create_org(committed_database, c)) for c in codes))
    assert sorted(results) == ["conflict"] * (len(codes) - 1) + ["created"]
    assert await count(committed_database, Organization) == 1


async def test_concurrent_duplicate_usernames_create_one_user(committed_database):
    org = await create_org(committed_database, "DE-BAFA")

    def create_user(username: str):
        data = UserCreate(
            organization_id=org.id,
            username=username,
            display_name=username,
            password=PASSWORD,
            roles=["officer"],
        )
        return party_service.create_user(UnitOfWork(committed_database), HOST_ADMIN, data=data)

    names = ["clerk", "CLERK", "Clerk", "clerk"] * 2
    results = await asyncio.gather(*(outcome(create_user(name)) for name in names))
    assert sorted(results) == ["conflict"] * (len(names) - 1) + ["created"]
    assert await count(committed_database, User) == 1
