"""Rotating the signing key, listing the keys, pruning retired keys past their window.

A rotation first writes the old key's public JWK to ``retired/<kid>.json``, then replaces the
current key file (temp file + rename). A crash between the two leaves the old key current and
also listed as retired, which is harmless; running the rotation again completes it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from service import files
from service.auth import keys
from service.auth.keys import RetiredKey, SigningKey


@dataclass(frozen=True)
class KeyStatus:
    kid: str
    status: str  # current, retired (still published) or expired (prune deletes it)
    retired_at: datetime | None = None
    published_until: datetime | None = None


@contextmanager
def locked(key_file: Path) -> Iterator[None]:
    """One rotation or prune at a time on these files."""
    fd = os.open(key_file.with_name(key_file.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def rotate(
    key_file: Path, retired_dir: Path, *, now: datetime | None = None
) -> tuple[SigningKey, SigningKey]:
    """Retire the current key and put a new one in its place: (old, new)."""
    with locked(key_file):
        old = SigningKey.from_pem(key_file.read_text())
        write_retired(retired_dir, keys.retire(old, at=now or datetime.now(UTC)))
        new = SigningKey.from_pem(keys.generate_pem())
        files.replace(key_file, new.private_pem.encode(), mode=0o600)
    return old, new


def write_retired(retired_dir: Path, key: RetiredKey) -> Path:
    path = retired_dir / f"{key.kid}.json"
    files.replace(path, json.dumps(key.document(), indent=2).encode() + b"\n", mode=0o644)
    return path


def statuses(
    key_file: Path, retired_dir: Path, *, publish_days: int, now: datetime
) -> list[KeyStatus]:
    """The current key, then the retired ones, newest first."""
    current = SigningKey.from_pem(key_file.read_text())
    listed = [KeyStatus(current.kid, "current")]
    for key in reversed(keys.read_retired(retired_dir)):
        if key.kid != current.kid:
            until = key.published_until(publish_days)
            status = "retired" if now < until else "expired"
            listed.append(KeyStatus(key.kid, status, key.retired_at, until))
    return listed


def prune(
    key_file: Path, retired_dir: Path, *, publish_days: int, now: datetime
) -> list[RetiredKey]:
    """Delete the retired keys whose window has passed; the ones deleted."""
    with locked(key_file):
        current = SigningKey.from_pem(key_file.read_text()).kid
        expired = [
            key
            for key in keys.read_retired(retired_dir)
            if key.kid != current and key.published_until(publish_days) <= now
        ]
        for key in expired:
            (retired_dir / f"{key.kid}.json").unlink(missing_ok=True)
    return expired
