"""SECURITY.md, Input: sizes, nesting, encodings, types, dates, names → 4xx, never 500, ∅.

A refused body is not an access decision, so it leaves no audit entry: the trail does not move.
Rows write an organization (host admin) or a permit (the authority's officer) unless they say.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.abuse.catalogue import Row, check, params
from tests.abuse.scene import now_iso
from tests.domain import permit_body

ORGS = "/api/v1/organizations"
PERMITS = "/api/v1/dialogues/{dialogue}/permits"
MESSAGES = "/api/v1/consultations/{our_consultation}/messages"
JSON = {"Content-Type": "application/json"}
DEEP = 10_000
LIMIT = 1_048_576  # Settings.max_body_bytes
ORG = {"code": "DE-BAFA", "name": "Federal Office", "country": "DE", "kind": "licensing_authority"}
ORG_TEXT = json.dumps(ORG)


def org(label: str, **override) -> Row:
    return Row(label, "POST", ORGS, 422, json=ORG | override)


def org_bytes(label: str, content: bytes, status: int = 422, **kwargs) -> Row:
    headers = kwargs.pop("headers", JSON)
    return Row(label, "POST", ORGS, status, content=content, headers=headers, **kwargs)


def not_json(media_type: str, content: bytes) -> Row:
    """A body declared as another media type: 415 before it is read, whatever it holds."""
    headers = {"Content-Type": media_type}
    return org_bytes(media_type, content, 415, headers=headers, code="unsupported-media-type")


def permit(label: str, status: int = 422, **override) -> Row:
    return Row(label, "POST", PERMITS, status, "officer", json=permit_body("EXP-5001") | override)


def item(**override) -> list[dict]:
    return [permit_body("x")["items"][0] | override]


def literal(label: str, value: str) -> Row:
    """An organization whose name is the raw JSON ``value`` (what json.dumps would not write)."""
    text = ORG_TEXT.replace('"Federal Office"', value)
    return org_bytes(label, text.encode())


FIELDS = [
    org("name a number", name=123),
    org("name a list", name=["Federal Office"]),
    org("code null", code=None),
    org("kind unknown", kind="empire"),
    org("name too long", name="x" * 201),
    org("name huge", name="x" * 900_000),
    org("name with NUL", name="Federal\x00Office"),
    org("name with BEL", name="Federal\x07Office"),
    org("name blank", name="   "),
    org("country lower case", country="de"),
    org("country three letters", country="DEU"),
    org("code leading hyphen", code="-DE"),
    org("code one letter", code="D"),
    org("code with a space", code="DE BAFA"),
    org("code too long", code="D" * 33),
    org("code fullwidth", code="\uff24\uff25-\uff22\uff21\uff26\uff21"),
    org("code with a NUL", code="DE\x00BAFA"),
    org("key with a NUL", **{"co\x00de": "DE-BAFA"}),
    Row(
        "user roles a string",
        "POST",
        "/api/v1/users",
        422,
        json={
            "organization_id": "{host_org}",
            "username": "new-officer",
            "display_name": "New Officer",
            "password": "a long enough password",
            "roles": "admin",
        },
    ),
    permit("quantity a string", items=item(quantity="2")),
    permit("quantity a fraction", items=item(quantity=2.5)),
    permit("quantity a bool", items=item(quantity=True)),
    permit("quantity beyond int64", items=item(quantity=10**30)),
    permit("quantity zero", items=item(quantity=0)),
    permit("value NaN as a string", items=item(value="NaN")),
    permit("value Infinity as a string", items=item(value="Infinity")),
    permit("value 1e400 as a string", items=item(value="1e400")),
    permit("value negative", items=item(value="-0.01")),
    permit("value three decimals", items=item(value="0.001")),
    permit("value twenty digits", items=item(value="1" * 20)),
    permit("items an object", items={"description": "x"}),
    permit("items empty", items=[]),
    permit("items of null", items=[None]),
    permit("valid_from a number", valid_from=20240101),
    permit("valid_until year 10000", valid_until="10000-01-01"),
    permit("valid_from year 0", valid_from="0000-12-31"),
    permit("valid_until 30 February", valid_until="2030-02-30"),
    permit("valid_from after valid_until", valid_from="2031-01-01", valid_until="2030-01-01"),
    permit("number fullwidth", number="\uff25\uff38\uff30-1"),
    permit("number with a slash first", number="/EXP-1"),
]

DEADLINES = [
    Row(name, "POST", MESSAGES, 422, "officer", json={"body": "Hi", "response_requested_by": value})
    for name, value in [
        ("deadline at the end of time west of UTC", "9999-12-31T23:59:59-14:00"),
        ("deadline before year 1 in UTC", "0001-01-01T00:00:00+14:00"),
        ("deadline in the past", now_iso(-1)),
        ("deadline without a zone", "2099-01-01T00:00:00"),
        ("deadline with a 24h offset", "2099-01-01T00:00:00+24:00"),
        ("deadline a number", 4102444800),
    ]
] + [
    Row(
        "redelivery since before year 1 in UTC",
        "POST",
        "/api/v1/webhooks/{our_webhook}/redeliver-failed",
        422,
        json={"since": "0001-01-01T00:00:00+14:00"},
    ),
    Row(
        "assurance due at the end of time west of UTC",
        "POST",
        "/api/v1/dialogues/{dialogue}/assurances",
        422,
        "officer",
        json={"permit_ids": ["{permit}"], "due_at": "9999-12-31T23:59:59-14:00"},
    ),
]

BODIES = [
    org_bytes("empty", b""),
    org_bytes("truncated", b"{"),
    org_bytes("trailing comma", b'{"code": "DE-BAFA",}'),
    org_bytes("null", b"null"),
    org_bytes("array", b"[]"),
    org_bytes("string", b'"just a string"'),
    org_bytes(
        "bad utf-8",
        ORG_TEXT.replace("Federal Office", "\udcff\udcfe").encode("utf-8", "surrogateescape"),
    ),
    org_bytes("junk", b"\xef\xbb\xbf\xff\xfe\x00"),
    org_bytes("nested arrays", ("[" * DEEP + "]" * DEEP).encode()),
    org_bytes("nested objects", ('{"a":' * DEEP + "1" + "}" * DEEP).encode()),
    org_bytes(
        "nested inside a field",
        ('{"code": "DE-BAFA", "name": ' + "[" * DEEP + "]" * DEEP + "}").encode(),
    ),
    literal("lone surrogate", '"Federal \\ud800 Office"'),
    literal("NaN", "NaN"),
    literal("Infinity", "Infinity"),
    literal("-Infinity", "-Infinity"),
    literal("number beyond a double", "1e999"),
    literal("integer of 5000 digits", "1" * 5000),
    org_bytes(
        "duplicate keys: the last counts, as stored and audited",
        ORG_TEXT.replace("{", '{"code": "XX-FIRST", ', 1).encode(),
        201,
        stored={"organization": 1},
        audit="organization.created",
    ),
    not_json("text/plain", ORG_TEXT.encode()),
    not_json(
        "application/x-www-form-urlencoded", b"code=DE-BAFA&name=Federal+Office&kind=observer"
    ),
    not_json("application/xml", b"<organization/>"),
    not_json(
        "multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data; name=code"
    ),
    not_json("TEXT/PLAIN; charset=utf-8", ORG_TEXT.encode()),
    org_bytes(
        "JSON with a charset parameter",
        ORG_TEXT.encode(),
        201,
        headers={"Content-Type": "application/json; charset=utf-8"},
        stored={"organization": 1},
        audit="organization.created",
    ),
    org_bytes(
        "over the limit by content-length",
        json.dumps(ORG | {"name": "x" * LIMIT}).encode(),
        413,
        code="too-large",
    ),
]


async def over_the_limit():
    yield ORG_TEXT[:-1].encode() + b","
    for _ in range(LIMIT // 65_536 + 1):
        yield b" " * 65_536
    yield b'"x": 1}'


async def under_the_limit():
    yield ORG_TEXT.encode()


SIZES = [
    org_bytes("over the limit sent chunked", over_the_limit, 413, code="too-large"),
    Row(
        "under the limit sent chunked",
        "POST",
        ORGS,
        201,
        content=under_the_limit,
        headers=JSON,
        stored={"organization": 1},
        audit="organization.created",
    ),
    Row(
        "huge X-Request-ID",
        "GET",
        "/api/v1/me",
        200,
        headers={"X-Request-ID": "r" * 100_000},
    ),
    org_bytes(
        "huge authorization header",
        ORG_TEXT.encode(),
        401,
        headers=JSON | {"Authorization": "Bearer " + "a" * 1_000_000},
        audit="auth.token_rejected",
    ),
]

NAMES = [
    Row("organization code in other case", "POST", ORGS, 409, json=ORG | {"code": "tr-mfa"}),
    Row(
        "username in other case",
        "POST",
        "/api/v1/users",
        409,
        json={
            "organization_id": "{host_org}",
            "username": "OFFICER",
            "display_name": "Twin",
            "password": "a long enough password",
            "roles": ["officer"],
        },
    ),
    permit("permit number in other case", 409, number="ours-0001"),
]

PATHS = [
    Row(f"{name} as a permit id", "GET", f"/api/v1/permits/{value}", 422, "officer")
    for name, value in [
        ("a word", "not-a-uuid"),
        ("an integer", "1"),
        ("a NUL", "%00"),
        ("a uuid with a suffix", f"{uuid.uuid4()}x"),
        ("a 5000-character id", "a" * 5000),
    ]
] + [
    Row(
        "nil uuid as a permit id",
        "GET",
        "/api/v1/permits/00000000-0000-0000-0000-000000000000",
        404,
        "officer",
        audit="access.denied",
    ),
    Row(
        "a braced uuid as a permit id: the same uuid",
        "GET",
        "/api/v1/permits/{{" + str(uuid.uuid4()) + "}}",
        404,
        "officer",
        audit="access.denied",
    ),
    Row("TRACE", "TRACE", ORGS, 405),
    Row("PUT on a collection", "PUT", ORGS, 405, json=ORG),
    Row("DELETE an organization", "DELETE", "/api/v1/organizations/{tr_org}", 405),
]


@pytest.mark.parametrize("row", params(FIELDS + DEADLINES + BODIES + SIZES + NAMES + PATHS))
async def test_input(scene, row):
    await check(scene, row)
