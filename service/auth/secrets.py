"""API client secrets: random, shown once, stored as a SHA-256 digest.

A client secret carries 256 bits of entropy, so a fast digest is enough to make the stored
value useless to a thief (unlike a human password, which needs Argon2's slowness).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_client_id() -> str:
    return "ent_" + secrets.token_urlsafe(12)


def new_client_secret() -> str:
    return "ents_" + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
