"""Request dependencies: who is calling, and the unit of work acting on their behalf."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.audit.service import RequestContext
from service.auth import identity
from service.auth.jwt import TokenError
from service.auth.principal import Principal
from service.auth.tokens import TokenService
from service.errors import Unauthenticated
from service.uow import UnitOfWork

bearer = HTTPBearer(auto_error=False, description="An access token from `POST /oauth/token`.")


def request_context(request: Request) -> RequestContext:
    client = request.client.host if request.client else None
    return RequestContext(request_id=getattr(request.state, "request_id", None), client_addr=client)


def anonymous_uow(request: Request) -> UnitOfWork:
    return UnitOfWork(request.app.state.database, context=request_context(request))


# The dependencies are coroutines although they never wait: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop on every request (seen in the write bench's profile).
async def anonymous_uow_dependency(request: Request) -> UnitOfWork:
    return anonymous_uow(request)


AnonymousUoW = Annotated[UnitOfWork, Depends(anonymous_uow_dependency)]


async def get_caller(
    request: Request,
    uow: AnonymousUoW,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("A bearer token is required.")
    tokens: TokenService = request.app.state.tokens
    try:
        verified = await tokens.verify(credentials.credentials)
        principal = await identity.resolve(uow, verified)
    except TokenError as exc:
        error = Unauthenticated("The access token is not valid.")
        error.log_reason = str(exc)  # for the audit trail; the caller learns nothing more
        raise error from exc
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(get_caller)]


async def caller_uow(caller: Caller, uow: AnonymousUoW) -> UnitOfWork:
    return uow.as_actor(caller.as_actor())


CallerUoW = Annotated[UnitOfWork, Depends(caller_uow)]
