"""``Idempotency-Key`` on POST: a retry with the same key and body replays the first answer.

The key is scoped to the caller (one organization's key never replays another's answer). A
``pending`` row is committed before the request runs, so two concurrent requests with one key
cannot both act: the second gets 409 (with Retry-After) until the first has finished. The
dependency claims the key once the caller is authenticated; the middleware stores the finished
answer (or releases the key when the request failed on our side, so the client may retry). A
claim whose request never finished (its process was killed, or the database was unreachable
when the answer was to be stored) lapses after ``idempotency_claim_seconds``: its change rolled
back with the process or the connection, so a retry with the key may then act. Stored answers are
encrypted with the secrets key: some of them (a new client's or webhook's secret) are shown once
and must not sit in the database in the clear.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta
from typing import Annotated

import structlog
from fastapi import Depends, Header, Request
from fastapi.responses import Response
from sqlalchemy import LargeBinary, String, delete, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.dependencies import Caller
from service.auth.principal import Principal
from service.db import Base, Database, begin_writing, utcnow
from service.errors import InvalidInput, ServiceError, StateConflict

log = structlog.get_logger("entente.idempotency")


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_record"

    principal_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(index=True)
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)


class Replay(ServiceError):
    """Not an error: carries the stored answer to the exception handler that sends it."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__("replay")
        self.record = record


async def replay_response(request: Request, exc: Replay) -> Response:
    record = exc.record
    return Response(
        content=request.app.state.secret_box.open_bytes(record.body) if record.body else b"",
        status_code=record.status_code or 200,
        media_type=record.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


async def claim_key(
    request: Request,
    caller: Caller,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> None:
    if request.method != "POST" or idempotency_key is None:
        return
    if not idempotency_key.isprintable() or not idempotency_key.strip():
        raise InvalidInput("Idempotency-Key must be printable text.")
    fingerprint = hashlib.sha256(
        request.url.path.encode() + b"\n" + await request.body()
    ).hexdigest()
    database: Database = request.app.state.database
    scope = (principal_key(caller), idempotency_key)
    settings = request.app.state.settings
    ttl = timedelta(seconds=settings.idempotency_ttl_seconds)
    lease = timedelta(seconds=settings.idempotency_claim_seconds)
    await claim(database, scope, fingerprint, ttl, lease)
    request.state.idempotency = scope


def principal_key(caller: Principal) -> str:
    return f"{caller.kind}:{caller.id}"


async def claim(
    database: Database,
    scope: tuple[str, str],
    fingerprint: str,
    ttl: timedelta,
    lease: timedelta,
) -> None:
    async with database.sessions() as session:
        await begin_writing(session)
        record = await session.get(IdempotencyRecord, scope)
        if record and record.created_at < utcnow() - ttl:
            await session.delete(record)
            await session.flush()
            record = None
        if record is None:
            session.add(
                IdempotencyRecord(
                    principal_key=scope[0],
                    key=scope[1],
                    fingerprint=fingerprint,
                    created_at=utcnow(),
                )
            )
            try:
                await session.commit()
                return
            except IntegrityError:
                await session.rollback()
                raise in_progress(lease) from None
        check_existing(record, fingerprint, lease)
        if await took_over(session, record):
            return
        raise in_progress(lease)


def check_existing(record: IdempotencyRecord, fingerprint: str, lease: timedelta) -> None:
    """Refuse another body (422), replay a finished answer, or refuse a claim still held (409);
    returns for a claim that lapsed."""
    if record.fingerprint != fingerprint:
        raise InvalidInput("This Idempotency-Key was used with a different request.")
    if record.status_code is not None:
        raise Replay(record)
    left = (record.created_at + lease - utcnow()).total_seconds()
    if left > 0:
        raise in_progress(timedelta(seconds=left))


async def took_over(session: AsyncSession, record: IdempotencyRecord) -> bool:
    """Claim a lapsed key anew; of two retries racing for it, one wins."""
    result = await session.execute(
        update(IdempotencyRecord)
        .where(
            (IdempotencyRecord.principal_key == record.principal_key)
            & (IdempotencyRecord.key == record.key)
            & (IdempotencyRecord.created_at == record.created_at)
            & IdempotencyRecord.status_code.is_(None)
        )
        .values(created_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return result.rowcount == 1


def in_progress(wait: timedelta) -> StateConflict:
    conflict = StateConflict("A request with this Idempotency-Key is in progress.")
    conflict.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
    return conflict


Idempotent = Depends(claim_key)


class IdempotencyMiddleware:
    """Stores the answer of a request whose key was claimed by ``claim_key``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        response: dict[str, object] = {"status": 500, "body": b"", "content_type": None}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                headers = dict(message.get("headers", []))
                response["content_type"] = headers.get(b"content-type", b"").decode() or None
            elif message["type"] == "http.response.body":
                response["body"] += message.get("body", b"")  # type: ignore[operator]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            claimed = scope.get("state", {}).get("idempotency")
            if claimed:
                state = scope["app"].state
                response["body"] = state.secret_box.seal_bytes(response["body"])
                await finish_or_let_lapse(state.database, claimed, response)


async def finish_or_let_lapse(database: Database, claimed: tuple[str, str], response: dict) -> None:
    """Store the answer; if the database is gone by now, the claim lapses on its own."""
    try:
        await finish(database, claimed, response)
    except (DBAPIError, OSError) as exc:
        log.warning("idempotency answer not stored", status=response["status"], error=repr(exc))


async def finish(database: Database, claimed: tuple[str, str], response: dict) -> None:
    matches = (IdempotencyRecord.principal_key == claimed[0]) & (
        IdempotencyRecord.key == claimed[1]
    )
    async with database.sessions() as session:
        await begin_writing(session)
        if response["status"] >= 500:
            await session.execute(delete(IdempotencyRecord).where(matches))
        else:
            await session.execute(
                update(IdempotencyRecord)
                .where(matches)
                .values(
                    status_code=response["status"],
                    content_type=response["content_type"],
                    body=response["body"],
                )
            )
        await session.commit()


async def prune(database: Database, older_than: datetime) -> int:
    async with database.sessions() as session:
        await begin_writing(session)
        result = await session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.created_at < older_than)
        )
        await session.commit()
        return result.rowcount or 0


__all__ = ["IdempotencyMiddleware", "IdempotencyRecord", "Idempotent", "Replay"]
