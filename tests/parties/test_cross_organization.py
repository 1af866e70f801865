"""Another organization's dialogue answers exactly like a dialogue that does not exist."""

import uuid

import pytest

from tests.factories import audit_actions

OUTSIDERS = ["host_admin", "officer", "approver", "auditor", "tr_admin", "diplomat", "tr_auditor"]
PER_REQUEST = {"request_id", "instance"}


def stable(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in PER_REQUEST}


@pytest.mark.parametrize("persona", [*OUTSIDERS, "cbsa_officer", "permit_system"])
async def test_foreign_dialogue_answers_like_a_random_id(client, world, persona):
    headers = getattr(world, persona).headers
    foreign = await client.get(f"/api/v1/dialogues/{world.other_dialogue_id}", headers=headers)
    random = await client.get(f"/api/v1/dialogues/{uuid.uuid4()}", headers=headers)
    assert foreign.status_code == random.status_code == 404
    assert stable(foreign.json()) == stable(random.json())
    assert foreign.headers["content-type"] == random.headers["content-type"]
    assert str(world.other_dialogue_id) not in str(stable(foreign.json()))


async def test_foreign_dialogue_access_is_audited(client, world, app):
    requested = str(world.other_dialogue_id)
    response = await client.get(f"/api/v1/dialogues/{requested}", headers=world.diplomat.headers)
    assert response.status_code == 404
    denied = await audit_actions(app, action="access.denied", entity_id=requested)
    assert denied == ["access.denied"]
    by_diplomat = await audit_actions(app, action="access.denied", actor_id=world.diplomat.id)
    assert by_diplomat == ["access.denied"]


async def test_adding_observers_to_a_foreign_dialogue_changes_nothing(client, world, app):
    before = await audit_actions(app, dialogue_id=world.other_dialogue_id)
    url = f"/api/v1/dialogues/{world.other_dialogue_id}/observers"
    body = {"observer_ids": [str(world.orgs["CA-CBSA"].id)]}
    response = await client.post(url, json=body, headers=world.host_admin.headers)
    assert response.status_code == 404, response.text
    seen = await client.get(
        f"/api/v1/dialogues/{world.other_dialogue_id}", headers=world.other_admin.headers
    )
    assert seen.json()["observer_ids"] == []
    # The only trace is the refusal itself, filed under the probed dialogue.
    after = await audit_actions(app, dialogue_id=world.other_dialogue_id)
    assert after == [*before, "access.denied"]


async def test_the_probed_partys_auditors_see_the_probe(client, world):
    await client.get(f"/api/v1/dialogues/{world.other_dialogue_id}", headers=world.officer.headers)
    response = await client.get(
        "/api/v1/audit",
        params={"dialogue_id": str(world.other_dialogue_id), "action": "access.denied"},
        headers=world.other_auditor.headers,
    )
    [entry] = response.json()["items"]
    assert entry["actor_id"] == str(world.officer.id)
    assert entry["entity_id"] == str(world.other_dialogue_id)


async def test_foreign_dialogue_never_listed(client, world):
    for persona in OUTSIDERS:
        response = await client.get("/api/v1/dialogues", headers=getattr(world, persona).headers)
        assert str(world.other_dialogue_id) not in response.text
