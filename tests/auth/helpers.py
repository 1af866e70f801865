"""Building tokens by hand, so each attack test gets a token with exactly one thing wrong."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from jose import jwk
from jose import jwt as jose_jwt
from sqlalchemy import select

from service.audit.models import AuditEntry

PROBLEM_JSON = "application/problem+json"
DROP = object()  # a claim value meaning "leave this claim out"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def compact(header: dict[str, Any], payload: bytes, sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS over ``payload`` (raw bytes, so odd JSON can be signed too)."""
    signing_input = f"{b64json(header)}.{b64url(payload)}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def hs256_signer(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda message: hmac.new(secret, message, hashlib.sha256).digest()


def es256_signer(private_pem: str) -> Callable[[bytes], bytes]:
    return jwk.construct(private_pem, algorithm="ES256").sign


def own_claims(app: Any, subject: str, **overrides: Any) -> dict[str, Any]:
    """The claims our service would put in a token for ``subject``, with ``overrides`` applied."""
    settings = app.state.settings
    now = int(time.time())
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "test-token",
    }
    claims |= overrides
    return {name: value for name, value in claims.items() if value is not DROP}


def mint(app: Any, subject: str, *, headers: dict[str, Any] | None = None, **overrides: Any) -> str:
    """A token signed with the service's own key: valid unless ``headers``/``overrides`` say."""
    key = app.state.tokens.signing_key
    header = {"kid": key.kid, "typ": "at+jwt"} | (headers or {})
    claims = own_claims(app, subject, **overrides)
    return jose_jwt.encode(claims, key.private_pem, algorithm="ES256", headers=header)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
    return body


async def audit_entries(app: Any, action: str) -> list[AuditEntry]:
    """The audit entries of one action, in chain order."""
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
    async with app.state.database.sessions() as session:
        return list((await session.scalars(query)).all())
