from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from service.api.pagination import Cursor, Limit, Page
from service.api.problems import errors
from service.auth.dependencies import Caller, CallerUoW
from service.parties import dialogues as dialogue_service
from service.parties import service as party_service
from service.parties.models import Organization, User
from service.parties.schemas import (
    ClientCreate,
    ClientCreated,
    ClientRead,
    DialogueCreate,
    DialogueRead,
    Me,
    ObserversAdd,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter()
OrgFilter = Annotated[UUID | None, Query(description="Organization (default: your own).")]
READ = errors(401, 404)
WRITE = errors(401, 403, 404, 409, 422)


@router.get("/me", tags=["identity"], responses=errors(401))
async def me(caller: Caller, uow: CallerUoW) -> Me:
    """Who the token belongs to, and what it may do."""
    org = await party_service.get_organization(uow, caller, org_id=caller.org_id)
    display_name = None
    if caller.is_user:
        display_name = (await party_service.get_user(uow, caller, user_id=caller.id)).display_name
    return Me(
        kind=caller.kind,
        id=caller.id,
        name=caller.name,
        display_name=display_name,
        organization=OrganizationRead.model_validate(org),
        roles=sorted(caller.roles),
        scopes=sorted(caller.scopes),
    )


@router.post("/organizations", status_code=201, tags=["identity"], responses=WRITE)
async def create_organization(
    body: OrganizationCreate, caller: Caller, uow: CallerUoW
) -> OrganizationRead:
    """Register a party (host administrators only)."""
    org = await party_service.create_organization(uow, caller, data=body)
    return OrganizationRead.model_validate(org)


@router.get("/organizations", tags=["identity"], responses=errors(401, 422))
async def list_organizations(
    caller: Caller, uow: CallerUoW, limit: Limit = 50, cursor: Cursor = None
) -> Page[OrganizationRead]:
    """Your organization and those you share a dialogue with (the host's admins: all)."""
    rows, next_cursor = await party_service.list_organizations(
        uow, caller, limit=limit, cursor=cursor
    )
    return Page(items=[OrganizationRead.model_validate(o) for o in rows], next_cursor=next_cursor)


@router.get("/organizations/{org_id}", tags=["identity"], responses=READ)
async def get_organization(org_id: UUID, caller: Caller, uow: CallerUoW) -> OrganizationRead:
    """An organization you can see (404 otherwise)."""
    org: Organization = await party_service.get_organization(uow, caller, org_id=org_id)
    return OrganizationRead.model_validate(org)


@router.patch("/organizations/{org_id}", tags=["identity"], responses=WRITE)
async def update_organization(
    org_id: UUID, body: OrganizationUpdate, caller: Caller, uow: CallerUoW
) -> OrganizationRead:
    """Rename or deactivate an organization (host administrators only)."""
    org = await party_service.update_organization(uow, caller, org_id=org_id, data=body)
    return OrganizationRead.model_validate(org)


@router.post("/users", status_code=201, tags=["identity"], responses=WRITE)
async def create_user(body: UserCreate, caller: Caller, uow: CallerUoW) -> UserRead:
    """Create a user in your organization (the host's admins: in any organization)."""
    return UserRead.model_validate(await party_service.create_user(uow, caller, data=body))


@router.get("/users", tags=["identity"], responses=errors(401, 403, 422))
async def list_users(
    caller: Caller,
    uow: CallerUoW,
    organization_id: OrgFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[UserRead]:
    """The users of your organization (admins; the host's admins: of any)."""
    rows, next_cursor = await party_service.list_users(
        uow, caller, org_id=organization_id, limit=limit, cursor=cursor
    )
    return Page(items=[UserRead.model_validate(u) for u in rows], next_cursor=next_cursor)


@router.get("/users/{user_id}", tags=["identity"], responses=READ)
async def get_user(user_id: UUID, caller: Caller, uow: CallerUoW) -> UserRead:
    """Yourself, or a user of an organization you administer."""
    user: User = await party_service.get_user(uow, caller, user_id=user_id)
    return UserRead.model_validate(user)


@router.patch("/users/{user_id}", tags=["identity"], responses=WRITE)
async def update_user(user_id: UUID, body: UserUpdate, caller: Caller, uow: CallerUoW) -> UserRead:
    """Change roles, display name or password, or deactivate (tokens stop working at once)."""
    user = await party_service.update_user(uow, caller, user_id=user_id, data=body)
    return UserRead.model_validate(user)


@router.post("/clients", status_code=201, tags=["identity"], responses=WRITE)
async def create_client(body: ClientCreate, caller: Caller, uow: CallerUoW) -> ClientCreated:
    """Register a government system; its secret is in this answer only."""
    client, secret = await party_service.create_client(uow, caller, data=body)
    return ClientCreated.model_validate(
        {**ClientRead.model_validate(client).model_dump(), "client_secret": secret}
    )


@router.get("/clients", tags=["identity"], responses=errors(401, 403, 422))
async def list_clients(
    caller: Caller,
    uow: CallerUoW,
    organization_id: OrgFilter = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ClientRead]:
    """The API clients of your organization (admins), without secrets."""
    rows, next_cursor = await party_service.list_clients(
        uow, caller, org_id=organization_id, limit=limit, cursor=cursor
    )
    return Page(items=[ClientRead.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get("/clients/{client_id}", tags=["identity"], responses=READ)
async def get_client(client_id: UUID, caller: Caller, uow: CallerUoW) -> ClientRead:
    """An API client of an organization you administer (never its secret)."""
    return ClientRead.model_validate(
        await party_service.get_client(uow, caller, client_id=client_id)
    )


@router.delete("/clients/{client_id}", status_code=204, tags=["identity"], responses=READ)
async def revoke_client(client_id: UUID, caller: Caller, uow: CallerUoW) -> Response:
    """Revoke a client: its secret and tokens stop working at once."""
    await party_service.revoke_client(uow, caller, client_id=client_id)
    return Response(status_code=204)


@router.post("/dialogues", status_code=201, tags=["dialogues"], responses=WRITE)
async def open_dialogue(body: DialogueCreate, caller: Caller, uow: CallerUoW) -> DialogueRead:
    """Open the channel between your licensing authority and a counterpart ministry."""
    return await dialogue_service.open_dialogue(uow, caller, data=body)


@router.get("/dialogues", tags=["dialogues"], responses=errors(401, 403, 422))
async def list_dialogues(
    caller: Caller, uow: CallerUoW, limit: Limit = 50, cursor: Cursor = None
) -> Page[DialogueRead]:
    """The dialogues your organization belongs to, oldest first (API clients: `dialogues:read`)."""
    items, next_cursor = await dialogue_service.list_dialogues(
        uow, caller, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/dialogues/{dialogue_id}", tags=["dialogues"], responses=errors(401, 403, 404))
async def get_dialogue(dialogue_id: UUID, caller: Caller, uow: CallerUoW) -> DialogueRead:
    """A dialogue your organization belongs to, with your side in it (clients: `dialogues:read`)."""
    return await dialogue_service.get_dialogue(uow, caller, dialogue_id=dialogue_id)


@router.post("/dialogues/{dialogue_id}/observers", tags=["dialogues"], responses=WRITE)
async def add_observers(
    dialogue_id: UUID, body: ObserversAdd, caller: Caller, uow: CallerUoW
) -> DialogueRead:
    """Let observer organizations (customs, border agency) follow permits and notices."""
    return await dialogue_service.add_observers(
        uow, caller, dialogue_id=dialogue_id, org_ids=body.observer_ids
    )
