"""The canonical form of an entry and the chain hash: ``hash = SHA-256(prev_hash ‖ canonical)``.

The canonical form is sorted-key compact JSON with times at microsecond precision in UTC, so the
same entry hashes identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

HASHED_FIELDS = (
    "seq",
    "at",
    "actor_type",
    "actor_id",
    "actor_name",
    "org_id",
    "action",
    "entity_type",
    "entity_id",
    "dialogue_id",
    "request_id",
    "client_addr",
    "details",
)


def timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: Any) -> bytes:
    fields: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(entry, name)
        if isinstance(value, datetime):
            value = timestamp(value)
        elif value is not None and not isinstance(value, int | str | dict | list):
            value = str(value)
        fields[name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def chain_hash(prev_hash: str, entry: Any) -> str:
    return link(prev_hash, canonical(entry).decode())


def link(prev_hash: str, canonical: str) -> str:
    """The hash of an entry whose canonical JSON is ``canonical``, after ``prev_hash``."""
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def plain_json(details: dict[str, Any] | None) -> dict[str, Any]:
    """What the database will give back for ``details``: only JSON-native values."""
    return json.loads(json.dumps(details or {}, default=str), parse_float=jsonb_number)


def jsonb_number(text: str) -> float | int:
    """A number as PostgreSQL's JSONB returns it, so the hash matches the stored entry.

    JSONB writes ``1e+20`` out in full (it comes back an integer) and has no negative zero.
    """
    if "e+" in text:
        return int(Decimal(text))
    return float(text) + 0.0
