"""CSRF protection and redirects that stay on this site.

Every state-changing form carries ``csrf_token``. Signed in, it must equal the session's token;
on the sign-in form (no session yet) it must equal a random cookie set with the form (double
submit). A request whose ``Origin`` names another site is refused whatever the token says.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

from service.errors import NotAllowed

LOGIN_CSRF_COOKIE = "entente_login_csrf"


class CsrfRejected(NotAllowed):
    code, title = "csrf-rejected", "Form expired or forged"


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    expected = f"{request.url.scheme}://{request.url.netloc}"
    return origin == expected


def check_csrf(request: Request, submitted: str | None, expected: str | None) -> None:
    if not same_origin(request):
        raise CsrfRejected("This form was sent from another site.")
    if not (submitted and expected and hmac.compare_digest(submitted, expected)):
        raise CsrfRejected("This form has expired or was not sent by this site; try again.")


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def safe_next(target: str | None) -> str:
    """Only a path of this site under /app: never another host, scheme or protocol-relative URL."""
    if not target:
        return "/app/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/app") or "\\" in target:
        return "/app/"
    return target
