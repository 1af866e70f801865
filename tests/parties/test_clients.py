"""API clients: the secret is shown once, stored only as a digest, and revocable."""

import re
from uuid import UUID

from sqlalchemy import select

from service.parties.models import ApiClient
from tests.factories import audit_actions


def client_body(world, code: str = "TR-MFA", scopes=("permits:read",)) -> dict:
    return {
        "organization_id": str(world.orgs[code].id),
        "name": "ministry system",
        "scopes": list(scopes),
    }


async def register(client, world, **kwargs):
    body = client_body(world, **kwargs)
    response = await client.post("/api/v1/clients", json=body, headers=world.tr_admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_secret_is_returned_once(client, world, app):
    created = await register(client, world)
    secret = created["client_secret"]
    assert secret
    one = await client.get(f"/api/v1/clients/{created['id']}", headers=world.tr_admin.headers)
    listed = await client.get("/api/v1/clients", headers=world.tr_admin.headers)
    for response in (one, listed):
        assert response.status_code == 200, response.text
        assert secret not in response.text
        assert "secret" not in response.text
    assert await audit_actions(app, entity_id=created["id"]) == ["client.created"]


async def test_secret_is_stored_as_a_digest(client, world, app):
    created = await register(client, world)
    async with app.state.database.sessions() as session:
        query = select(ApiClient.secret_digest).where(ApiClient.id == UUID(created["id"]))
        stored = await session.scalar(query)
    assert stored != created["client_secret"]
    assert created["client_secret"] not in stored
    assert re.fullmatch(r"[0-9a-f]{64}", stored)


async def test_unknown_scope_is_refused(client, world):
    body = client_body(world, scopes=["permits:read", "notices:issue"])
    response = await client.post("/api/v1/clients", json=body, headers=world.tr_admin.headers)
    assert response.status_code == 422, response.text


async def test_repeated_scope_is_refused(client, world):
    body = client_body(world, scopes=["permits:read", "permits:read"])
    response = await client.post("/api/v1/clients", json=body, headers=world.tr_admin.headers)
    assert response.status_code == 422, response.text


async def test_non_admin_cannot_register_a_client(client, world):
    body = client_body(world)
    response = await client.post("/api/v1/clients", json=body, headers=world.diplomat.headers)
    assert response.status_code == 403, response.text


async def test_delete_revokes_the_client(client, world, app):
    created = await register(client, world)
    url = f"/api/v1/clients/{created['id']}"
    response = await client.delete(url, headers=world.tr_admin.headers)
    assert response.status_code == 204, response.text
    after = await client.get(url, headers=world.tr_admin.headers)
    assert after.json()["active"] is False
    assert await audit_actions(app, entity_id=created["id"]) == ["client.created", "client.revoked"]


async def test_revoked_client_cannot_get_a_token(client, world):
    created = await register(client, world)
    await client.delete(f"/api/v1/clients/{created['id']}", headers=world.tr_admin.headers)
    form = {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
    }
    response = await client.post("/oauth/token", data=form)
    assert response.status_code in (400, 401), response.text
    assert "access_token" not in response.text


async def test_clients_of_another_org_are_not_found(client, world):
    created = await register(client, world)
    url = f"/api/v1/clients/{created['id']}"
    for persona in (world.other_admin, world.diplomat):
        assert (await client.get(url, headers=persona.headers)).status_code == 404
        assert (await client.delete(url, headers=persona.headers)).status_code == 404
    assert (await client.get(url, headers=world.tr_admin.headers)).json()["active"] is True
