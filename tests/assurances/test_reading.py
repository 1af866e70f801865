"""Reading one assurance and listing a dialogue's: shape, filter, pages."""

from __future__ import annotations

from tests.assurances.helpers import add_requested, collection
from tests.domain import add_assurance, add_permits


async def test_one_assurance_names_its_permits_and_signatory(app, client, world):
    permits = await add_permits(app, world, 3)
    assurance = await add_assurance(app, world, [p.id for p in reversed(permits)])
    response = await client.get(
        f"/api/v1/assurances/{assurance.id}", headers=world.diplomat.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["permit_ids"] == [str(p.id) for p in permits]
    assert body["signatory"] == {"name": "A. Diplomat", "title": "Director General"}
    assert body["status"] == "accepted"
    assert body["dialogue_id"] == str(world.dialogue_id)


async def test_the_list_filters_by_status(app, client, world):
    permits = await add_permits(app, world, 1)
    requested = await add_requested(app, world, [permits[0].id])
    accepted = await add_assurance(app, world, [permits[0].id], status="accepted")
    headers = world.officer.headers

    everything = await client.get(collection(world), headers=headers)
    only = await client.get(collection(world), params={"status": "requested"}, headers=headers)
    none = await client.get(collection(world), params={"status": "withdrawn"}, headers=headers)

    assert [a["id"] for a in everything.json()["items"]] == [str(requested.id), str(accepted.id)]
    assert [a["id"] for a in only.json()["items"]] == [str(requested.id)]
    assert none.json() == {"items": [], "next_cursor": None}


async def test_the_list_pages_in_a_stable_order(app, client, world):
    permits = await add_permits(app, world, 1)
    made = [await add_assurance(app, world, [permits[0].id]) for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get(collection(world), params=params, headers=world.officer.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(a.id) for a in sorted(made, key=lambda a: (a.created_at, a.id))]


async def test_the_list_holds_only_this_dialogues_assurances(app, client, world):
    permits = await add_permits(app, world, 1)
    await add_assurance(app, world, [permits[0].id])
    path = f"/api/v1/dialogues/{world.other_dialogue_id}/assurances"
    response = await client.get(path, headers=world.other_admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
