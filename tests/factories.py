"""Small builders: parties of the seed case, an unrelated dialogue, and tokens for each persona."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx

from service.auth import signin
from service.auth.identity import client_principal, user_principal
from service.auth.principal import Principal
from service.parties import bootstrap, dialogues
from service.parties import service as party_service
from service.parties.models import Organization
from service.parties.schemas import ClientCreate, DialogueCreate, OrganizationCreate, UserCreate
from service.uow import UnitOfWork

PASSWORD = "correct horse battery staple"


@asynccontextmanager
async def running(application: Any) -> AsyncIterator[Any]:
    """The app with its lifespan run (httpx's ASGI transport does not run it)."""
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def http_client(application: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://entente.test") as client:
        yield client


@asynccontextmanager
async def serving(application: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with running(application), http_client(application) as client:
        yield client


@dataclass
class Persona:
    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def id(self) -> UUID:
        return self.principal.id


@dataclass
class World:
    orgs: dict[str, Organization] = field(default_factory=dict)
    people: dict[str, Persona] = field(default_factory=dict)
    dialogue_id: UUID | None = None  # CA-GAC ↔ TR-MFA, CA-CBSA observing
    other_dialogue_id: UUID | None = None  # GB-ECJU ↔ FR-MEAE
    client_secret: str | None = None
    client_id: str | None = None

    def __getattr__(self, name: str) -> Any:
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        raise AttributeError(name)


ORGS = [
    ("TR-MFA", "Türkiye MFA", "TR", "counterpart_ministry"),
    ("CA-CBSA", "Canada Border Services Agency", "CA", "observer"),
    ("GB-ECJU", "UK Export Control Joint Unit", "GB", "licensing_authority"),
    ("FR-MEAE", "France MEAE", "FR", "counterpart_ministry"),
]
PEOPLE = [
    ("officer", "CA-GAC", ["officer"]),
    ("approver", "CA-GAC", ["approver"]),
    ("auditor", "CA-GAC", ["auditor"]),
    ("tr_admin", "TR-MFA", ["admin"]),
    ("diplomat", "TR-MFA", ["diplomat"]),
    ("tr_auditor", "TR-MFA", ["auditor"]),
    ("cbsa_officer", "CA-CBSA", ["officer"]),
    ("other_admin", "GB-ECJU", ["admin"]),
    ("other_auditor", "GB-ECJU", ["auditor"]),
]


def token_for(app: Any, principal: Principal) -> str:
    settings = app.state.settings
    return signin.issue_for(app.state.tokens, principal, settings.user_token_ttl_seconds)


async def build_world(app: Any, client: httpx.AsyncClient) -> World:
    uow = UnitOfWork(app.state.database)
    host, _ = await bootstrap.initialize(
        uow,
        code="CA-GAC",
        name="Global Affairs Canada",
        country="CA",
        admin_username="gac-admin",
        admin_password=PASSWORD,
    )
    world = World(orgs={"CA-GAC": host})
    admin = await user_persona(app, uow, "gac-admin")
    world.people["host_admin"] = admin
    uow = uow.as_actor(admin.principal.as_actor())  # entries name who made the world
    for code, name, country, kind in ORGS:
        data = OrganizationCreate(code=code, name=name, country=country, kind=kind)
        world.orgs[code] = await party_service.create_organization(uow, admin.principal, data=data)
    for persona, code, roles in PEOPLE:
        username = persona.replace("_", "-")
        data = UserCreate(
            organization_id=world.orgs[code].id,
            username=username,
            display_name=persona,
            password=PASSWORD,
            roles=roles,
        )
        await party_service.create_user(uow, admin.principal, data=data)
        world.people[persona] = await user_persona(app, uow, username)
    world.dialogue_id = await open_dialogue(
        uow, admin.principal, world, "CA-GAC", "TR-MFA", ["CA-CBSA"]
    )
    other = world.other_admin.principal
    world.other_dialogue_id = await open_dialogue(
        uow.as_actor(other.as_actor()), other, world, "GB-ECJU", "FR-MEAE", []
    )
    await add_client(app, uow, world)
    return world


async def user_persona(app: Any, uow: UnitOfWork, username: str) -> Persona:
    from service.parties import repository

    async with uow.reading() as session:
        user, org = await repository.user_by_username(session, username)
    principal = user_principal(user, org)
    return Persona(principal, token_for(app, principal))


async def open_dialogue(
    uow: UnitOfWork,
    admin: Principal,
    world: World,
    authority: str,
    counterpart: str,
    observers: list[str],
) -> UUID:
    data = DialogueCreate(
        title=f"{authority} and {counterpart}",
        authority_id=world.orgs[authority].id,
        counterpart_id=world.orgs[counterpart].id,
        observer_ids=[world.orgs[code].id for code in observers],
    )
    return (await dialogues.open_dialogue(uow, admin, data=data)).id


async def add_client(app: Any, uow: UnitOfWork, world: World) -> None:
    from service.parties import repository

    data = ClientCreate(
        organization_id=world.orgs["CA-GAC"].id,
        name="permit system",
        scopes=["permits:read", "permits:write", "audit:read"],
    )
    created, secret = await party_service.create_client(uow, world.host_admin.principal, data=data)
    world.client_id, world.client_secret = created.client_id, secret
    async with uow.reading() as session:
        api_client, org = await repository.client_with_org(session, id=created.id)
    principal = client_principal(api_client, org)
    world.people["permit_system"] = Persona(principal, token_for(app, principal))


async def audit_actions(app: Any, **filters: Any) -> list[str]:
    """Actions of the audit entries matching ``filters`` (column=value), in chain order."""
    from sqlalchemy import select

    from service.audit.models import AuditEntry

    query = select(AuditEntry.action).order_by(AuditEntry.seq)
    for name, value in filters.items():
        query = query.where(getattr(AuditEntry, name) == value)
    async with app.state.database.sessions() as session:
        return list((await session.scalars(query)).all())


async def client_persona(app: Any, world: World, org_code: str, scopes: list[str]) -> Persona:
    """An API client of ``org_code`` holding exactly ``scopes``, with a token."""
    from service.parties import repository

    uow = UnitOfWork(app.state.database)
    data = ClientCreate(
        organization_id=world.orgs[org_code].id,
        name=f"system with {len(scopes)} scopes",
        scopes=scopes,
    )
    created, _ = await party_service.create_client(uow, world.host_admin.principal, data=data)
    async with uow.reading() as session:
        api_client, org = await repository.client_with_org(session, id=created.id)
    principal = client_principal(api_client, org)
    return Persona(principal, token_for(app, principal))
