"""Deactivated users, revoked clients and deactivated organizations lose access at once."""

from __future__ import annotations

import httpx

from tests.auth.helpers import assert_problem
from tests.factories import PASSWORD, audit_actions


async def me_status(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    return (await client.get("/api/v1/me", headers=headers)).status_code


async def test_deactivated_user_token_stops_working(app, client, world):
    assert await me_status(client, world.officer.headers) == 200

    response = await client.patch(
        f"/api/v1/users/{world.officer.id}",
        json={"active": False},
        headers=world.host_admin.headers,
    )
    assert response.status_code == 200, response.text

    before = await audit_actions(app, action="auth.token_rejected")
    assert_problem(await client.get("/api/v1/me", headers=world.officer.headers), 401)
    assert len(await audit_actions(app, action="auth.token_rejected")) == len(before) + 1
    assert await me_status(client, world.approver.headers) == 200


async def test_reactivated_user_token_works_again(client, world):
    url = f"/api/v1/users/{world.officer.id}"
    admin = world.host_admin.headers
    await client.patch(url, json={"active": False}, headers=admin)
    await client.patch(url, json={"active": True}, headers=admin)

    assert await me_status(client, world.officer.headers) == 200


async def test_revoked_client_token_and_secret_stop_working(client, world):
    assert await me_status(client, world.permit_system.headers) == 200

    response = await client.delete(
        f"/api/v1/clients/{world.permit_system.id}", headers=world.host_admin.headers
    )
    assert response.status_code == 204, response.text

    assert_problem(await client.get("/api/v1/me", headers=world.permit_system.headers), 401)
    form = {
        "grant_type": "client_credentials",
        "client_id": world.client_id,
        "client_secret": world.client_secret,
    }
    assert_problem(await client.post("/oauth/token", data=form), 401, "invalid-client")


async def test_deactivated_organization_locks_out_its_users(client, world):
    org_id = world.orgs["TR-MFA"].id
    response = await client.patch(
        f"/api/v1/organizations/{org_id}", json={"active": False}, headers=world.host_admin.headers
    )
    assert response.status_code == 200, response.text

    for persona in (world.diplomat, world.tr_admin, world.tr_auditor):
        assert_problem(await client.get("/api/v1/me", headers=persona.headers), 401)
    assert await me_status(client, world.officer.headers) == 200


async def test_deactivated_organization_users_cannot_sign_in(client, world):
    org_id = world.orgs["TR-MFA"].id
    await client.patch(
        f"/api/v1/organizations/{org_id}", json={"active": False}, headers=world.host_admin.headers
    )

    form = {"grant_type": "password", "username": "diplomat", "password": PASSWORD}
    assert_problem(await client.post("/oauth/token", data=form), 400, "invalid-grant")
