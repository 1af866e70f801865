"""Listing a dialogue's permits: filters, stable pages, and nothing from other dialogues."""

from __future__ import annotations

from tests.api.support import assert_problem
from tests.domain import add_permits, permit_body
from tests.factories import client_persona
from tests.permits.helpers import permits_url, register


async def listed(client, world, persona, **params) -> list[str]:
    response = await client.get(permits_url(world), params=params, headers=persona.headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return [item["number"] for item in response.json()["items"]]


async def test_every_permit_of_the_dialogue_oldest_first(client, world, app):
    await add_permits(app, world, 3)
    assert (await register(client, world, world.officer, "LATE-1")).status_code == 201
    expected = ["EXP-0001", "EXP-0002", "EXP-0003", "LATE-1"]
    assert await listed(client, world, world.cbsa_officer) == expected


async def test_permits_of_other_dialogues_are_absent(client, world, app):
    await add_permits(app, world, 2)
    gb_system = await client_persona(app, world, "GB-ECJU", ["permits:read", "permits:write"])
    response = await client.post(
        permits_url(world, world.other_dialogue_id),
        json=permit_body("GB-1"),
        headers=gb_system.headers,
    )
    assert response.status_code == 201, response.text
    assert await listed(client, world, world.officer) == ["EXP-0001", "EXP-0002"]
    other = await client.get(permits_url(world, world.other_dialogue_id), headers=gb_system.headers)
    assert [item["number"] for item in other.json()["items"]] == ["GB-1"]


async def test_filter_by_status(client, world, app):
    await add_permits(app, world, 2)
    await add_permits(app, world, 2, status="suspended", prefix="SUS")
    assert await listed(client, world, world.officer, status="suspended") == [
        "SUS-0001",
        "SUS-0002",
    ]
    assert await listed(client, world, world.officer, status="cancelled") == []


async def test_an_unknown_status_is_invalid_input(client, world, app):
    response = await client.get(
        permits_url(world), params={"status": "revoked"}, headers=world.officer.headers
    )
    assert_problem(response, 422)


async def test_filter_by_number_is_exact_regardless_of_case(client, world, app):
    await add_permits(app, world, 12)
    assert await listed(client, world, world.officer, number="exp-0001") == ["EXP-0001"]
    assert await listed(client, world, world.officer, number="EXP-001") == []


async def test_filter_by_exporter_is_a_substring_in_any_case(client, world, app):
    await add_permits(app, world, 1)
    body = permit_body("ANO-1", exporter="Anodyne Lens 50% Ltd")
    assert (
        await client.post(permits_url(world), json=body, headers=world.officer.headers)
    ).is_success
    assert await listed(client, world, world.officer, exporter="WESCAM") == ["EXP-0001"]
    assert await listed(client, world, world.officer, exporter="lens 50%") == ["ANO-1"]
    # LIKE wildcards in the filter are matched literally.
    assert await listed(client, world, world.officer, exporter="%") == ["ANO-1"]
    assert await listed(client, world, world.officer, exporter="_") == []


async def test_filters_combine(client, world, app):
    await add_permits(app, world, 2)
    await add_permits(app, world, 2, status="suspended", prefix="SUS")
    found = await listed(client, world, world.officer, status="suspended", number="sus-0002")
    assert found == ["SUS-0002"]
    assert await listed(client, world, world.officer, status="active", number="sus-0002") == []


async def test_pages_cover_every_permit_once_in_order(client, world, app):
    await add_permits(app, world, 7)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await client.get(
            permits_url(world), params=params, headers=world.diplomat.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["number"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"EXP-{n:04d}" for n in range(1, 8)]


async def test_filters_hold_across_pages(client, world, app):
    await add_permits(app, world, 3)
    await add_permits(app, world, 3, status="suspended", prefix="SUS")
    first = await client.get(
        permits_url(world),
        params={"limit": 2, "status": "suspended"},
        headers=world.officer.headers,
    )
    page = first.json()
    assert [item["number"] for item in page["items"]] == ["SUS-0001", "SUS-0002"]
    params = {"limit": 2, "status": "suspended", "cursor": page["next_cursor"]}
    second = await client.get(permits_url(world), params=params, headers=world.officer.headers)
    assert [item["number"] for item in second.json()["items"]] == ["SUS-0003"]
    assert second.json()["next_cursor"] is None


async def test_a_forged_cursor_is_invalid_input(client, world, app):
    response = await client.get(
        permits_url(world), params={"cursor": "not-ours"}, headers=world.officer.headers
    )
    assert_problem(response, 422)


async def test_the_page_size_is_bounded(client, world, app):
    response = await client.get(
        permits_url(world), params={"limit": 201}, headers=world.officer.headers
    )
    assert_problem(response, 422)
