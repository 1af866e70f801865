"""The service's ES256 signing key: created on first start, shared by all replicas via its file.

The key file is written with mode 0600 and created exclusively, so replicas starting together
end up with one key. Its ``kid`` is the RFC 7638 thumbprint of the public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.auth import jwt


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
        return {**self.public, "kid": self.kid, "alg": "ES256", "use": "sig"}


def thumbprint(public: dict[str, Any]) -> str:
    members = {name: public[name] for name in ("crv", "kty", "x", "y")}
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
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SigningKey.from_pem(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_pem())
    return SigningKey.from_pem(path.read_text())
