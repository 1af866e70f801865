"""Errors in the web client are pages, in the user's language, never stack traces."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.web.dependencies import SignInRequired
from service.web.templating import gettext_for, render

WEB_PREFIX = "/app"


def is_web(request: Request) -> bool:
    path = request.url.path
    return path == WEB_PREFIX or path.startswith(WEB_PREFIX + "/")


def titles(request: Request) -> dict[int, str]:
    _ = gettext_for(request)
    return {
        400: _("That request could not be understood"),
        403: _("You may not do this"),
        404: _("Not found"),
        409: _("This has changed meanwhile"),
        413: _("That is too large"),
        422: _("Please check what you entered"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
    }


def error_page(request: Request, status: int, detail: str | None = None) -> HTMLResponse:
    _ = gettext_for(request)
    if status == 404:
        detail = _("There is nothing here, or it is not visible to your organization.")
    elif status >= 500:
        detail = _("Something went wrong on our side. The request id helps us find it.")
    known = titles(request)
    title = known.get(status, known[400 if status < 500 else 500])
    context = {"title": title, "detail": detail, "status": status}
    return render(request, "error.html", context, status=status)


async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
    if exc.expired:
        return render(request, "expired.html", {"next": request.url.path}, status=401)
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/app/login?next={target}", status_code=303)
