"""Lists: ``?limit=`` and opaque cursors, stable order, only the caller's rows."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.api.support import ORGS, assert_problem, new_org

EXTRA_ORGS = 5


def forge(value: object) -> str:
    """A cursor in this service's format (base64 of JSON) around arbitrary content."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def all_pages(client, path: str, headers: dict, limit: int) -> list[dict]:
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert page["items"], "a page with a next_cursor must not be empty"
    raise AssertionError("pagination did not end")


async def test_pages_concatenate_to_the_full_list(client, world):
    for number in range(EXTRA_ORGS):
        body = new_org(f"XX-ORG{number}", name=f"Organization {number}")
        response = await client.post(ORGS, json=body, headers=world.host_admin.headers)
        assert response.status_code == 201, response.text
    headers = world.host_admin.headers
    full = (await client.get(ORGS, params={"limit": 200}, headers=headers)).json()
    assert full["next_cursor"] is None
    assert len(full["items"]) == len(world.orgs) + EXTRA_ORGS

    paged = await all_pages(client, ORGS, headers, limit=2)
    ids = [org["id"] for org in paged]
    assert ids == [org["id"] for org in full["items"]]
    assert len(set(ids)) == len(ids)
    assert await all_pages(client, ORGS, headers, limit=2) == paged


async def test_last_page_has_no_next_cursor(client, world):
    total = len(world.orgs)
    response = await client.get(ORGS, params={"limit": total}, headers=world.host_admin.headers)
    assert len(response.json()["items"]) == total
    assert response.json()["next_cursor"] is None


TAMPERED = {
    "not-base64": "!!!not-base64!!!",
    "non-ascii": "é",
    "one-char": "a",
    "null": forge(None),
    "object": forge({}),
    "string": forge("ab"),
    "numbers": forge([1, 2]),
    "bad-uuid": forge(["2024-01-01T00:00:00+00:00", "not-a-uuid"]),
    "bad-time": forge(["yesterday", str(uuid.uuid4())]),
    "naive-time": forge(["2024-01-01T00:00:00", str(uuid.uuid4())]),
    "three-parts": forge(["2024-01-01T00:00:00+00:00", str(uuid.uuid4()), "extra"]),
    "numeric-id": forge(["2024-01-01T00:00:00+00:00", 123]),
    "list-id": forge(["2024-01-01T00:00:00+00:00", ["x"]]),
    "after-year-9999": forge(["9999-12-31T23:59:59-14:00", str(uuid.uuid4())]),
    "before-year-1": forge(["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
    "too-long": "A" * 201,
}


@pytest.mark.parametrize("cursor", TAMPERED.values(), ids=TAMPERED.keys())
async def test_tampered_cursor_is_refused(client, world, cursor):
    response = await client.get(ORGS, params={"cursor": cursor}, headers=world.host_admin.headers)
    assert_problem(response, 422)


async def test_cursor_from_another_organization_shows_only_your_rows(client, world):
    host_page = await client.get(
        "/api/v1/users", params={"limit": 1}, headers=world.host_admin.headers
    )
    cursor = host_page.json()["next_cursor"]
    assert cursor is not None

    other = world.other_admin
    response = await client.get("/api/v1/users", params={"cursor": cursor}, headers=other.headers)
    assert response.status_code == 200, response.text
    orgs = {user["organization_id"] for user in response.json()["items"]}
    assert orgs <= {str(other.principal.org_id)}


async def test_organization_cursor_reused_by_another_party(client, world):
    host_page = await client.get(ORGS, params={"limit": 1}, headers=world.host_admin.headers)
    cursor = host_page.json()["next_cursor"]
    headers = world.other_admin.headers
    visible = {org["id"] for org in (await client.get(ORGS, headers=headers)).json()["items"]}
    response = await client.get(ORGS, params={"cursor": cursor}, headers=headers)
    assert response.status_code == 200, response.text
    assert {org["id"] for org in response.json()["items"]} <= visible
