"""Every response carries ``X-Request-ID``: the caller's when sane, ours otherwise."""

from __future__ import annotations

import pytest

from tests.api.support import assert_problem

REQUEST_ID = "X-Request-ID"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/api/v1/me"),
        ("GET", "/nowhere"),
        ("DELETE", "/api/v1/me"),
        ("POST", "/oauth/token"),
    ],
)
async def test_every_response_has_a_request_id(client, method, path):
    response = await client.request(method, path)
    assert response.headers[REQUEST_ID]


async def test_successful_response_has_a_request_id(client, world):
    response = await client.get("/api/v1/me", headers=world.officer.headers)
    assert response.status_code == 200
    assert response.headers[REQUEST_ID]


async def test_request_ids_differ_between_requests(client):
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers[REQUEST_ID] != second.headers[REQUEST_ID]


async def test_sane_incoming_id_is_echoed_in_header_and_problem(client):
    incoming = "trace-2024.05_abc-123"
    response = await client.get("/api/v1/me", headers={REQUEST_ID: incoming})
    assert response.headers[REQUEST_ID] == incoming
    assert assert_problem(response, 401)["request_id"] == incoming


@pytest.mark.parametrize(
    "insane",
    ["has spaces in it", "x" * 200, "semi;colon", "<script>", "new\\nline", ""],
    ids=["spaces", "long", "semicolon", "markup", "backslash", "empty"],
)
async def test_insane_incoming_id_is_replaced(client, insane):
    response = await client.get("/api/v1/me", headers={REQUEST_ID: insane})
    replaced = response.headers[REQUEST_ID]
    assert replaced != insane
    assert replaced
    assert assert_problem(response, 401)["request_id"] == replaced
