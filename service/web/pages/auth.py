"""Signing in and out, and the language switch."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from service.api.types import Printable
from service.auth import signin
from service.auth.dependencies import anonymous_uow
from service.errors import ServiceError
from service.web import i18n, security, sessions
from service.web.dependencies import FormUser
from service.web.templating import gettext_for, render

router = APIRouter()
YEAR = 365 * 86400


def cookie_flags(request: Request) -> dict:
    return {"httponly": True, "samesite": "strict", "secure": request.url.scheme == "https"}


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return login_page(request, next=security.safe_next(next))


def login_page(
    request: Request, *, next: str, error: str | None = None, username: str = "", status: int = 200
) -> Response:
    token = security.new_login_token()
    request.state.login_csrf = token
    context = {"next": next, "error": error, "username": username}
    response = render(request, "login.html", context, status=status)
    response.set_cookie(security.LOGIN_CSRF_COOKIE, token, path="/app", **cookie_flags(request))
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=150), Printable] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    security.check_csrf(request, csrf_token, request.cookies.get(security.LOGIN_CSRF_COOKIE))
    settings = request.app.state.settings
    _ = gettext_for(request)
    try:
        principal = await signin.authenticate_user(
            anonymous_uow(request), settings, username=username, password=password
        )
    except signin.LockedOut:
        error, status = _("Too many failed attempts. Try again later."), 429
    except ServiceError:
        error, status = _("The username or password is wrong."), 400
    else:
        return await signed_in(request, principal.id, next)
    target = security.safe_next(next)
    return login_page(request, next=target, error=error, username=username, status=status)


async def signed_in(request: Request, user_id: UUID, next: str | None) -> Response:
    """A brand-new session (never one the browser brought), and on to where the user was going."""
    settings = request.app.state.settings
    cookie = await sessions.start(request.app.state.database, settings, user_id)
    response = RedirectResponse(security.safe_next(next), status_code=303)
    response.set_cookie(sessions.COOKIE, cookie, path="/app", **cookie_flags(request))
    response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/app")
    return response


@router.post("/logout")
async def logout(request: Request, user: FormUser) -> Response:
    await sessions.end(request.app.state.database, request.cookies.get(sessions.COOKIE, ""))
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/app")
    return response


@router.post("/language")
async def language(
    request: Request,
    lang: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Remembered in a cookie; no CSRF token needed: it changes nothing but the page's language."""
    chosen = lang if lang in i18n.LANGUAGES else i18n.DEFAULT
    if not security.same_origin(request):
        chosen = i18n.DEFAULT
    response = RedirectResponse(security.safe_next(next), status_code=303)
    response.set_cookie(i18n.COOKIE, chosen, max_age=YEAR, path="/app", **cookie_flags(request))
    return response
