"""Queries over parties. Every read of a dialogue starts from ``visible_dialogues``."""

from __future__ import annotations

import unicodedata
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth.principal import Principal
from service.parties.models import ApiClient, Dialogue, DialogueObserver, Organization, User


def normalize(text: str) -> str:
    """The form in which names are compared for uniqueness."""
    return unicodedata.normalize("NFKC", text).casefold()


async def user_by_username(
    session: AsyncSession, username: str
) -> tuple[User, Organization] | None:
    query = select(User, Organization).join(Organization)
    row = (await session.execute(query.where(User.username_key == normalize(username)))).first()
    return (row[0], row[1]) if row else None


async def user_by_external(session: AsyncSession, issuer: str, subject: str) -> User | None:
    query = select(User).where(User.external_issuer == issuer, User.external_subject == subject)
    return await session.scalar(query)


async def client_with_org(
    session: AsyncSession, *, id: UUID | None = None, client_id: str | None = None
) -> tuple[ApiClient, Organization] | None:
    query = select(ApiClient, Organization).join(Organization)
    query = query.where(ApiClient.id == id) if id else query.where(ApiClient.client_id == client_id)
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def org_by_code(session: AsyncSession, code: str) -> Organization | None:
    return await session.scalar(
        select(Organization).where(Organization.code_key == normalize(code))
    )


def is_observer(org_id: UUID):
    return exists().where(
        DialogueObserver.dialogue_id == Dialogue.id, DialogueObserver.organization_id == org_id
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``Dialogue`` that the principal's organization is party or observer."""
    return visible_to(principal.org_id)


def visible_to(org: Any) -> ColumnElement[bool]:
    """The same for an organization's id, or a bound parameter standing for it."""
    return or_(Dialogue.authority_id == org, Dialogue.counterpart_id == org, is_observer(org))


def visible_dialogues(principal: Principal) -> Select[tuple[Dialogue]]:
    return select(Dialogue).where(visible(principal))


async def get_visible_dialogue(
    session: AsyncSession, principal: Principal, dialogue_id: UUID
) -> Dialogue | None:
    return await session.scalar(visible_dialogues(principal).where(Dialogue.id == dialogue_id))


async def observer_ids(session: AsyncSession, dialogue_ids: list[UUID]) -> dict[UUID, list[UUID]]:
    query = select(DialogueObserver).where(DialogueObserver.dialogue_id.in_(dialogue_ids))
    found: dict[UUID, list[UUID]] = {dialogue_id: [] for dialogue_id in dialogue_ids}
    for row in await session.scalars(query.order_by(DialogueObserver.added_at)):
        found[row.dialogue_id].append(row.organization_id)
    return found


def visible_organizations(principal: Principal) -> Select[tuple[Organization]]:
    """The host's admins see every organization; others, their own and their dialogue partners."""
    if principal.org_is_host and principal.has_role("admin"):
        return select(Organization)
    mine = visible_dialogues(principal).subquery()
    observers = select(DialogueObserver.organization_id).where(
        DialogueObserver.dialogue_id.in_(select(mine.c.id))
    )
    return select(Organization).where(
        or_(
            Organization.id == principal.org_id,
            Organization.id.in_(select(mine.c.authority_id)),
            Organization.id.in_(select(mine.c.counterpart_id)),
            Organization.id.in_(observers),
        )
    )


async def get_visible_organization(
    session: AsyncSession, principal: Principal, org_id: UUID
) -> Organization | None:
    return await session.scalar(visible_organizations(principal).where(Organization.id == org_id))
