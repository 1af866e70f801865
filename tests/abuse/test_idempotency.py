"""SECURITY.md, Input: same ``Idempotency-Key`` + same body → the first answer replayed (nothing
stored again, no second audit entry); another body → 422, ∅. A key is its caller's: another
principal's request with it runs anew. Keys that are not sane text are refused before anything."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.abuse.catalogue import Row, check, params
from tests.abuse.tokens import ATTACKS

ORGS = "/api/v1/organizations"
ORG = {"code": "DE-BAFA", "name": "Federal Office", "country": "DE", "kind": "licensing_authority"}
KEY = {"Idempotency-Key": "create-bafa-1"}
REPLAYED = "idempotent-replayed"
CREATED = {"organization": 1, "idempotency_record": 1}


def create(name: str, body=ORG, status: int = 201, **kwargs) -> Row:
    kwargs.setdefault("headers", KEY)
    if status == 201:
        kwargs.setdefault("stored", CREATED)
        kwargs.setdefault("audit", "organization.created")
    return Row(name, "POST", ORGS, status, json=body, **kwargs)


REPLAY = replace(create("replay"), stored={}, audit=None)
KEPT = {"idempotency_record": 1}  # the answer kept for the key's retries

RETRIES = [
    ("same key and body: the first answer replayed", create("first"), REPLAY, True),
    (
        "same key, another body",
        create("first"),
        create("other body", ORG | {"code": "DE-BMWK"}, 422),
        False,
    ),
    (
        "same key, another path",
        create("first"),
        Row(
            "other path",
            "POST",
            "/api/v1/clients",
            422,
            json={"organization_id": "{host_org}", "name": "System", "scopes": ["permits:read"]},
            headers=KEY,
        ),
        False,
    ),
    (
        "a refusal (409) is kept and replayed",
        create("duplicate", ORG | {"code": "TR-MFA"}, 409, stored=KEPT),
        create("duplicate again", ORG | {"code": "TR-MFA"}, 409),
        True,
    ),
    (
        "an invalid body's 422 is kept and replayed",
        create("invalid", ORG | {"id": "x"}, 422, stored=KEPT),
        create("invalid again", ORG | {"id": "x"}, 422),
        True,
    ),
    (
        "a body that is not JSON (415) claims no key: the JSON retry runs",
        Row(
            "as text",
            "POST",
            ORGS,
            415,
            content=b'{"code": "DE-BAFA"}',
            headers=KEY | {"Content-Type": "text/plain"},
            code="unsupported-media-type",
        ),
        create("as JSON"),
        False,
    ),
    (
        "another principal's request with the key runs anew",
        create("first"),
        create(
            "officer",
            status=403,
            persona="officer",
            stored=KEPT,
            audit="access.denied",
        ),
        False,
    ),
]


@pytest.mark.parametrize(
    ("first", "retry", "replayed"),
    [pytest.param(first, retry, replayed, id=name) for name, first, retry, replayed in RETRIES],
)
async def test_a_retry(scene, first, retry, replayed):
    original = await check(scene, first)
    again = await check(scene, retry)
    assert REPLAYED not in original.headers
    if replayed:
        assert (again.status_code, again.content) == (original.status_code, original.content)
        assert again.headers[REPLAYED] == "true"
        assert again.headers["content-type"] == original.headers["content-type"]
    else:
        assert REPLAYED not in again.headers


def keyed(name: str, key: str | bytes, status: int = 422, **kwargs) -> Row:
    return create(name, headers={"Idempotency-Key": key}, status=status, **kwargs)


KEYS = [
    keyed("key of 256 characters", "k" * 256),
    keyed("key of 255 characters", "k" * 255, 201),
    keyed("blank key", "   "),
    keyed("key with a tab", "create\tbafa"),
    keyed("key with DEL", "create\x7fbafa"),
    keyed("key of UTF-8 bytes", "créer-bafa".encode(), 201),
    Row("key on a GET is ignored", "GET", ORGS, 200, headers=KEY),
    create(
        "key with a forged token",
        status=401,
        auth=lambda scene: ATTACKS["alg none"](scene.app, scene.world),
        audit="auth.token_rejected",
    ),
    create(
        "key on a body over the limit",
        body=ORG | {"name": "x" * 1_048_576},
        status=413,
    ),
]


@pytest.mark.parametrize("row", params(KEYS))
async def test_a_key(scene, row):
    await check(scene, row)
