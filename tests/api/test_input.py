"""Hostile or malformed input is refused with 4xx problem details, and nothing is stored."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.api.support import ORGS, assert_problem, count_orgs, count_users, new_org
from tests.factories import PASSWORD

JSON = {"Content-Type": "application/json"}
DEEP = 10_000


async def post_org_refused(app, client, world, status: int = 422, **kwargs) -> dict:
    """POST an organization as the host admin; assert the problem and that nothing was stored."""
    before = await count_orgs(app)
    headers = world.host_admin.headers | kwargs.pop("headers", {})
    response = await client.post(ORGS, headers=headers, **kwargs)
    body = assert_problem(response, status)
    assert await count_orgs(app) == before
    return body


@pytest.mark.parametrize(
    "extra",
    [
        {"is_host": True},
        {"id": str(uuid.uuid4())},
        {"active": False},
        {"created_at": "2020-01-01T00:00:00Z"},
    ],
    ids=["is_host", "id", "active", "created_at"],
)
async def test_server_owned_fields_cannot_be_set(app, client, world, extra):
    body = await post_org_refused(app, client, world, json=new_org() | extra)
    assert [error["loc"] for error in body["errors"]] == [["body", next(iter(extra))]]


@pytest.mark.parametrize(
    "override",
    [
        {"name": 123},
        {"name": ["Federal Office"]},
        {"code": None},
        {"kind": "empire"},
        {"name": "x" * 201},
        {"name": "Federal\x00Office"},
        {"name": "Federal\x07Office"},
        {"name": "   "},
        {"country": "de"},
        {"country": "DEU"},
        {"code": "-DE"},
        {"code": "D"},
        {"code": "DE BAFA"},
        {"code": "D" * 33},
    ],
)
async def test_invalid_organization_fields(app, client, world, override):
    await post_org_refused(app, client, world, json=new_org() | override)


async def test_wrong_type_for_roles(app, client, world):
    before = await count_users(app)
    user = {
        "organization_id": str(world.orgs["CA-GAC"].id),
        "username": "new-officer",
        "display_name": "New Officer",
        "password": PASSWORD,
        "roles": "admin",
    }
    response = await client.post("/api/v1/users", json=user, headers=world.host_admin.headers)
    assert_problem(response, 422)
    assert await count_users(app) == before


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"code": "DE-BAFA",}',
        b"null",
        b"[]",
        b'"just a string"',
        b'{"code": "DE-BAFA", "name": "\xff\xfe", "country": "DE", "kind": "observer"}',
        b"\xef\xbb\xbf\xff\xfe\x00",
    ],
    ids=["empty", "truncated", "trailing-comma", "null", "array", "string", "bad-utf8", "junk"],
)
async def test_malformed_bodies(app, client, world, content):
    await post_org_refused(app, client, world, content=content, headers=JSON)


@pytest.mark.parametrize(
    "content",
    [
        "[" * DEEP + "]" * DEEP,
        '{"a":' * DEEP + "1" + "}" * DEEP,
        '{"code": "DE-BAFA", "name": ' + "[" * DEEP + "]" * DEEP + "}",
    ],
    ids=["arrays", "objects", "inside-a-field"],
)
async def test_deeply_nested_json_is_refused(app, client, world, content):
    await post_org_refused(app, client, world, content=content.encode(), headers=JSON)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_are_refused(app, client, world, literal):
    text = json.dumps(new_org()).replace('"Federal Office"', literal)
    await post_org_refused(app, client, world, content=text.encode(), headers=JSON)


async def test_body_over_the_limit_by_content_length(app, client, world, settings):
    padding = "x" * settings.max_body_bytes
    content = json.dumps(new_org(name=padding)).encode()
    body = await post_org_refused(app, client, world, 413, content=content, headers=JSON)
    assert body["code"] == "too-large"


async def test_body_over_the_limit_sent_chunked(app, client, world, settings):
    chunk = b" " * 65_536

    async def stream():
        yield b'{"code": "DE-BAFA", "name": "Federal Office", "country": "DE",'
        for _ in range(settings.max_body_bytes // len(chunk) + 1):
            yield chunk
        yield b'"kind": "observer"}'

    body = await post_org_refused(app, client, world, 413, content=stream(), headers=JSON)
    assert body["code"] == "too-large"


async def test_chunked_body_under_the_limit_is_accepted(app, client, world):
    async def stream():
        yield json.dumps(new_org()).encode()

    response = await client.post(ORGS, content=stream(), headers=world.host_admin.headers | JSON)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1e3"])
async def test_limit_out_of_range(client, world, limit):
    response = await client.get(ORGS, params={"limit": limit}, headers=world.host_admin.headers)
    assert_problem(response, 422)


async def test_every_operation_with_a_body_documents_its_413(app):
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)
