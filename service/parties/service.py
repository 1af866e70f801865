"""Use cases for organizations, users and API clients."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.auth import passwords, secrets
from service.auth.principal import Principal
from service.errors import InvalidInput, NotFound, StateConflict
from service.parties import policies, repository
from service.parties.models import ApiClient, Organization, User
from service.parties.schemas import (
    ClientCreate,
    OrganizationCreate,
    OrganizationUpdate,
    UserCreate,
    UserUpdate,
)
from service.uow import UnitOfWork

Page = tuple[Sequence, str | None]


async def create_organization(
    uow: UnitOfWork, caller: Principal, *, data: OrganizationCreate
) -> Organization:
    policies.require(policies.can_create_organization(caller))
    async with uow.transaction() as tx:
        if await repository.org_by_code(tx.session, data.code):
            raise StateConflict(f"An organization with code {data.code!r} exists already.")
        org = Organization(
            code=data.code.upper(),
            code_key=repository.normalize(data.code),
            name=data.name,
            country=data.country,
            kind=data.kind,
        )
        tx.session.add(org)
        tx.audit("organization.created", org, details=data.model_dump())
    return org


async def update_organization(
    uow: UnitOfWork, caller: Principal, *, org_id: UUID, data: OrganizationUpdate
) -> Organization:
    async with uow.transaction() as tx:
        org = await visible_org(tx.session, caller, org_id)
        policies.require(policies.is_host_admin(caller))
        if org.is_host and data.active is False:
            raise StateConflict("The host organization cannot be deactivated.")
        changes = data.model_dump(exclude_unset=True)
        for name, value in changes.items():
            setattr(org, name, value)
        tx.audit("organization.updated", org, details=changes)
    return org


async def visible_org(session: AsyncSession, caller: Principal, org_id: UUID) -> Organization:
    org = await repository.get_visible_organization(session, caller, org_id)
    if org is None:
        raise NotFound("organization", org_id)
    return org


async def get_organization(uow: UnitOfWork, caller: Principal, *, org_id: UUID) -> Organization:
    async with uow.reading() as session:
        return await visible_org(session, caller, org_id)


async def list_organizations(
    uow: UnitOfWork, caller: Principal, *, limit: int, cursor: str | None
) -> Page:
    async with uow.reading() as session:
        query = repository.visible_organizations(caller)
        return await paginate(session, query, Organization, limit=limit, cursor=cursor)


async def create_user(uow: UnitOfWork, caller: Principal, *, data: UserCreate) -> User:
    async with uow.transaction() as tx:
        org = await visible_org(tx.session, caller, data.organization_id)
        policies.require(policies.can_manage_members(caller, org.id))
        check_roles(org, data.roles)
        if await repository.user_by_username(tx.session, data.username):
            raise StateConflict(f"The username {data.username!r} is taken.")
        user = User(
            organization_id=org.id,
            username=data.username,
            username_key=repository.normalize(data.username),
            display_name=data.display_name,
            roles=data.roles,
            password_hash=await passwords.hash_password(data.password),
        )
        tx.session.add(user)
        tx.audit("user.created", user, details={"username": user.username, "roles": user.roles})
    return user


def check_roles(org: Organization, roles: list[str]) -> None:
    if not policies.roles_fit(org.kind, roles):
        allowed = ", ".join(sorted(policies.ROLES_BY_KIND[org.kind]))
        raise InvalidInput(f"A {org.kind} organization's users may hold only: {allowed}.")


async def visible_user(session: AsyncSession, caller: Principal, user_id: UUID) -> User:
    """Users are visible to themselves and to whoever may manage their organization."""
    user = await session.get(User, user_id)
    if user is None or not (
        user.id == caller.id or policies.can_manage_members(caller, user.organization_id)
    ):
        raise NotFound("user", user_id)
    return user


async def get_user(uow: UnitOfWork, caller: Principal, *, user_id: UUID) -> User:
    async with uow.reading() as session:
        return await visible_user(session, caller, user_id)


async def update_user(
    uow: UnitOfWork, caller: Principal, *, user_id: UUID, data: UserUpdate
) -> User:
    async with uow.transaction() as tx:
        user = await visible_user(tx.session, caller, user_id)
        policies.require(policies.can_manage_members(caller, user.organization_id))
        changes = data.model_dump(exclude_unset=True, exclude={"password"})
        if user.id == caller.id and (
            data.active is False or "admin" not in (data.roles or ["admin"])
        ):
            raise StateConflict("Admins cannot lock themselves out; ask another admin.")
        if data.roles is not None:
            check_roles(await tx.session.get(Organization, user.organization_id), data.roles)
        for name, value in changes.items():
            setattr(user, name, value)
        if data.password is not None:
            user.password_hash = await passwords.hash_password(data.password)
            changes["password"] = "changed"  # noqa: S105 - the audit says only that it changed
        tx.audit("user.updated", user, details=changes)
    return user


async def list_users(
    uow: UnitOfWork, caller: Principal, *, org_id: UUID | None, limit: int, cursor: str | None
) -> Page:
    org_id = org_id or caller.org_id
    policies.require(policies.can_manage_members(caller, org_id))
    async with uow.reading() as session:
        query = select(User).where(User.organization_id == org_id)
        return await paginate(session, query, User, limit=limit, cursor=cursor)


async def create_client(
    uow: UnitOfWork, caller: Principal, *, data: ClientCreate
) -> tuple[ApiClient, str]:
    secret = secrets.new_client_secret()
    async with uow.transaction() as tx:
        org = await visible_org(tx.session, caller, data.organization_id)
        policies.require(policies.can_manage_members(caller, org.id))
        client = ApiClient(
            organization_id=org.id,
            name=data.name,
            scopes=data.scopes,
            client_id=secrets.new_client_id(),
            secret_digest=secrets.digest(secret),
        )
        tx.session.add(client)
        tx.audit("client.created", client, details={"name": data.name, "scopes": data.scopes})
    return client, secret


async def visible_client(session: AsyncSession, caller: Principal, client_id: UUID) -> ApiClient:
    client = await session.get(ApiClient, client_id)
    if client is None or not policies.can_manage_members(caller, client.organization_id):
        raise NotFound("client", client_id)
    return client


async def get_client(uow: UnitOfWork, caller: Principal, *, client_id: UUID) -> ApiClient:
    async with uow.reading() as session:
        return await visible_client(session, caller, client_id)


async def revoke_client(uow: UnitOfWork, caller: Principal, *, client_id: UUID) -> ApiClient:
    async with uow.transaction() as tx:
        client = await visible_client(tx.session, caller, client_id)
        if client.active:
            client.active = False
            tx.audit("client.revoked", client)
    return client


async def list_clients(
    uow: UnitOfWork, caller: Principal, *, org_id: UUID | None, limit: int, cursor: str | None
) -> Page:
    org_id = org_id or caller.org_id
    policies.require(policies.can_manage_members(caller, org_id))
    async with uow.reading() as session:
        query = select(ApiClient).where(ApiClient.organization_id == org_id)
        return await paginate(session, query, ApiClient, limit=limit, cursor=cursor)
