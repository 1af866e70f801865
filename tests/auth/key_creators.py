"""Key creators for processes started with ``spawn``: a small module, so they start fast."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.auth import keys
from service.webhooks import signing


def create_signing_key(path: Path, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=60)
    key = keys.load_or_create(path)
    results.put((key.kid, key.private_pem))


def create_secrets_key(path: Path, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=60)
    box = signing.load_or_create_box(None, path)
    results.put(box.seal("probe"))
