"""Issuing our access tokens and verifying any bearer token we are shown."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from service.auth import jwt
from service.auth.jwt import TokenError
from service.auth.keyring import KeyRing
from service.auth.keys import SigningKey
from service.auth.oidc import JwksCache
from service.config import ExternalIssuer, Settings

MAX_TOKEN_BYTES = 8192
OWN_ALGORITHMS = ["ES256"]  # never an HMAC algorithm beside it (RFC 8725 section 3.1)
EXTERNAL_TYPES = {None, "JWT", "at+jwt", "application/at+jwt"}


class ProvenTokens:
    """Our own tokens whose signature and claims have been checked, until they expire.

    A token's signature proves the same thing every time it is checked, and the ECDSA check is
    the dearest part of a request's authentication; so each of our tokens is checked once and
    then recognised by its exact text. Nothing else is skipped: who the caller is, and whether
    they may still act, is read from the database on every request. At most ``size`` tokens
    are kept, the oldest dropped first; the keys that sign them change only with a restart.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.claims: dict[str, tuple[dict[str, Any], float]] = {}

    def get(self, token: str) -> dict[str, Any] | None:
        found = self.claims.get(token)
        if found is None:
            return None
        claims, valid_until = found
        if time.time() > valid_until:
            del self.claims[token]
            return None
        return dict(claims)

    def add(self, token: str, claims: dict[str, Any], valid_until: float) -> None:
        if len(self.claims) >= self.size:
            del self.claims[next(iter(self.claims))]
        self.claims[token] = (dict(claims), valid_until)


@dataclass(frozen=True)
class VerifiedToken:
    claims: dict[str, Any]
    issuer: ExternalIssuer | None  # None: one of ours


class TokenService:
    def __init__(self, settings: Settings, keyring: KeyRing, jwks: JwksCache) -> None:
        self.settings = settings
        self.keyring = keyring
        self.jwks = jwks
        self.external = {issuer.issuer: issuer for issuer in settings.trusted_issuers}
        self.proven = ProvenTokens()

    @property
    def signing_key(self) -> SigningKey:
        """Always the current key; retired keys only verify."""
        return self.keyring.current

    def jwks_document(self) -> dict[str, Any]:
        """The current key and the retired keys still published (ENTENTE_SIGNING_KEY_*)."""
        return {"keys": self.keyring.published()}

    def issue(self, subject: str, *, ttl: int, claims: dict[str, Any]) -> str:
        now = int(time.time())
        payload = {
            **claims,
            "iss": self.settings.token_issuer,
            "aud": self.settings.token_audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid4()),
        }
        key = self.signing_key
        return jwt.sign(payload, key.private_pem, kid=key.kid)

    def sign_document(self, payload: bytes, *, typ: str) -> str:
        """A compact JWS over ``payload`` with the service key, verifiable with our JWKS."""
        key = self.signing_key
        return jwt.sign_payload(payload, key.private_pem, kid=key.kid, typ=typ)

    async def verify(self, token: str) -> VerifiedToken:
        if (claims := self.proven.get(token)) is not None:
            return VerifiedToken(claims, None)
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError("token too large")
        header = jwt.unverified_header(token)
        if "crit" in header:  # RFC 7515 4.1.11: we understand no extension, so none is critical
            raise TokenError("critical header extension not understood")
        issuer = jwt.unverified_claims(token).get("iss")
        if issuer == self.settings.token_issuer:
            claims = self.verify_own(token, header)
            # jose accepts a token up to ``leeway`` seconds past its expiry; so does the cache.
            self.proven.add(token, claims, claims["exp"] + self.settings.token_leeway_seconds)
            return VerifiedToken(claims, None)
        if isinstance(issuer, str) and issuer in self.external:
            external = self.external[issuer]
            return VerifiedToken(await self.verify_external(token, header, external), external)
        raise TokenError("unknown issuer")

    def verify_own(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        if header.get("alg") not in OWN_ALGORITHMS:
            raise TokenError(f"algorithm {header.get('alg')!r} not allowed")
        if header.get("typ") != "at+jwt":
            raise TokenError("not an access token")
        kid = header.get("kid")
        key = self.keyring.find(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenError("unknown key id")
        return self.decode(token, key, OWN_ALGORITHMS, self.settings.token_issuer)

    async def verify_external(
        self, token: str, header: dict[str, Any], issuer: ExternalIssuer
    ) -> dict[str, Any]:
        if header.get("alg") not in issuer.algorithms:
            raise TokenError(f"algorithm {header.get('alg')!r} not allowed")
        if header.get("typ") not in EXTERNAL_TYPES:
            raise TokenError("not an access token")
        kid = header.get("kid")
        key = await self.jwks.key(issuer, kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenError("unknown key id")
        return self.decode(token, key, issuer.algorithms, issuer.issuer, issuer.audience)

    def decode(
        self,
        token: str,
        key: dict[str, Any],
        algorithms: list[str],
        issuer: str,
        audience: str | None = None,
    ) -> dict[str, Any]:
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience or self.settings.token_audience,
            leeway=self.settings.token_leeway_seconds,
        )
