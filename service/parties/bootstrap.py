"""Creating the host organization and its first admin (``entente init``)."""

from __future__ import annotations

from sqlalchemy import select

from service.audit.service import SYSTEM
from service.auth import passwords
from service.errors import InvalidInput
from service.parties import repository
from service.parties.models import Organization, User
from service.uow import UnitOfWork


async def host_organization(uow: UnitOfWork) -> Organization | None:
    async with uow.reading() as session:
        return await session.scalar(select(Organization).where(Organization.is_host.is_(True)))


async def initialize(
    uow: UnitOfWork, *, code: str, name: str, country: str, admin_username: str, admin_password: str
) -> tuple[Organization, bool]:
    """Create the host licensing authority and its admin; ``False`` when it existed already."""
    existing = await host_organization(uow)
    if existing is not None:
        return existing, False
    if len(admin_password) < 12:
        raise InvalidInput("The admin password must have at least 12 characters.")
    async with uow.as_actor(SYSTEM).transaction() as tx:
        org = Organization(
            code=code.upper(),
            code_key=repository.normalize(code),
            name=name,
            country=country.upper(),
            kind="licensing_authority",
            is_host=True,
        )
        tx.session.add(org)
        await tx.session.flush()
        admin = User(
            organization_id=org.id,
            username=admin_username,
            username_key=repository.normalize(admin_username),
            display_name=admin_username,
            password_hash=await passwords.hash_password(admin_password),
            roles=["admin"],
        )
        tx.session.add(admin)
        tx.audit("organization.created", org, details={"code": org.code, "host": True})
        tx.audit("user.created", admin, details={"username": admin_username, "roles": ["admin"]})
    return org, True
