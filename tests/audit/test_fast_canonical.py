"""The fast path of verification writes every entry byte for byte as ``chain.canonical`` does,
or declines it (then the slow way decides); it never writes one differently."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.audit import stored
from service.audit.chain import canonical, plain_json

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite


def json_values(floats: st.SearchStrategy[float], integers: st.SearchStrategy[int]) -> Any:
    scalars = st.none() | st.booleans() | integers | floats | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )


any_details = st.dictionaries(st.text(), json_values(st.floats(), st.integers()), max_size=6)
# What the service writes: text, small numbers, prices, ratios, nesting, nulls.
usual_details = st.dictionaries(
    st.text(),
    json_values(
        st.floats(min_value=1e-4, max_value=1e15) | st.floats(min_value=-1e15, max_value=-1e-4),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ),
    max_size=6,
)


@dataclass
class Entry:
    seq: int
    at: datetime
    actor_type: str
    actor_id: UUID | None
    actor_name: str | None
    org_id: UUID | None
    action: str
    entity_type: str | None
    entity_id: str | None
    dialogue_id: UUID | None
    request_id: str | None
    client_addr: str | None
    details: dict[str, Any]


def entries(details: st.SearchStrategy[dict]) -> st.SearchStrategy[Entry]:
    maybe_text = st.none() | st.text()
    maybe_uuid = st.none() | st.uuids()
    return st.builds(
        Entry,
        seq=st.integers(min_value=1, max_value=2**62),
        at=st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(UTC)),
        actor_type=st.text(),
        actor_id=maybe_uuid,
        actor_name=maybe_text,
        org_id=maybe_uuid,
        action=st.text(),
        entity_type=maybe_text,
        entity_id=maybe_text,
        dialogue_id=maybe_uuid,
        request_id=maybe_text,
        client_addr=maybe_text,
        details=details.map(plain_json),
    )


PREV = "ab" * 32


def as_stored(entry: Entry) -> tuple:
    """The row as the verification query reads it from SQLite."""
    return (
        entry.seq,
        PREV,
        entry.action,
        entry.actor_id and entry.actor_id.hex,
        entry.actor_name,
        entry.actor_type,
        entry.at.strftime(SQLITE_TIME),
        entry.client_addr,
        json.dumps(entry.details),  # SQLAlchemy's serializer
        entry.dialogue_id and entry.dialogue_id.hex,
        entry.entity_id,
        entry.entity_type,
        entry.org_id and entry.org_id.hex,
        entry.request_id,
        "hash",
    )


def fast(entry: Entry) -> bytes | None:
    try:
        return stored.sqlite_hashed(as_stored(entry), PREV.encode())
    except stored.FAST_ERRORS:
        return None


@settings(max_examples=500, deadline=None)
@given(entry=entries(any_details))
def test_fast_form_is_the_canonical_form_or_none(entry):
    assert fast(entry) in (None, PREV.encode() + canonical(entry))


@settings(max_examples=500, deadline=None)
@given(entry=entries(usual_details))
def test_usual_entries_take_the_fast_path(entry):
    assert fast(entry) == PREV.encode() + canonical(entry)


def json_canonical(details: Any) -> bytes:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=1000, deadline=None)
@given(details=any_details.map(plain_json))
def test_details_are_written_as_json_would_or_declined(details):
    try:
        by_orjson = stored.canonical_details(json.dumps(details).encode())
    except stored.FAST_ERRORS:
        return
    assert by_orjson == json_canonical(details)


@settings(max_examples=1000, deadline=None)
@given(details=usual_details.map(plain_json))
def test_usual_details_are_written_as_json_would(details):
    assert stored.canonical_details(json.dumps(details).encode()) == json_canonical(details)


@pytest.mark.parametrize(
    "value", [1e-05, -3.5e-07, 1e-09, 2**64, -(2**63) - 1, 1e20, float("nan"), float("inf")]
)
def test_numbers_orjson_reads_or_writes_differently_are_declined(value):
    text = json.dumps(plain_json({"n": [value]})).encode()
    with pytest.raises(stored.FAST_ERRORS):
        stored.canonical_details(text)
