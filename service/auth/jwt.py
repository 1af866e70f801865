"""Every call into python-jose lives here, so the library can be swapped in one place.

python-jose's defaults are unsafe (SECURITY.md): callers always pass an explicit algorithm list,
and ``decode`` below requires ``exp``, ``iat``, ``iss``, ``aud`` and ``sub`` and turns every
exception the library can raise into ``TokenError``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jose import jwk, jws, jwt
from jose.exceptions import JOSEError

REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")


class TokenError(Exception):
    """The token cannot be trusted; the message says why (for the audit trail, not the caller)."""


def unverified_header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except (JOSEError, ValueError, TypeError, KeyError, IndexError, UnicodeError) as exc:
        raise TokenError("malformed token") from exc
    if not isinstance(header, dict):
        raise TokenError("malformed header")
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    try:
        claims = jwt.get_unverified_claims(token)
    # UnicodeError is a ValueError; RecursionError comes from deeply nested JSON claims.
    except (JOSEError, ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise TokenError("malformed token") from exc
    if not isinstance(claims, dict):
        raise TokenError("malformed claims")
    return claims


def decode(
    token: str,
    key: dict[str, Any],
    *,
    algorithms: list[str],
    issuer: str,
    audience: str,
    leeway: int,
) -> dict[str, Any]:
    options = {f"require_{claim}": True for claim in REQUIRED_CLAIMS}
    options |= {"verify_nbf": True, "leeway": leeway, "require_jti": False}
    algorithm = unverified_header(token).get("alg")
    if algorithm not in algorithms:
        raise TokenError(f"algorithm {algorithm!r} not allowed")
    try:
        claims = jwt.decode(
            token,
            verification_key(key, algorithm),
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            options=options,
        )
    except (
        JOSEError,
        ValueError,
        TypeError,
        KeyError,
        OverflowError,
        AttributeError,
        RecursionError,  # deeply nested JSON in the payload
    ) as exc:
        raise TokenError(str(exc) or exc.__class__.__name__) from exc
    check_claim_types(claims)
    return claims


def verification_key(key: dict[str, Any], algorithm: str) -> jwk.Key:
    """The JWK as python-jose's key object for ``algorithm``, built once and then reused.

    python-jose would otherwise rebuild the public key from the JWK's coordinates on every
    verification (a tenth of a write request's time in the bench's profile).
    """
    return constructed_key(json.dumps(key, sort_keys=True), algorithm)


@functools.lru_cache(maxsize=64)
def constructed_key(key_json: str, algorithm: str) -> jwk.Key:
    return jwk.construct(json.loads(key_json), algorithm)


def check_claim_types(claims: dict[str, Any]) -> None:
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise TokenError(f"claim {name} is not an integer")
    if not isinstance(claims.get("sub"), str):
        raise TokenError("claim sub is not a string")


def sign(claims: dict[str, Any], private_pem: str, *, kid: str, typ: str = "at+jwt") -> str:
    return jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": kid, "typ": typ})


def sign_payload(payload: bytes, private_pem: str, *, kid: str, typ: str) -> str:
    """A compact JWS over arbitrary bytes (signed documents, not access tokens)."""
    return jws.sign(payload, private_pem, algorithm="ES256", headers={"kid": kid, "typ": typ})


def public_jwk(private_pem: str) -> dict[str, Any]:
    try:
        key = jwk.construct(private_pem, algorithm="ES256").public_key().to_dict()
    except JOSEError as exc:
        raise ValueError(f"not an ES256 private key: {exc}") from exc
    return {name: key[name] for name in ("kty", "crv", "x", "y")}
