"""Staging and rotating the signing key, listing the keys, pruning retired keys past their window.

Replicas may see the key file and the retired directory change at different times (a Kubernetes
Secret and ConfigMap each reach a pod within about a minute). So a rotation is staged: ``stage``
creates the next key beside the key file (``<key file>.next``, private) and publishes its public
JWK as ``retired/<kid>.json`` with status ``next``, which every replica accepts but none signs
with; ``rotate`` then promotes it. Once every replica has the next key, tokens signed by a
replica that already promoted it verify everywhere. ``stage`` also publishes the current key's
public JWK (status ``current``) if it has no file yet, so that during the promotion a replica
holding the new key file but the old directory still accepts the old key.

``rotate`` first writes the old key's public JWK as retired, then renames the staged file over
the key file (or, with nothing staged, writes a new key there). A crash between the two leaves
the old key current and also listed as retired, which is harmless; running ``rotate`` again
completes it.
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
from service.auth.keys import RetiredKey, SigningKey, StagedKey


@dataclass(frozen=True)
class KeyStatus:
    kid: str
    status: str  # current, next (staged), retired (still published) or expired (prune deletes it)
    retired_at: datetime | None = None
    published_until: datetime | None = None


@dataclass(frozen=True)
class Staging:
    key: SigningKey
    written: list[Path]  # public key files written; none: it was staged already


@dataclass(frozen=True)
class Rotation:
    old: SigningKey
    new: SigningKey
    staged: bool  # False: generated and switched to at once


@contextmanager
def locked(key_file: Path) -> Iterator[None]:
    """One stage, rotation or prune at a time on these files."""
    fd = os.open(key_file.with_name(key_file.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def next_file(key_file: Path) -> Path:
    return key_file.with_name(key_file.name + ".next")


def stage(key_file: Path, retired_dir: Path) -> Staging:
    """Create and publish the next key; if one is staged already, only complete its files."""
    with locked(key_file):
        current = SigningKey.from_pem(key_file.read_text())
        pem = files.create_once(next_file(key_file), lambda: keys.generate_pem().encode())
        upcoming = SigningKey.from_pem(pem.decode())
        check_not_current(key_file, upcoming, current)
        written = []
        for key in (keys.staged(current, "current"), keys.staged(upcoming, "next")):
            if not (retired_dir / f"{key.kid}.json").exists():
                written.append(write_published(retired_dir, key))
    return Staging(upcoming, written)


def rotate(key_file: Path, retired_dir: Path, *, now: datetime | None = None) -> Rotation:
    """Retire the current key and promote the staged one (none staged: a new one) in its place."""
    with locked(key_file):
        old = SigningKey.from_pem(key_file.read_text())
        upcoming = staged_key(key_file)
        if upcoming is not None:
            check_not_current(key_file, upcoming, old)
        write_published(retired_dir, keys.retire(old, at=now or datetime.now(UTC)))
        if upcoming is None:
            new = SigningKey.from_pem(keys.generate_pem())
            files.replace(key_file, new.private_pem.encode(), mode=0o600)
            return Rotation(old, new, staged=False)
        write_published(retired_dir, keys.staged(upcoming, "current"))
        # One rename: the staged file (whole, 0600) becomes the key file and is gone as .next.
        files.move(next_file(key_file), key_file)
    return Rotation(old, upcoming, staged=True)


def staged_key(key_file: Path) -> SigningKey | None:
    path = next_file(key_file)
    return SigningKey.from_pem(path.read_text()) if path.exists() else None


def check_not_current(key_file: Path, upcoming: SigningKey, current: SigningKey) -> None:
    if upcoming.kid == current.kid:
        raise ValueError(f"{next_file(key_file)} holds the current key; delete it")


def write_published(retired_dir: Path, key: StagedKey | RetiredKey) -> Path:
    path = retired_dir / f"{key.kid}.json"
    files.replace(path, json.dumps(key.document(), indent=2).encode() + b"\n", mode=0o644)
    return path


def statuses(
    key_file: Path, retired_dir: Path, *, publish_days: int, now: datetime
) -> list[KeyStatus]:
    """The current key, the staged ones, then the retired ones, newest first."""
    current = SigningKey.from_pem(key_file.read_text())
    staged, retired = keys.read_published(retired_dir)
    listed = [KeyStatus(current.kid, "current")]
    listed += [KeyStatus(key.kid, "next") for key in staged if key.kid != current.kid]
    for key in reversed(retired):
        if key.kid != current.kid:
            until = key.published_until(publish_days)
            status = "retired" if now < until else "expired"
            listed.append(KeyStatus(key.kid, status, key.retired_at, until))
    return listed


def prune(
    key_file: Path, retired_dir: Path, *, publish_days: int, now: datetime
) -> list[RetiredKey]:
    """Delete the retired keys whose window has passed (never a staged one); the ones deleted."""
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
