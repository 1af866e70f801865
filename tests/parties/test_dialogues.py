"""Dialogues: opened by the licensing authority's admin; each party sees only its own."""

import pytest

from tests.factories import audit_actions, client_persona


def dialogue_body(world, authority="CA-GAC", counterpart="FR-MEAE", observers=()) -> dict:
    return {
        "title": f"{authority} and {counterpart}",
        "authority_id": str(world.orgs[authority].id),
        "counterpart_id": str(world.orgs[counterpart].id),
        "observer_ids": [str(world.orgs[code].id) for code in observers],
    }


async def open_dialogue(client, persona, body):
    return await client.post("/api/v1/dialogues", json=body, headers=persona.headers)


async def new_observer_org(client, world, code="CA-DND") -> str:
    body = {"code": code, "name": code, "country": "CA", "kind": "observer"}
    response = await client.post(
        "/api/v1/organizations", json=body, headers=world.host_admin.headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def sides(client, persona) -> dict[str, str]:
    response = await client.get("/api/v1/dialogues", headers=persona.headers)
    assert response.status_code == 200, response.text
    return {item["id"]: item["my_side"] for item in response.json()["items"]}


async def test_authority_admin_opens_a_dialogue(client, world, app):
    body = dialogue_body(world, observers=["CA-CBSA"])
    response = await open_dialogue(client, world.host_admin, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["my_side"] == "authority"
    assert created["observer_ids"] == [str(world.orgs["CA-CBSA"].id)]
    assert await audit_actions(app, entity_id=created["id"]) == ["dialogue.opened"]


@pytest.mark.parametrize(
    "persona", ["officer", "approver", "tr_admin", "diplomat", "permit_system"]
)
async def test_only_the_authority_admin_opens_dialogues(client, world, persona):
    response = await open_dialogue(client, getattr(world, persona), dialogue_body(world))
    assert response.status_code == 403, response.text
    assert len(await sides(client, world.host_admin)) == 1


async def test_admin_cannot_open_for_another_authority(client, world):
    body = dialogue_body(world, authority="GB-ECJU", counterpart="TR-MFA")
    response = await open_dialogue(client, world.host_admin, body)
    assert response.status_code == 403, response.text
    assert len(await sides(client, world.other_admin)) == 1


@pytest.mark.parametrize("counterpart", ["CA-CBSA", "GB-ECJU", "CA-GAC"])
async def test_counterpart_must_be_a_counterpart_ministry(client, world, counterpart):
    body = dialogue_body(world, counterpart=counterpart)
    response = await open_dialogue(client, world.host_admin, body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("observer", ["FR-MEAE", "GB-ECJU", "CA-GAC"])
async def test_observers_must_be_observer_organizations(client, world, observer):
    body = dialogue_body(world, observers=[observer])
    response = await open_dialogue(client, world.host_admin, body)
    assert response.status_code == 422, response.text
    assert len(await sides(client, world.host_admin)) == 1


async def test_each_party_lists_its_dialogues_with_its_side(client, world):
    mine = str(world.dialogue_id)
    assert await sides(client, world.officer) == {mine: "authority"}
    assert await sides(client, world.diplomat) == {mine: "counterpart"}
    assert await sides(client, world.cbsa_officer) == {mine: "observer"}
    assert await sides(client, world.other_auditor) == {str(world.other_dialogue_id): "authority"}


async def test_a_new_dialogue_shows_up_only_for_its_parties(client, world):
    body = dialogue_body(world, counterpart="FR-MEAE")
    created = (await open_dialogue(client, world.host_admin, body)).json()
    assert (await sides(client, world.officer))[created["id"]] == "authority"
    assert created["id"] not in await sides(client, world.diplomat)
    assert created["id"] not in await sides(client, world.cbsa_officer)
    french = await client.get(
        f"/api/v1/dialogues/{created['id']}", headers=world.host_admin.headers
    )
    assert french.json()["my_side"] == "authority"


async def test_authority_admin_adds_an_observer(client, world, app):
    observer_id = await new_observer_org(client, world)
    url = f"/api/v1/dialogues/{world.dialogue_id}/observers"
    response = await client.post(
        url, json={"observer_ids": [observer_id]}, headers=world.host_admin.headers
    )
    assert response.status_code == 200, response.text
    assert observer_id in response.json()["observer_ids"]
    assert str(world.orgs["CA-CBSA"].id) in response.json()["observer_ids"]
    actions = await audit_actions(app, dialogue_id=world.dialogue_id)
    assert actions.count("dialogue.observers_added") == 1


async def test_adding_the_same_observer_twice_conflicts(client, world):
    observer_id = await new_observer_org(client, world)
    url = f"/api/v1/dialogues/{world.dialogue_id}/observers"
    body = {"observer_ids": [observer_id]}
    first = await client.post(url, json=body, headers=world.host_admin.headers)
    assert first.status_code == 200, first.text
    second = await client.post(url, json=body, headers=world.host_admin.headers)
    assert second.status_code == 409, second.text


async def test_existing_observer_conflicts(client, world):
    url = f"/api/v1/dialogues/{world.dialogue_id}/observers"
    body = {"observer_ids": [str(world.orgs["CA-CBSA"].id)]}
    response = await client.post(url, json=body, headers=world.host_admin.headers)
    assert response.status_code == 409, response.text


@pytest.mark.parametrize("persona", ["officer", "tr_admin", "cbsa_officer"])
async def test_only_the_authority_admin_adds_observers(client, world, persona):
    observer_id = await new_observer_org(client, world)
    url = f"/api/v1/dialogues/{world.dialogue_id}/observers"
    headers = getattr(world, persona).headers
    response = await client.post(url, json={"observer_ids": [observer_id]}, headers=headers)
    assert response.status_code == 403, response.text
    dialogue = await client.get(
        f"/api/v1/dialogues/{world.dialogue_id}", headers=world.officer.headers
    )
    assert observer_id not in dialogue.json()["observer_ids"]


@pytest.mark.parametrize(("scopes", "status"), [(["dialogues:read"], 200), (["permits:read"], 403)])
async def test_a_system_reads_dialogues_only_with_the_scope(app, client, world, scopes, status):
    system = await client_persona(app, world, "TR-MFA", scopes)
    listed = await client.get("/api/v1/dialogues", headers=system.headers)
    one = await client.get(f"/api/v1/dialogues/{world.dialogue_id}", headers=system.headers)
    assert (listed.status_code, one.status_code) == (status, status), listed.text
