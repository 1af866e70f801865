"""The seed case as demo data: Canada's export controls, Türkiye's ministry, Canadian customs.

In 2020 Canada suspended, and in 2021 cancelled, 29 export permits for drone optics after finding
them used outside the end use Türkiye had assured (``shared/seed``). The demo creates the parties
of that case and their dialogue through the service functions, then ``demo_story`` plays the
case over the REST API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select

from service import demo_story
from service.app import create_app
from service.auth.identity import user_principal
from service.auth.principal import Principal
from service.config import Settings
from service.parties import bootstrap, dialogues, repository
from service.parties import service as party_service
from service.parties.models import Dialogue, Organization, User
from service.parties.schemas import DialogueCreate, OrganizationCreate, UserCreate
from service.permits.models import Permit
from service.uow import UnitOfWork

HOST = {"code": "CA-GAC", "name": "Global Affairs Canada — Export Controls", "country": "CA"}
PARTNERS = [
    ("TR-MFA", "Republic of Türkiye — Ministry of Foreign Affairs", "TR", "counterpart_ministry"),
    ("CA-CBSA", "Canada Border Services Agency", "CA", "observer"),
]
USERS = {
    "CA-GAC": [
        ("gac-officer", "Export Controls Officer", ["officer"]),
        ("gac-approver", "Director, Export Controls", ["approver"]),
        ("gac-auditor", "Internal Audit", ["auditor"]),
    ],
    "TR-MFA": [
        ("tr-admin", "MFA Administrator", ["admin"]),
        ("tr-diplomat", "Embassy Counsellor, Ottawa", ["diplomat"]),
        ("tr-officer", "MFA Export Desk", ["officer"]),
        ("tr-auditor", "MFA Inspectorate", ["auditor"]),
    ],
    "CA-CBSA": [("cbsa-officer", "CBSA Targeting Officer", ["officer"])],
}
DIALOGUE_TITLE = "Canada/Türkiye: military export permits and end-use assurances"


@dataclass
class DemoResult:
    created: bool
    usernames: list[str]
    dialogue_id: UUID | None = None
    story_needed: bool = True


async def load(uow: UnitOfWork, *, password: str) -> DemoResult:
    host, _ = await bootstrap.initialize(
        uow, **HOST, admin_username="gac-admin", admin_password=password
    )
    admin = await host_admin(uow, host)
    usernames = ["gac-admin"] + [name for users in USERS.values() for name, _, _ in users]
    async with uow.reading() as session:
        existing = await session.scalar(select(Dialogue.id).where(Dialogue.title == DIALOGUE_TITLE))
        if existing:
            # A story cut short (the process stopped midway) is played again from the start.
            played = await session.scalar(select(Permit.id).where(Permit.dialogue_id == existing))
            return DemoResult(False, usernames, existing, story_needed=played is None)
    orgs = {host.code: host}
    for code, name, country, kind in PARTNERS:
        orgs[code] = await ensure_org(uow, admin, code, name, country, kind)
    for code, users in USERS.items():
        for username, display_name, roles in users:
            await ensure_user(uow, admin, orgs[code], username, display_name, roles, password)
    data = DialogueCreate(
        title=DIALOGUE_TITLE,
        authority_id=host.id,
        counterpart_id=orgs["TR-MFA"].id,
        observer_ids=[orgs["CA-CBSA"].id],
    )
    opened = await dialogues.open_dialogue(uow.as_actor(admin.as_actor()), admin, data=data)
    return DemoResult(True, usernames, opened.id)


async def host_admin(uow: UnitOfWork, host: Organization) -> Principal:
    async with uow.reading() as session:
        for user, org in (
            await session.execute(
                select(User, Organization).join(Organization).where(Organization.id == host.id)
            )
        ).all():
            if "admin" in user.roles and user.active:
                return user_principal(user, org)
    raise RuntimeError("the host organization has no active admin")


async def ensure_org(
    uow: UnitOfWork, admin: Principal, code: str, name: str, country: str, kind: str
) -> Organization:
    async with uow.reading() as session:
        existing = await repository.org_by_code(session, code)
    if existing:
        return existing
    data = OrganizationCreate(code=code, name=name, country=country, kind=kind)
    return await party_service.create_organization(uow.as_actor(admin.as_actor()), admin, data=data)


async def ensure_user(
    uow: UnitOfWork,
    admin: Principal,
    org: Organization,
    username: str,
    display_name: str,
    roles: list[str],
    password: str,
) -> None:
    async with uow.reading() as session:
        if await repository.user_by_username(session, username):
            return
    data = UserCreate(
        organization_id=org.id,
        username=username,
        display_name=display_name,
        password=password,
        roles=roles,
    )
    await party_service.create_user(uow.as_actor(admin.as_actor()), admin, data=data)


async def play_story(
    uow: UnitOfWork, settings: Settings, dialogue_id: UUID, password: str
) -> dict[str, Any]:
    """Run the app in-process and play the case over its REST API."""
    quiet = settings.model_copy(update={"log_level": "WARNING"})
    application = create_app(quiet, database=uow.database)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://entente.demo") as http:
            return await demo_story.play(http, dialogue_id=str(dialogue_id), password=password)
