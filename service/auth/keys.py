"""The service's ES256 signing keys: the current one (private), the others public only.

The current key file is created on first start (mode 0600), whole and exclusively (a temp file
linked into place), so replicas starting together end up with one key and never read a
half-written file. A ``kid`` is the RFC 7638 thumbprint of the public key.

The retired directory holds a ``<kid>.json`` per key published beside the current one: its
public JWK plus a ``status``:

- ``"next"``: staged by ``entente keys stage``. Published and accepted at once, signed with only
  after ``entente keys rotate`` makes it current, so every replica knows it before any signs.
- ``"current"``: the public half of a key file; it lets a replica that has the new directory
  but still the old key file (or the reverse) accept both keys while a rotation spreads.
- ``"retired"`` with ``retired_at``: published for a while after it stopped signing, because
  notices signed with it are verified long after they were issued. A file without ``status``
  is a retired one (the format before staging).

Neither ``next`` nor ``current`` expires; only a retired key's window runs out.
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
        moment = self.retired_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        return {**self.jwk(), "status": "retired", "retired_at": moment}


@dataclass(frozen=True)
class StagedKey:
    """A key published without an end: the staged next key, or a current key's public half."""

    kid: str
    public: dict[str, Any]
    status: str  # "next" or "current"; only the key file decides which key signs

    def jwk(self) -> dict[str, Any]:
        return published_jwk(self.public, self.kid)

    def document(self) -> dict[str, Any]:
        """The content of its ``<kid>.json``: the public JWK and its status."""
        return {**self.jwk(), "status": self.status}


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


def staged(key: SigningKey, status: str) -> StagedKey:
    return StagedKey(kid=key.kid, public=key.public, status=status)


def read_published(directory: Path) -> tuple[list[StagedKey], list[RetiredKey]]:
    """The key files in ``directory`` (absent: none): staged, and retired oldest first.

    A bad file is skipped, so one mistake in a ConfigMap cannot take the other keys down.
    """
    if not directory.is_dir():
        return [], []
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append(parse_published(path))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("published key file skipped", path=str(path), reason=str(exc))
    staged_keys = [key for key in found if isinstance(key, StagedKey)]
    retired = [key for key in found if isinstance(key, RetiredKey)]
    return staged_keys, sorted(retired, key=lambda key: key.retired_at)


def read_retired(directory: Path) -> list[RetiredKey]:
    """The retired keys in ``directory``, oldest first."""
    return read_published(directory)[1]


def parse_published(path: Path) -> StagedKey | RetiredKey:
    document = json.loads(path.read_text())
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    if "d" in document:  # a private key must never reach a public directory or our JWKS
        raise ValueError("holds a private key; a published key file holds the public JWK only")
    public = {name: document[name] for name in PUBLIC_MEMBERS}
    check_public(public)
    kid = thumbprint(public)
    if document.get("kid", kid) != kid or path.stem != kid:
        raise ValueError(f"kid and file name must be the key's thumbprint {kid}")
    status = document.get("status", "retired")
    if status == "retired":
        return RetiredKey(kid=kid, public=public, retired_at=parse_time(document["retired_at"]))
    if status not in ("next", "current"):
        raise ValueError(f"unknown status {status!r}")
    if "retired_at" in document:
        raise ValueError(f"a {status} key has no retired_at")
    return StagedKey(kid=kid, public=public, status=status)


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
