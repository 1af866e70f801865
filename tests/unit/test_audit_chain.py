"""The canonical form and chain hash: every hashed field counts, representation does not."""

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from service.audit.chain import HASHED_FIELDS, canonical, chain_hash, plain_json
from service.audit.models import GENESIS_HASH, AuditEntry

PREV = "ab" * 32


@dataclass(frozen=True)
class Entry:
    seq: int = 7
    at: datetime = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    actor_type: str = "user"
    actor_id: UUID | None = field(default_factory=lambda: UUID(int=1))
    actor_name: str | None = "officer"
    org_id: UUID | None = field(default_factory=lambda: UUID(int=2))
    action: str = "notice.issued"
    entity_type: str | None = "decision_notice"
    entity_id: str | None = "notice-1"
    dialogue_id: UUID | None = field(default_factory=lambda: UUID(int=3))
    request_id: str | None = "req-1"
    client_addr: str | None = "10.0.0.1"
    details: dict[str, Any] = field(default_factory=lambda: {"permits": ["P-1"], "kind": "x"})


CHANGED: dict[str, Any] = {
    "seq": 8,
    "at": datetime(2026, 3, 1, 12, 30, 15, 123457, tzinfo=UTC),
    "actor_type": "client",
    "actor_id": UUID(int=11),
    "actor_name": "approver",
    "org_id": UUID(int=12),
    "action": "notice.acknowledged",
    "entity_type": "permit",
    "entity_id": "notice-2",
    "dialogue_id": None,
    "request_id": "req-2",
    "client_addr": "10.0.0.2",
    "details": {"permits": ["P-2"], "kind": "x"},
}


def test_every_hashed_field_has_a_change_below():
    assert set(CHANGED) == set(HASHED_FIELDS)


@pytest.mark.parametrize("name", HASHED_FIELDS)
def test_changing_any_hashed_field_changes_the_hash(name):
    original = Entry()
    assert chain_hash(PREV, replace(original, **{name: CHANGED[name]})) != chain_hash(
        PREV, original
    )


def test_predecessor_is_part_of_the_hash():
    assert chain_hash(GENESIS_HASH, Entry()) != chain_hash(PREV, Entry())


def test_hash_is_sha256_hex():
    digest = chain_hash(PREV, Entry())
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_key_order_of_details_does_not_matter():
    first = Entry(details={"a": 1, "b": {"y": 2, "x": 1}})
    second = Entry(details={"b": {"x": 1, "y": 2}, "a": 1})
    assert canonical(first) == canonical(second)
    assert chain_hash(PREV, first) == chain_hash(PREV, second)


def test_same_instant_in_another_zone_hashes_the_same():
    utc = datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)
    paris_summer = utc.astimezone(timezone(timedelta(hours=2)))
    assert paris_summer.hour == 12
    assert chain_hash(PREV, Entry(at=utc)) == chain_hash(PREV, Entry(at=paris_summer))


def test_times_are_hashed_to_the_microsecond():
    utc = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
    later = utc + timedelta(microseconds=1)
    assert chain_hash(PREV, Entry(at=utc)) != chain_hash(PREV, Entry(at=later))


def test_uuid_and_its_text_hash_the_same():
    some = uuid4()
    assert canonical(Entry(actor_id=some)) == canonical(Entry(actor_id=str(some)))


def test_canonical_form_is_compact_sorted_json():
    decoded = json.loads(canonical(Entry()))
    assert list(decoded) == sorted(HASHED_FIELDS)
    assert decoded["at"] == "2026-03-01T12:30:15.123456Z"
    assert b" " not in canonical(Entry(details={}))


def test_non_ascii_is_hashed_as_utf8():
    name = "T\u00fcrkiye D\u0131\u015fi\u015fleri"
    assert name.encode() in canonical(Entry(details={"name": name}))


def test_details_are_kept_in_the_form_postgresql_returns():
    stored = plain_json({"big": 1e20, "zero": -0.0, "share": 0.1, "when": UUID(int=5)})
    assert stored == {"big": 10**20, "zero": 0.0, "share": 0.1, "when": str(UUID(int=5))}
    assert isinstance(stored["big"], int)
    assert str(stored["zero"]) == "0.0"


def test_a_model_row_hashes_like_the_plain_entry():
    plain = Entry()
    row = AuditEntry(**{name: getattr(plain, name) for name in HASHED_FIELDS})
    assert chain_hash(PREV, row) == chain_hash(PREV, plain)
