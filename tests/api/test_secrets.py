"""Answers never carry password hashes or client secrets (those are shown once, at creation)."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD

FORBIDDEN_KEYS = ("password", "password_hash", "client_secret", "secret_digest", "secret")


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_of(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_of(item)}
    return set()


def assert_no_secrets(response, *values: str) -> None:
    assert response.status_code in (200, 201), response.text
    assert not keys_of(response.json()) & set(FORBIDDEN_KEYS)
    assert "$argon2" not in response.text
    for value in values:
        assert value not in response.text


async def test_created_user_has_no_password(client, world):
    user = {
        "organization_id": str(world.orgs["CA-GAC"].id),
        "username": "fresh-officer",
        "display_name": "Fresh Officer",
        "password": PASSWORD,
        "roles": ["officer"],
    }
    response = await client.post("/api/v1/users", json=user, headers=world.host_admin.headers)
    assert response.status_code == 201, response.text
    assert_no_secrets(response, PASSWORD)


async def test_user_reads_have_no_password(client, world):
    headers = world.host_admin.headers
    listing = await client.get("/api/v1/users", headers=headers)
    assert_no_secrets(listing, PASSWORD)
    assert listing.json()["items"]
    one = await client.get(f"/api/v1/users/{world.officer.id}", headers=headers)
    assert_no_secrets(one, PASSWORD)
    assert_no_secrets(await client.get("/api/v1/me", headers=world.officer.headers), PASSWORD)


async def test_client_reads_have_no_secret(client, world):
    headers = world.host_admin.headers
    listing = await client.get("/api/v1/clients", headers=headers)
    assert_no_secrets(listing, world.client_secret)
    assert [item["client_id"] for item in listing.json()["items"]] == [world.client_id]
    one = await client.get(f"/api/v1/clients/{world.permit_system.id}", headers=headers)
    assert_no_secrets(one, world.client_secret)
    me = await client.get("/api/v1/me", headers=world.permit_system.headers)
    assert_no_secrets(me, world.client_secret)


async def test_client_secret_is_shown_once_at_creation(client, world):
    body = {
        "organization_id": str(world.orgs["CA-GAC"].id),
        "name": "ledger",
        "scopes": ["audit:read"],
    }
    created = await client.post("/api/v1/clients", json=body, headers=world.host_admin.headers)
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    assert secret
    again = await client.get(
        f"/api/v1/clients/{created.json()['id']}", headers=world.host_admin.headers
    )
    assert_no_secrets(again, secret)


async def test_a_secret_shown_once_is_not_kept_in_the_clear_for_replays(app, client, world):
    from sqlalchemy import select

    from service.api.idempotency import IdempotencyRecord

    body = {
        "organization_id": str(world.orgs["CA-GAC"].id),
        "name": "ledger",
        "scopes": ["permits:read"],
    }
    headers = {**world.host_admin.headers, "Idempotency-Key": "create-ledger-client"}
    first = await client.post("/api/v1/clients", json=body, headers=headers)
    replayed = await client.post("/api/v1/clients", json=body, headers=headers)

    assert first.status_code == 201, first.text
    secret = first.json()["client_secret"]
    assert replayed.json()["client_secret"] == secret  # the retry still gets its answer
    async with app.state.database.sessions() as session:
        stored = (await session.scalars(select(IdempotencyRecord.body))).all()
    assert stored
    assert all(secret.encode() not in value for value in stored)
