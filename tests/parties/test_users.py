"""Users: admins manage their own organization's members; the host's admins any organization's."""

import pytest

from tests.factories import PASSWORD, audit_actions


def new_user(world, org_code: str, username: str = "new-person", roles=("officer",)) -> dict:
    return {
        "organization_id": str(world.orgs[org_code].id),
        "username": username,
        "display_name": "New Person",
        "password": PASSWORD,
        "roles": list(roles),
    }


async def create(client, persona, body):
    return await client.post("/api/v1/users", json=body, headers=persona.headers)


async def test_org_admin_creates_a_user_in_its_own_org(client, world, app):
    response = await create(client, world.tr_admin, new_user(world, "TR-MFA", roles=["diplomat"]))
    assert response.status_code == 201, response.text
    assert response.json()["organization_id"] == str(world.orgs["TR-MFA"].id)
    assert response.json()["roles"] == ["diplomat"]
    assert await audit_actions(app, entity_id=response.json()["id"]) == ["user.created"]


@pytest.mark.parametrize("code", ["CA-GAC", "TR-MFA", "CA-CBSA", "GB-ECJU", "FR-MEAE"])
async def test_host_admin_creates_users_in_any_org(client, world, code):
    response = await create(client, world.host_admin, new_user(world, code, f"user-{code}"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("persona", ["officer", "auditor", "diplomat", "permit_system"])
async def test_non_admins_cannot_create_users(client, world, persona):
    org = getattr(world, persona).principal.org_id
    body = {**new_user(world, "CA-GAC"), "organization_id": str(org)}
    response = await create(client, getattr(world, persona), body)
    assert response.status_code == 403, response.text


async def test_admin_of_unrelated_org_does_not_see_the_org(client, world):
    response = await create(client, world.other_admin, new_user(world, "CA-GAC"))
    assert response.status_code == 404, response.text


async def test_admin_of_partner_org_is_not_allowed(client, world):
    response = await create(client, world.tr_admin, new_user(world, "CA-GAC"))
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(
    ("code", "role"),
    [("TR-MFA", "approver"), ("CA-CBSA", "auditor"), ("CA-CBSA", "diplomat")],
)
async def test_roles_must_fit_the_org_kind(client, world, code, role):
    response = await create(client, world.host_admin, new_user(world, code, roles=[role]))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("username", ["officer", "OFFICER", "Officer"])
async def test_duplicate_username_in_any_case_conflicts(client, world, username):
    response = await create(client, world.host_admin, new_user(world, "CA-GAC", username))
    assert response.status_code == 409, response.text


async def test_duplicate_user_writes_no_created_entry(client, world, app):
    before = await audit_actions(app, action="user.created")
    await create(client, world.host_admin, new_user(world, "CA-GAC", "officer"))
    assert await audit_actions(app, action="user.created") == before


async def test_roles_and_ids_from_the_body_are_refused(client, world):
    body = {**new_user(world, "TR-MFA"), "id": "00000000-0000-0000-0000-000000000001"}
    response = await create(client, world.tr_admin, body)
    assert response.status_code == 422, response.text


async def test_password_is_never_in_any_answer(client, world):
    created = await create(client, world.host_admin, new_user(world, "CA-GAC"))
    user_id = created.json()["id"]
    answers = [
        created,
        await client.get(f"/api/v1/users/{user_id}", headers=world.host_admin.headers),
        await client.get("/api/v1/users", headers=world.host_admin.headers),
        await client.patch(
            f"/api/v1/users/{user_id}",
            json={"password": PASSWORD + "!"},
            headers=world.host_admin.headers,
        ),
    ]
    for response in answers:
        assert response.status_code in (200, 201), response.text
        assert PASSWORD not in response.text
        assert "password" not in response.text
        assert "argon2" not in response.text


async def test_admin_cannot_deactivate_themselves(client, world):
    url = f"/api/v1/users/{world.tr_admin.id}"
    response = await client.patch(url, json={"active": False}, headers=world.tr_admin.headers)
    assert response.status_code == 409, response.text
    me = await client.get("/api/v1/me", headers=world.tr_admin.headers)
    assert me.status_code == 200
    assert "admin" in me.json()["roles"]


async def test_admin_cannot_drop_their_own_admin_role(client, world):
    url = f"/api/v1/users/{world.host_admin.id}"
    body = {"roles": ["officer"]}
    response = await client.patch(url, json=body, headers=world.host_admin.headers)
    assert response.status_code == 409, response.text
    assert (await client.get("/api/v1/me", headers=world.host_admin.headers)).status_code == 200


async def test_admin_deactivates_a_member(client, world, app):
    url = f"/api/v1/users/{world.diplomat.id}"
    response = await client.patch(url, json={"active": False}, headers=world.tr_admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["active"] is False
    assert await audit_actions(app, action="user.updated", entity_id=str(world.diplomat.id)) == [
        "user.updated"
    ]
    refused = await client.get("/api/v1/me", headers=world.diplomat.headers)
    assert refused.status_code == 401


@pytest.mark.parametrize("persona", ["tr_admin", "other_admin"])
async def test_users_of_another_org_are_not_found(client, world, persona):
    headers = getattr(world, persona).headers
    url = f"/api/v1/users/{world.officer.id}"
    assert (await client.get(url, headers=headers)).status_code == 404
    patched = await client.patch(url, json={"active": False}, headers=headers)
    assert patched.status_code == 404, patched.text


async def test_admin_lists_only_its_own_members(client, world):
    response = await client.get("/api/v1/users", headers=world.tr_admin.headers)
    assert response.status_code == 200, response.text
    names = {user["username"] for user in response.json()["items"]}
    assert names == {"tr-admin", "diplomat", "tr-auditor"}


async def test_admin_cannot_list_another_orgs_members(client, world):
    org_id = world.orgs["CA-GAC"].id
    url = f"/api/v1/users?organization_id={org_id}"
    response = await client.get(url, headers=world.tr_admin.headers)
    assert response.status_code in (403, 404), response.text
    assert "officer" not in response.text


@pytest.mark.parametrize("body", [{"roles": None}, {"display_name": None}, {"active": None}])
async def test_explicit_null_is_refused_not_stored(client, world, body):
    url = f"/api/v1/users/{world.diplomat.id}"
    response = await client.patch(url, json=body, headers=world.tr_admin.headers)
    assert response.status_code == 422, response.text
    after = await client.get(url, headers=world.tr_admin.headers)
    assert after.json()["roles"] == ["diplomat"]
    assert after.json()["active"] is True
