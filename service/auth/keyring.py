"""The keys this process signs and verifies with, re-read when their files change.

Replicas share the key files (a volume, or a Kubernetes Secret and ConfigMap) and
``entente keys stage`` and ``rotate`` change them while the service runs. Every use looks at the
files' ``stat`` at most once per ``check_every`` seconds and re-reads them when one changed: a
rotation reaches each replica within seconds, without a restart, and a token naming an unknown
kid costs at most that one check, never a re-read per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from service.auth import keys
from service.auth.keys import RetiredKey, SigningKey, StagedKey
from service.config import Settings

CHECK_EVERY_SECONDS = 5.0
log = structlog.get_logger("entente.keys")
Stamp = tuple[tuple[str, int, int, int], ...]


@dataclass(frozen=True)
class KeySet:
    current: SigningKey
    staged: tuple[StagedKey, ...]  # accepted, never signed with here; never the current key
    retired: tuple[RetiredKey, ...]  # oldest first; never the current key


def load(key_file: Path, retired_dir: Path) -> KeySet:
    current = SigningKey.from_pem(key_file.read_text())
    staged, retired = keys.read_published(retired_dir)
    return KeySet(
        current,
        tuple(key for key in staged if key.kid != current.kid),
        tuple(key for key in retired if key.kid != current.kid),
    )


def stamp_of(key_file: Path, retired_dir: Path) -> Stamp:
    paths = [key_file, *sorted(retired_dir.glob("*.json"))] if retired_dir.is_dir() else [key_file]
    return tuple(file_stamp(path) for path in paths)


def file_stamp(path: Path) -> tuple[str, int, int, int]:
    # The inode matters: a rename (ours) or a Kubernetes volume update brings a new one.
    try:
        status = path.stat()
    except OSError:
        return (str(path), 0, 0, 0)
    return (str(path), status.st_ino, status.st_mtime_ns, status.st_size)


class KeyRing:
    def __init__(
        self,
        key_file: Path,
        retired_dir: Path,
        *,
        publish_days: int,
        check_every: float = CHECK_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key_file = key_file
        self.retired_dir = retired_dir
        self.publish_days = publish_days
        self.check_every = check_every
        self.clock = clock
        self.stamp = stamp_of(key_file, retired_dir)
        self.keys = load(key_file, retired_dir)
        self.checked_at = clock()

    @classmethod
    def open(cls, settings: Settings) -> KeyRing:
        """The configured keys; the current key is created on first start."""
        keys.load_or_create(settings.resolved_signing_key_file)
        return cls(
            settings.resolved_signing_key_file,
            settings.resolved_signing_key_retired_dir,
            publish_days=settings.signing_key_publish_days,
        )

    @property
    def current(self) -> SigningKey:
        """The key that signs everything we issue."""
        return self.fresh().current

    def published(self) -> list[dict[str, Any]]:
        """JWKs of the current key, the staged ones, and the retired ones still in their window.

        A staged key is here before any replica signs with it: a replica that has not yet seen
        the new key file still accepts what an updated one signs.
        """
        keyset = self.fresh()
        now = datetime.now(UTC)
        retired = [key for key in keyset.retired if now < key.published_until(self.publish_days)]
        return [
            keyset.current.jwk(),
            *(key.jwk() for key in keyset.staged),
            *(key.jwk() for key in reversed(retired)),
        ]

    def find(self, kid: str) -> dict[str, Any] | None:
        """The published JWK with this kid: only these verify our tokens."""
        current = self.fresh().current
        if kid == current.kid:  # nearly every token: no need to list the others per request
            return current.jwk()
        return next((jwk for jwk in self.published() if jwk["kid"] == kid), None)

    def fresh(self) -> KeySet:
        now = self.clock()
        if now - self.checked_at >= self.check_every:
            self.checked_at = now
            self.reload_if_changed()
        return self.keys

    def reload_if_changed(self) -> None:
        # The stamp is taken before reading: a file replaced during the read differs next time.
        stamp = stamp_of(self.key_file, self.retired_dir)
        if stamp == self.stamp:
            return
        self.stamp = stamp
        try:
            self.keys = load(self.key_file, self.retired_dir)
        except (OSError, ValueError) as exc:
            log.error("signing keys not reloaded; the previous ones stay", reason=str(exc))
            return
        log.info("signing keys reloaded", current=self.keys.current.kid)
