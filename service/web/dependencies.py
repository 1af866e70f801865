"""Who is using the web client: the session cookie's user, or a redirect to sign in."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from service.auth.dependencies import request_context
from service.uow import UnitOfWork
from service.web import security, sessions
from service.web.sessions import Current, Lookup


class SignInRequired(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


async def current_user(request: Request) -> Current:
    state, current = await sessions.find(
        request.app.state.database, request.app.state.settings, request.cookies.get(sessions.COOKIE)
    )
    if state is not Lookup.VALID or current is None:
        raise SignInRequired(expired=state is Lookup.EXPIRED)
    request.state.web = current
    request.state.principal = current.principal  # refused accesses are audited under this user
    return current


WebUser = Annotated[Current, Depends(current_user)]


async def web_uow(request: Request, user: WebUser) -> UnitOfWork:
    uow = UnitOfWork(request.app.state.database, context=request_context(request))
    return uow.as_actor(user.principal.as_actor())


WebUoW = Annotated[UnitOfWork, Depends(web_uow)]


async def checked_form(
    request: Request, user: WebUser, csrf_token: Annotated[str | None, Form()] = None
) -> Current:
    """For every POST of a signed-in user: the CSRF token must be the session's."""
    security.check_csrf(request, csrf_token, user.csrf_token)
    return user


FormUser = Annotated[Current, Depends(checked_form)]
