"""Server-side sessions of the web client.

The cookie carries 256 random bits; the database keeps only their SHA-256, so a database dump
yields no usable session. Signing in always makes a new session (no fixation); signing out ends
it for good, so a replayed cookie finds an ended row. A session dies after
``web_session_idle_seconds`` without use and ``web_session_absolute_seconds`` after sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select, update

from service.auth import identity
from service.auth.principal import Principal
from service.config import Settings
from service.db import Database, begin_writing, utcnow
from service.parties.models import Organization, User
from service.web.models import WebSession

COOKIE = "entente_session"
TOUCH_EVERY = timedelta(seconds=60)  # fewer writes: last use is kept to the minute


class Lookup(Enum):
    NONE = "none"
    EXPIRED = "expired"
    VALID = "valid"


@dataclass(frozen=True)
class Current:
    principal: Principal
    csrf_token: str
    display_name: str


def digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


async def start(database: Database, settings: Settings, user_id) -> str:
    """A new session for ``user_id``; the cookie value."""
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    async with database.sessions() as session:
        await begin_writing(session)
        session.add(
            WebSession(
                id_digest=digest(cookie),
                user_id=user_id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=settings.web_session_absolute_seconds),
            )
        )
        await session.commit()
    return cookie


async def end(database: Database, cookie: str) -> None:
    async with database.sessions() as session:
        await begin_writing(session)
        await session.execute(
            update(WebSession)
            .where(WebSession.id_digest == digest(cookie), WebSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        await session.commit()


def alive(row: WebSession, settings: Settings, now: datetime) -> bool:
    idle_limit = row.last_seen_at + timedelta(seconds=settings.web_session_idle_seconds)
    return row.ended_at is None and now < row.expires_at and now < idle_limit


async def find(
    database: Database, settings: Settings, cookie: str | None
) -> tuple[Lookup, Current | None]:
    if not cookie:
        return Lookup.NONE, None
    async with database.sessions() as session:
        found = (
            await session.execute(
                select(WebSession, User, Organization)
                .join(User, User.id == WebSession.user_id)
                .join(Organization, Organization.id == User.organization_id)
                .where(WebSession.id_digest == digest(cookie))
            )
        ).first()
    if found is None:
        return Lookup.NONE, None
    row, user, org = found
    now = utcnow()
    if not alive(row, settings, now) or not (user.active and org.active):
        return Lookup.EXPIRED, None
    if now - row.last_seen_at > TOUCH_EVERY:
        await touch(database, row.id_digest, now)
    principal = identity.user_principal(user, org)
    return Lookup.VALID, Current(principal, row.csrf_token, user.display_name)


async def touch(database: Database, id_digest: str, now: datetime) -> None:
    async with database.sessions() as session:
        await begin_writing(session)
        await session.execute(
            update(WebSession).where(WebSession.id_digest == id_digest).values(last_seen_at=now)
        )
        await session.commit()
