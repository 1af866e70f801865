"""Jinja2 rendering: autoescaped templates, one environment per language, safe headers."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.web import i18n, labels

TEMPLATES = Path(__file__).parent / "templates"
# No inline script or style anywhere: the policy forbids them, so injected markup cannot run.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def utc_text(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def iso(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["utc"] = utc_text
    env.filters["iso"] = iso
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    gettext = i18n.translations(language).gettext
    env.globals["label"] = lambda code: labels.label(gettext, code)
    return env


def language_of(request: Request) -> str:
    return getattr(request.state, "language", None) or i18n.choose(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )


def gettext_for(request: Request):
    return i18n.translations(language_of(request)).gettext


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    language = language_of(request)
    values = {
        "request": request,
        "lang": language,
        "current": getattr(request.state, "web", None),
        "csrf_token": csrf_for(request),
        "path": request.url.path,
        **(context or {}),
    }
    html = environment(language).get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def csrf_for(request: Request) -> str:
    current = getattr(request.state, "web", None)
    if current is not None:
        return current.csrf_token
    return getattr(request.state, "login_csrf", "")
