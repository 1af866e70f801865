"""Webhook secrets and Standard Webhooks signatures.

A secret is ``whsec_`` + base64 of 32 random bytes, shown to its owner once. The worker needs the
secret itself to sign (HMAC), so unlike passwords and client secrets it cannot be stored as a
digest; it is stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key that lives outside
the database (``ENTENTE_SECRETS_KEY``, or a 0600 file in the data directory shared by replicas).
A database dump alone therefore reveals no webhook secret.

Signatures are made by the ``standardwebhooks`` package, the specification's own implementation:
``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, and during a
rotation's overlap it carries one signature per secret, separated by a space.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from standardwebhooks import Webhook

from service import files
from service.config import Settings

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class SecretBox:
    """Encrypts secrets for storage: webhook secrets, and stored answers that may carry one."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        return self.open_bytes(sealed.encode()).decode()

    def seal_bytes(self, plain: bytes) -> bytes:
        return self._fernet.encrypt(plain)

    def open_bytes(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise RuntimeError(
                "a webhook secret cannot be decrypted: ENTENTE_SECRETS_KEY (or its file) "
                "differs from the key it was stored with"
            ) from exc


def box_for(settings: Settings) -> SecretBox:
    key = settings.secrets_key.get_secret_value() if settings.secrets_key else None
    return load_or_create_box(key, settings.resolved_secrets_key_file)


def load_or_create_box(key: str | None, path: Path) -> SecretBox:
    """The configured key, else the key file (created 0600 on first start, whole and once)."""
    if key:
        return SecretBox(key.encode())
    return SecretBox(files.create_once(path, Fernet.generate_key).strip())


def signature_header(
    secrets_in_use: Sequence[str], message_id: str, timestamp: datetime, body: str
) -> str:
    """The ``webhook-signature`` value: one ``v1,`` signature per secret in use."""
    return " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
        for secret in secrets_in_use
    )
