"""From a verified token to a ``Principal``, checked against the database on every request.

Deactivated users, revoked clients and deactivated organizations lose access at once, whatever
their tokens still say. Users of a trusted external issuer are provisioned on first sight into
the organization their claims name.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, bindparam, select

from service.audit.service import SYSTEM
from service.auth.jwt import TokenError
from service.auth.principal import Principal
from service.auth.tokens import VerifiedToken
from service.config import ROLES, ExternalIssuer
from service.parties import repository
from service.parties.models import ApiClient, Organization, User
from service.uow import UnitOfWork


def user_principal(user: User, org: Organization) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        org_id=org.id,
        org_kind=org.kind,
        org_is_host=org.is_host,
        roles=frozenset(user.roles),
    )


def client_principal(client: ApiClient, org: Organization) -> Principal:
    return Principal(
        kind="client",
        id=client.id,
        name=client.client_id,
        org_id=org.id,
        org_kind=org.kind,
        org_is_host=org.is_host,
        scopes=frozenset(client.scopes),
    )


async def resolve(uow: UnitOfWork, token: VerifiedToken) -> Principal:
    if token.issuer is not None:
        return await resolve_external(uow, token.issuer, token.claims)
    kind, _, raw_id = token.claims["sub"].partition(":")
    try:
        subject_id = UUID(raw_id)
    except ValueError:
        raise TokenError("unknown subject") from None
    query = SUBJECTS.get(kind)
    if query is None:
        raise TokenError("subject unknown or inactive")
    # One indexed read, outside any transaction: this runs before every authenticated request.
    async with uow.database.single_reads() as connection:
        row = (await connection.execute(query, {"subject_id": subject_id})).first()
    if row is None or not (row.active and row.org_active):
        raise TokenError("subject unknown or inactive")
    return Principal(
        kind=kind,  # type: ignore[arg-type]
        id=subject_id,
        name=row.name,
        org_id=row.org_id,
        org_kind=row.org_kind,
        org_is_host=row.org_is_host,
        roles=frozenset(row.roles if kind == "user" else ()),
        scopes=frozenset(row.scopes if kind == "client" else ()),
    )


def subject_query(model: type[User] | type[ApiClient], name: Any, grants: Any) -> Select[Any]:
    org = Organization.__table__.c
    return (
        select(
            name.label("name"),
            grants,
            model.active.label("active"),
            org.id.label("org_id"),
            org.kind.label("org_kind"),
            org.is_host.label("org_is_host"),
            org.active.label("org_active"),
        )
        .join_from(model.__table__, Organization.__table__, model.organization_id == org.id)
        .where(model.id == bindparam("subject_id"))
    )


SUBJECTS = {
    "user": subject_query(User, User.username, User.roles.label("roles")),
    "client": subject_query(ApiClient, ApiClient.client_id, ApiClient.scopes.label("scopes")),
}


async def resolve_external(
    uow: UnitOfWork, issuer: ExternalIssuer, claims: dict[str, Any]
) -> Principal:
    if len(claims["sub"]) > 255:
        raise TokenError("subject too long")
    org_code = issuer.organization_code or claim_text(claims, issuer.org_claim)
    roles = mapped_roles(issuer, claims.get(issuer.roles_claim))
    async with uow.reading() as session:
        org = await repository.org_by_code(session, org_code) if org_code else None
        if org is None or not org.active:
            raise TokenError("token names no known organization")
        user = await repository.user_by_external(session, issuer.issuer, claims["sub"])
    if user is None or user.roles != roles or user.organization_id != org.id:
        user = await provision(uow, issuer, claims, org, roles)
    if not user.active:
        raise TokenError("user deactivated")
    return user_principal(user, org)


def claim_text(claims: dict[str, Any], name: str | None) -> str | None:
    value = claims.get(name) if name else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def mapped_roles(issuer: ExternalIssuer, values: Any) -> list[str]:
    if isinstance(values, str):
        values = values.split()
    if not isinstance(values, list):
        return []
    mapped = {issuer.role_map.get(value, value) for value in values if isinstance(value, str)}
    return sorted(mapped & set(ROLES))


async def provision(
    uow: UnitOfWork,
    issuer: ExternalIssuer,
    claims: dict[str, Any],
    org: Organization,
    roles: list[str],
) -> User:
    """Create the user on first sight, or bring its organization and roles up to the issuer's."""
    subject = claims["sub"]
    async with uow.as_actor(SYSTEM).transaction() as tx:
        user = await repository.user_by_external(tx.session, issuer.issuer, subject)
        if user is None:
            user = new_external_user(issuer, claims, org, roles)
            tx.session.add(user)
            tx.audit("user.provisioned", user, details={"issuer": issuer.issuer, "roles": roles})
        elif user.roles != roles or user.organization_id != org.id:
            user.roles, user.organization_id = roles, org.id
            tx.audit("user.updated", user, details={"issuer": issuer.issuer, "roles": roles})
    return user


def new_external_user(
    issuer: ExternalIssuer, claims: dict[str, Any], org: Organization, roles: list[str]
) -> User:
    # External usernames live in their own namespace so they never collide with ours.
    name = claim_text(claims, issuer.username_claim) or claims["sub"][:100]
    username = f"{name}@{issuer.issuer}"[:150]
    return User(
        organization_id=org.id,
        username=username,
        username_key=repository.normalize(f"{issuer.issuer}#{claims['sub']}")[:300],
        display_name=claim_text(claims, issuer.display_name_claim) or name,
        password_hash=None,
        roles=roles,
        external_issuer=issuer.issuer,
        external_subject=claims["sub"],
    )
