"""A government system retrying a POST with its Idempotency-Key gets the first answer again."""

from __future__ import annotations

import pytest

from tests.assurances.helpers import (
    STEP_ACTORS,
    STEP_BODIES,
    add_requested,
    collection,
    count_assurances,
    events,
    request_body,
    step_path,
    submission,
)
from tests.domain import add_assurance, add_permits
from tests.factories import audit_actions

REPLAYED = "idempotent-replayed"


async def twice(client, path: str, body: dict, persona, key: str):
    headers = persona.headers | {"Idempotency-Key": key}
    first = await client.post(path, json=body, headers=headers)
    second = await client.post(path, json=body, headers=headers)
    assert REPLAYED not in first.headers
    assert second.headers[REPLAYED] == "true"
    assert (second.status_code, second.content) == (first.status_code, first.content)
    return first


@pytest.mark.parametrize(
    ("persona", "shape", "event"),
    [("officer", "request", "assurance.requested"), ("diplomat", "submit", "assurance.submitted")],
)
async def test_creating_twice_creates_once(app, client, world, persona, shape, event):
    permits = await add_permits(app, world, 1)
    body = request_body([permits[0].id]) if shape == "request" else submission([permits[0].id])
    first = await twice(client, collection(world), body, getattr(world, persona), f"new-{shape}")

    assert first.status_code == 201, first.text
    assert await count_assurances(app) == 1
    assert [e.type for e in await events(app)] == [event]
    assert await audit_actions(app, action=event) == [event]


@pytest.mark.parametrize("step", ["submit", "accept", "reject", "withdraw"])
async def test_stepping_twice_steps_once(app, client, world, step):
    permits = await add_permits(app, world, 1)
    if step == "submit":
        assurance = await add_requested(app, world, [permits[0].id])
    else:
        assurance = await add_assurance(app, world, [permits[0].id], status="submitted")
    persona = getattr(world, STEP_ACTORS[step])
    path = step_path(assurance.id, step)
    first = await twice(client, path, STEP_BODIES[step], persona, f"step-{step}")

    assert first.status_code == 200, first.text
    found = await events(app)
    assert len(found) == 1
    assert found[0].data == first.json()
    assert len(await audit_actions(app, action=found[0].type)) == 1


async def test_a_retry_without_the_key_meets_the_new_state(app, client, world):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id], status="submitted")
    path = step_path(assurance.id, "accept")
    first = await client.post(path, json={}, headers=world.officer.headers)
    second = await client.post(path, json={}, headers=world.officer.headers)

    assert (first.status_code, second.status_code) == (200, 409)
    assert len(await events(app)) == 1


async def test_the_same_key_for_another_body_is_refused(app, client, world):
    permits = await add_permits(app, world, 2)
    headers = world.officer.headers | {"Idempotency-Key": "one-key"}
    first = await client.post(
        collection(world), json=request_body([permits[0].id]), headers=headers
    )
    other = await client.post(
        collection(world), json=request_body([permits[1].id]), headers=headers
    )

    assert (first.status_code, other.status_code) == (201, 422)
    assert await count_assurances(app) == 1
