"""Keys of trusted external OpenID Connect issuers, fetched with httpx and cached.

A token naming a ``kid`` we have not seen makes us fetch the issuer's JWKS again (the issuer may
have rotated), but not more often than ``jwks_min_refresh_seconds``, so a stream of forged
``kid`` values cannot turn us into a client that hammers the issuer.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from service.config import ExternalIssuer
from service.errors import Unavailable


@dataclass
class CachedKeys:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float = float("-inf")


class JwksCache:
    def __init__(self, *, ttl: float, min_refresh: float, http: httpx.AsyncClient) -> None:
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.http = http
        self.cache: dict[str, CachedKeys] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    async def key(self, issuer: ExternalIssuer, kid: str) -> dict[str, Any] | None:
        entry = self.cache.setdefault(issuer.issuer, CachedKeys())
        age = time.monotonic() - entry.fetched_at
        if age > self.ttl or (kid not in entry.keys and age > self.min_refresh):
            await self.refresh(issuer, entry)
        return entry.keys.get(kid)

    async def refresh(self, issuer: ExternalIssuer, entry: CachedKeys) -> None:
        lock = self.locks.setdefault(issuer.issuer, asyncio.Lock())
        async with lock:
            if time.monotonic() - entry.fetched_at <= self.min_refresh:
                return  # another request refreshed while we waited
            try:
                entry.keys = await self.fetch(issuer)
            except (httpx.HTTPError, ValueError) as exc:
                if not entry.keys:
                    raise Unavailable("The token issuer's keys cannot be fetched.") from exc
            entry.fetched_at = time.monotonic()

    async def fetch(self, issuer: ExternalIssuer) -> dict[str, dict[str, Any]]:
        response = await self.http.get(str(issuer.jwks_url))
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("keys"), list):
            raise ValueError("not a JWKS document")
        return {
            key["kid"]: key
            for key in body["keys"]
            if isinstance(key, dict) and isinstance(key.get("kid"), str) and is_signing_key(key)
        }


def is_signing_key(key: dict[str, Any]) -> bool:
    # Symmetric ("oct") keys are never accepted from a published JWKS.
    return key.get("kty") in {"RSA", "EC"} and key.get("use", "sig") == "sig"
