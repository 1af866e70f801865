"""The two OAuth grants, with audited outcomes and throttling of repeated failures.

Failures are counted per normalized username (or client id) in the database, so every replica
sees the same count; after ``signin_max_failures`` within the window the name is locked for
``signin_lockout_seconds`` (429), whether or not it exists, so the lock reveals nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import identity, passwords, secrets
from service.auth.principal import Principal
from service.auth.tokens import TokenService
from service.config import Settings
from service.db import utcnow
from service.errors import ServiceError, TooManyRequests
from service.parties import repository
from service.parties.models import SigninThrottle
from service.uow import Transaction, UnitOfWork


class InvalidGrant(ServiceError):
    status, code, title = 400, "invalid-grant", "Invalid credentials"

    def __init__(self) -> None:
        super().__init__("The username or password is wrong.", error="invalid_grant")


class InvalidClient(ServiceError):
    status, code, title = 401, "invalid-client", "Invalid client credentials"

    def __init__(self) -> None:
        super().__init__("The client id or secret is wrong.", error="invalid_client")
        self.headers["WWW-Authenticate"] = "Basic"


class UnsupportedGrant(ServiceError):
    status, code, title = 400, "unsupported-grant-type", "Unsupported grant type"

    def __init__(self, grant_type: str) -> None:
        super().__init__(
            f"The grant type {grant_type!r} is not enabled.", error="unsupported_grant_type"
        )


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str | None = None


async def password_grant(
    uow: UnitOfWork, tokens: TokenService, settings: Settings, *, username: str, password: str
) -> IssuedToken:
    if not settings.password_grant:
        raise UnsupportedGrant("password")
    principal = await authenticate_user(uow, settings, username=username, password=password)
    ttl = settings.user_token_ttl_seconds
    return IssuedToken(issue_for(tokens, principal, ttl), ttl)


async def authenticate_user(
    uow: UnitOfWork, settings: Settings, *, username: str, password: str
) -> Principal:
    """The user behind a username and password (audited, throttled), for tokens and the web."""
    key = "user:" + repository.normalize(username)[:300]
    principal = None
    async with uow.transaction() as tx:
        retry_after = await lock_remaining(tx, key, username)
        found = None if retry_after else await repository.user_by_username(tx.session, username)
        user, org = found or (None, None)
        usable = user.password_hash if user and user.active and org.active else None
        if retry_after:
            pass
        elif not await passwords.verify_password(usable, password):
            await record_failure(tx, settings, key)
            tx.audit("auth.signin_failed", details={"username": username[:150]})
        else:
            await clear_failures(tx.session, key)
            if passwords.needs_rehash(usable):
                user.password_hash = await passwords.hash_password(password)
            principal = identity.user_principal(user, org)
            tx.audit("auth.signin_succeeded", user, actor=principal.as_actor())
    if retry_after:
        raise LockedOut(retry_after)
    if principal is None:
        raise InvalidGrant
    return principal


async def client_credentials_grant(
    uow: UnitOfWork, tokens: TokenService, settings: Settings, *, client_id: str, secret: str
) -> IssuedToken:
    key = "client:" + client_id[:300]
    principal = None
    async with uow.transaction() as tx:
        retry_after = await lock_remaining(tx, key, client_id)
        found = (
            None
            if retry_after
            else await repository.client_with_org(tx.session, client_id=client_id)
        )
        client, org = found or (None, None)
        if retry_after:
            pass
        elif not (
            client
            and client.active
            and org.active
            and secrets.matches(secret, client.secret_digest)
        ):
            await record_failure(tx, settings, key)
            tx.audit("auth.client_failed", details={"client_id": client_id[:64]})
        else:
            await clear_failures(tx.session, key)
            principal = identity.client_principal(client, org)
            tx.audit("auth.client_authenticated", client, actor=principal.as_actor())
    if retry_after:
        raise LockedOut(retry_after)
    if principal is None:
        raise InvalidClient
    ttl = settings.client_token_ttl_seconds
    return IssuedToken(issue_for(tokens, principal, ttl), ttl, " ".join(sorted(principal.scopes)))


def issue_for(tokens: TokenService, principal: Principal, ttl: int) -> str:
    claims = {"org": str(principal.org_id)}
    if principal.kind == "client":
        claims["scope"] = " ".join(sorted(principal.scopes))
    return tokens.issue(f"{principal.kind}:{principal.id}", ttl=ttl, claims=claims)


async def lock_remaining(tx: Transaction, key: str, name: str) -> int:
    """Seconds until ``key`` may try again (0: not locked); a refused try is audited."""
    locked_until = await tx.session.scalar(
        select(SigninThrottle.locked_until).where(SigninThrottle.key == key)
    )
    now = utcnow()
    if not locked_until or locked_until <= now:
        return 0
    tx.audit("auth.signin_locked", details={"name": name[:150]})
    return int((locked_until - now).total_seconds()) + 1


class LockedOut(TooManyRequests):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed sign-ins; try again later.", retry_after)


async def record_failure(tx: Transaction, settings: Settings, key: str) -> None:
    """Count a failure atomically (concurrent failures all count) and lock at the threshold."""
    now = utcnow()
    window_start = now - timedelta(seconds=settings.signin_window_seconds)
    insert = pg_insert if tx.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    fresh = SigninThrottle.window_started_at < window_start
    statement = insert(SigninThrottle).values(key=key, failures=1, window_started_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[SigninThrottle.key],
        set_={
            "failures": case((fresh, 1), else_=SigninThrottle.failures + 1),
            "window_started_at": case((fresh, now), else_=SigninThrottle.window_started_at),
        },
    ).returning(SigninThrottle.failures)
    failures = (await tx.session.execute(statement)).scalar_one()
    if failures >= settings.signin_max_failures:
        locked_until = now + timedelta(seconds=settings.signin_lockout_seconds)
        await tx.session.execute(
            update(SigninThrottle)
            .where(SigninThrottle.key == key)
            .values(locked_until=locked_until, failures=0, window_started_at=now)
        )


async def clear_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(SigninThrottle).where(SigninThrottle.key == key))


class MissingCredentials(ServiceError):
    status, code, title = 400, "invalid-request", "Credentials missing"

    def __init__(self, grant_type: str) -> None:
        super().__init__(
            f"The {grant_type} grant needs both its credentials.", error="invalid_request"
        )
