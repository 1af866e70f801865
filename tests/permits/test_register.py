"""Registering permits, one or many: stored whole or not at all, announced and audited once."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import select

from service.permits.models import Permit
from tests.api.support import assert_problem
from tests.domain import permit_body
from tests.factories import audit_actions, client_persona
from tests.permits.helpers import (
    count_events,
    events,
    permits_url,
    register,
    register_bulk,
    stored_numbers,
)


async def test_an_officer_registers_a_permit_and_reads_it_back(client, world, app):
    response = await register(client, world, world.officer, "EXP-2020-0417")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "active"
    assert created["number"] == "EXP-2020-0417"
    assert created["dialogue_id"] == str(world.dialogue_id)
    assert created["items"][0]["control_entry"] == "2-5.a"
    assert created["items"][0]["value"] == "1250000.00"

    again = await client.get(f"/api/v1/permits/{created['id']}", headers=world.diplomat.headers)
    assert again.status_code == 200, again.text
    assert again.json() == created


async def test_registration_is_announced_and_audited_once(client, world, app):
    created = (await register(client, world, world.permit_system, "EXP-1")).json()
    [event] = await events(app, "permit.registered")
    assert event.dialogue_id == world.dialogue_id
    assert event.data == created
    assert await audit_actions(app, entity_id=created["id"]) == ["permit.registered"]


async def test_the_permit_belongs_to_the_dialogues_authority(client, world, app):
    created = (await register(client, world, world.permit_system, "EXP-1")).json()
    async with app.state.database.sessions() as session:
        permit = await session.get(Permit, UUID(created["id"]))
    assert permit.authority_id == world.orgs["CA-GAC"].id
    assert permit.registered_by == world.permit_system.id


@pytest.mark.parametrize("again", ["EXP-1", "exp-1", "Exp-1"])
async def test_a_number_is_taken_once_per_authority_regardless_of_case(client, world, app, again):
    assert (await register(client, world, world.officer, "EXP-1")).status_code == 201
    response = await register(client, world, world.officer, again)
    body = assert_problem(response, 409)
    assert again in body["detail"]
    assert body["numbers"] == [again]
    assert await stored_numbers(app) == ["EXP-1"]
    assert await count_events(app) == 1


async def test_another_authority_may_use_the_same_number(client, world, app):
    assert (await register(client, world, world.officer, "EXP-1")).status_code == 201
    gb_system = await client_persona(app, world, "GB-ECJU", ["permits:write"])
    response = await client.post(
        permits_url(world, world.other_dialogue_id),
        json=permit_body("EXP-1"),
        headers=gb_system.headers,
    )
    assert response.status_code == 201, response.text


async def test_bulk_registers_every_permit(client, world, app):
    numbers = [f"EXP-{n:04d}" for n in range(1, 30)]
    response = await register_bulk(client, world, world.permit_system, numbers)
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [item["number"] for item in items] == numbers
    assert {item["status"] for item in items} == {"active"}
    assert await stored_numbers(app) == numbers
    assert len(await events(app, "permit.registered")) == 29
    assert (await audit_actions(app, action="permit.registered")) == ["permit.registered"] * 29


async def test_bulk_with_one_existing_number_stores_none_and_names_it(client, world, app):
    assert (await register(client, world, world.officer, "EXP-0002")).status_code == 201
    before_audit = await audit_actions(app)
    response = await register_bulk(
        client, world, world.officer, ["EXP-0001", "exp-0002", "EXP-0003"]
    )
    body = assert_problem(response, 409)
    assert body["numbers"] == ["exp-0002"]
    assert "exp-0002" in body["detail"]
    assert await stored_numbers(app) == ["EXP-0002"]
    assert await count_events(app) == 1
    assert await audit_actions(app) == before_audit


async def test_bulk_names_every_number_repeated_within_the_batch(client, world, app):
    assert (await register(client, world, world.officer, "EXP-9")).status_code == 201
    numbers = ["EXP-1", "EXP-2", "exp-1", "EXP-3", "EXP-2", "EXP-9"]
    body = assert_problem(await register_bulk(client, world, world.officer, numbers), 409)
    assert body["numbers"] == ["EXP-1", "EXP-2", "exp-1", "EXP-9"]
    assert await stored_numbers(app) == ["EXP-9"]
    assert await count_events(app) == 1
    assert await audit_actions(app, action="permit.registered") == ["permit.registered"]


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "cancelled"},
        {"status": "active"},
        {"id": "5d1c8a52-8b9f-4c0e-9d55-1f2c3b4a5e6f"},
        {"authority_id": "5d1c8a52-8b9f-4c0e-9d55-1f2c3b4a5e6f"},
        {"colour": "blue"},
    ],
)
async def test_server_owned_and_unknown_fields_are_refused(client, world, app, extra):
    response = await register(client, world, world.officer, "EXP-1", **extra)
    body = assert_problem(response, 422)
    assert body["errors"][0]["type"] == "extra_forbidden"
    bulk = {"permits": [permit_body("EXP-2"), permit_body("EXP-3") | extra]}
    response = await client.post(
        f"{permits_url(world)}/bulk", json=bulk, headers=world.officer.headers
    )
    assert_problem(response, 422)
    assert await stored_numbers(app) == []
    assert await count_events(app) == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"valid_from": "2030-01-02", "valid_until": "2030-01-01"},
        {"items": []},
        {"destination_country": "turkey"},
        {"number": "no spaces allowed"},
    ],
)
async def test_invalid_permits_are_refused(client, world, app, overrides):
    body = permit_body("EXP-1") | overrides
    response = await client.post(permits_url(world), json=body, headers=world.officer.headers)
    assert_problem(response, 422)
    assert await stored_numbers(app) == []


async def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(client, world, app):
    headers = world.permit_system.headers | {"Idempotency-Key": "permit-EXP-1-attempt"}
    body = permit_body("EXP-1")
    first = await client.post(permits_url(world), json=body, headers=headers)
    second = await client.post(permits_url(world), json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await stored_numbers(app) == ["EXP-1"]
    assert len(await events(app, "permit.registered")) == 1


async def test_a_bulk_retry_with_the_same_key_stores_the_batch_once(client, world, app):
    headers = world.officer.headers | {"Idempotency-Key": "batch-17"}
    body = {"permits": [permit_body("EXP-1"), permit_body("EXP-2")]}
    url = f"{permits_url(world)}/bulk"
    first = await client.post(url, json=body, headers=headers)
    second = await client.post(url, json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert second.json() == first.json()
    assert await stored_numbers(app) == ["EXP-1", "EXP-2"]
    assert len(await events(app, "permit.registered")) == 2


async def test_registered_by_is_not_settable_and_the_row_is_whole(client, world, app):
    created = (await register(client, world, world.officer, "EXP-1")).json()
    async with app.state.database.sessions() as session:
        row = await session.scalar(select(Permit).where(Permit.id == UUID(created["id"])))
    assert row.number_key == "exp-1"
    assert row.registered_by == world.officer.id
