"""What every bare route shares: the verified token and the database engine.

A route of the bare app (``bench/bare/<scenario>.py``, an ``APIRouter`` named ``router``)
declares ``claims: Claims`` to require a valid ES256 access token of the project's key (the
project's issuer and audience, python-jose with ``algorithms=["ES256"]``), and ``engine: Engine``
for the app's ``AsyncEngine`` (``service.db.build_engine``: the project's driver settings, SQLite
pragmas and pool). Write in one transaction with ``writer(engine)``, which on SQLite begins with
``BEGIN IMMEDIATE`` and runs its statements right away on the event loop's thread, as the
project's unit of work does, after taking this process's write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from jose import jwk, jwt
from jose.backends.base import Key
from jose.exceptions import JOSEError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.db import WRITER

ISSUER, AUDIENCE = "urn:entente:local", "entente"
# SQLite takes one writer at a time. Writers of this process queue here, woken the moment the
# previous one commits, instead of sleeping in SQLite's busy handler (waits up to 100 ms each).
WRITE_LOCK = asyncio.Lock()


def public_key(private_pem: str) -> Key:
    """The verifying key, built once (the least a verifier needs to do per request)."""
    return jwk.construct(private_pem, algorithm="ES256").public_key()


async def verified_claims(request: Request) -> dict[str, Any]:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "a bearer token is required")
    try:
        return jwt.decode(
            token,
            request.app.state.key,
            algorithms=["ES256"],
            issuer=ISSUER,
            audience=AUDIENCE,
        )
    except JOSEError as exc:
        raise HTTPException(401, "invalid token") from exc


async def engine_of(request: Request) -> AsyncEngine:
    return request.app.state.engine


@contextlib.asynccontextmanager
async def writer(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``async with writer(engine) as conn:`` one write transaction, committed at the end."""
    lock = WRITE_LOCK if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    # Begun as the project's unit of work begins (``service.db.WRITER``): on SQLite, IMMEDIATE,
    # and every statement right away on the event loop's thread.
    async with lock, engine.execution_options(**WRITER).begin() as conn:
        yield conn


# Both dependencies are coroutines: FastAPI would run a plain ``def`` in the thread pool.
Claims = Annotated[dict[str, Any], Depends(verified_claims)]
Engine = Annotated[AsyncEngine, Depends(engine_of)]
