"""Reading notices: drafts are the authority's own; lists filter and page."""

from __future__ import annotations

from tests.api.support import assert_problem
from tests.domain import add_permits
from tests.notices.helpers import acknowledge, draft, drafted_and_issued, notices_url


async def listed(client, world, persona, **params):
    response = await client.get(notices_url(world), params=params, headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def three_notices(app, client, world):
    permits = await add_permits(app, world, 3)
    drafted = await draft(client, world, "cancellation", [permits[0].id])
    issued = await drafted_and_issued(client, world, "suspension", [permits[1].id])
    acknowledged = await drafted_and_issued(client, world, "suspension", [permits[2].id])
    await acknowledge(client, world.diplomat, acknowledged["id"])
    return drafted, issued, acknowledged


async def test_the_authority_sees_drafts_and_the_others_do_not(app, client, world):
    drafted, issued, acknowledged = await three_notices(app, client, world)
    everything = [drafted["id"], issued["id"], acknowledged["id"]]
    published = [issued["id"], acknowledged["id"]]
    for persona, expected in [
        (world.officer, everything),
        (world.auditor, everything),
        (world.diplomat, published),
        (world.cbsa_officer, published),
    ]:
        page = await listed(client, world, persona)
        assert [n["id"] for n in page["items"]] == expected, persona.principal.name
    assert (await listed(client, world, world.diplomat, status="draft"))["items"] == []


async def test_filters_by_status_and_kind(app, client, world):
    drafted, _issued, acknowledged = await three_notices(app, client, world)
    by_status = await listed(client, world, world.officer, status="acknowledged")
    assert [n["id"] for n in by_status["items"]] == [acknowledged["id"]]
    by_kind = await listed(client, world, world.officer, kind="cancellation")
    assert [n["id"] for n in by_kind["items"]] == [drafted["id"]]
    for params in ({"status": "revoked"}, {"kind": "warning"}, {"limit": 0}, {"limit": 201}):
        headers = world.officer.headers
        response = await client.get(notices_url(world), params=params, headers=headers)
        assert_problem(response, 422)


async def test_pages_follow_the_cursor(app, client, world):
    permits = await add_permits(app, world, 5)
    ids = [(await draft(client, world, "suspension", [p.id]))["id"] for p in permits]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await listed(client, world, world.officer, **params)
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_a_notice_lists_its_permits_with_their_transitions(app, client, world):
    permits = await add_permits(app, world, 2)
    issued = await drafted_and_issued(client, world, "suspension", [p.id for p in permits])
    response = await client.get(f"/api/v1/notices/{issued['id']}", headers=world.diplomat.headers)
    assert response.json() == issued
    assert [(p["number"], p["to_status"]) for p in issued["permits"]] == [
        ("EXP-0001", "suspended"),
        ("EXP-0002", "suspended"),
    ]
