"""Lists: pages in a stable order that concatenate to the whole list.

Limits out of range, tampered cursors and cursors of another organization: tests/abuse.
"""

from __future__ import annotations

from tests.api.support import ORGS, new_org

EXTRA_ORGS = 5


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
