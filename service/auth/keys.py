"""The service's ES256 signing keys: the current one (private) and retired ones (public only).

The current key file is created on first start (mode 0600), whole and exclusively (a temp file
linked into place), so replicas starting together end up with one key and never read a
half-written file. A ``kid`` is the RFC 7638 thumbprint of the public key.

A retired key is ``<kid>.json`` in the retired directory: its public JWK plus ``retired_at``.
It stays published in our JWKS for a while, because notices signed with it are verified long
after they were issued.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service import files
from service.auth import jwt

PUBLIC_MEMBERS = ("kty", "crv", "x", "y")
log = structlog.get_logger("entente.keys")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str
    public: dict[str, Any]

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        public = jwt.public_jwk(pem)
        return cls(kid=thumbprint(public), private_pem=pem, public=public)

    def jwk(self) -> dict[str, Any]:
        return published_jwk(self.public, self.kid)


@dataclass(frozen=True)
class RetiredKey:
    kid: str
    public: dict[str, Any]
    retired_at: datetime

    def jwk(self) -> dict[str, Any]:
        return published_jwk(self.public, self.kid)

    def published_until(self, days: int) -> datetime:
        return self.retired_at + timedelta(days=days)

    def document(self) -> dict[str, Any]:
        """The content of its ``<kid>.json``: the public JWK and when it was retired."""
        return {**self.jwk(), "retired_at": self.retired_at.strftime("%Y-%m-%dT%H:%M:%SZ")}


def published_jwk(public: dict[str, Any], kid: str) -> dict[str, Any]:
    return {**public, "kid": kid, "alg": "ES256", "use": "sig"}


def thumbprint(public: dict[str, Any]) -> str:
    members = {name: public[name] for name in PUBLIC_MEMBERS}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def generate_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_or_create(path: Path) -> SigningKey:
    return SigningKey.from_pem(files.create_once(path, lambda: generate_pem().encode()).decode())


def retire(key: SigningKey, *, at: datetime) -> RetiredKey:
    return RetiredKey(kid=key.kid, public=key.public, retired_at=at.astimezone(UTC))


def read_retired(directory: Path) -> list[RetiredKey]:
    """The retired keys in ``directory`` (absent: none), oldest first; a bad file is skipped."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append(parse_retired(path))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("retired key file skipped", path=str(path), reason=str(exc))
    return sorted(found, key=lambda key: key.retired_at)


def parse_retired(path: Path) -> RetiredKey:
    document = json.loads(path.read_text())
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if "d" in document:  # a private key must never reach a public directory or our JWKS
        raise ValueError("holds a private key; a retired key file holds the public JWK only")
    public = {name: document[name] for name in PUBLIC_MEMBERS}
    check_public(public)
    kid = thumbprint(public)
    if document.get("kid", kid) != kid or path.stem != kid:
        raise ValueError(f"kid and file name must be the key's thumbprint {kid}")
    return RetiredKey(kid=kid, public=public, retired_at=parse_time(document["retired_at"]))


def check_public(public: dict[str, Any]) -> None:
    if (public["kty"], public["crv"]) != ("EC", "P-256"):
        raise ValueError("not an EC P-256 key")
    x, y = (int.from_bytes(decode_b64url(public[name]), "big") for name in ("x", "y"))
    ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()  # raises off the curve


def decode_b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
