"""Organizations: only the host's admins create them; each party sees itself and its partners."""

import uuid

import pytest

from tests.factories import audit_actions

NEW_ORG = {"code": "DE-BAFA", "name": "BAFA", "country": "DE", "kind": "licensing_authority"}


async def codes_seen_by(client, persona) -> set[str]:
    response = await client.get("/api/v1/organizations", headers=persona.headers)
    assert response.status_code == 200, response.text
    return {org["code"] for org in response.json()["items"]}


async def test_host_admin_creates_an_organization(client, world, app):
    before = await audit_actions(app, action="organization.created")
    response = await client.post(
        "/api/v1/organizations", json=NEW_ORG, headers=world.host_admin.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["code"] == "DE-BAFA"
    assert response.json()["is_host"] is False
    assert len(await audit_actions(app, action="organization.created")) == len(before) + 1


@pytest.mark.parametrize(
    "persona", ["officer", "auditor", "tr_admin", "other_admin", "permit_system"]
)
async def test_only_the_host_admin_creates_organizations(client, world, persona):
    headers = getattr(world, persona).headers
    response = await client.post("/api/v1/organizations", json=NEW_ORG, headers=headers)
    assert response.status_code == 403, response.text
    listed = await codes_seen_by(client, world.host_admin)
    assert "DE-BAFA" not in listed


@pytest.mark.parametrize("code", ["CA-GAC", "ca-gac", "Ca-Gac", "tr-mfa"])
async def test_duplicate_code_in_any_case_conflicts(client, world, code):
    body = {**NEW_ORG, "code": code}
    response = await client.post(
        "/api/v1/organizations", json=body, headers=world.host_admin.headers
    )
    assert response.status_code == 409, response.text


@pytest.mark.parametrize("code", ["\uff23\uff21-\uff27\uff21\uff23", "CA\u2010GAC", "ca-gac\u200b"])
async def test_lookalike_codes_are_refused_not_created(client, world, code):
    body = {**NEW_ORG, "code": code}
    response = await client.post(
        "/api/v1/organizations", json=body, headers=world.host_admin.headers
    )
    assert response.status_code in (409, 422), response.text
    assert len(await codes_seen_by(client, world.host_admin)) == 5


async def test_host_admin_lists_every_organization(client, world):
    assert await codes_seen_by(client, world.host_admin) == set(world.orgs)


async def test_counterpart_sees_itself_and_its_dialogue_partners(client, world):
    assert await codes_seen_by(client, world.tr_admin) == {"CA-GAC", "CA-CBSA", "TR-MFA"}
    assert await codes_seen_by(client, world.diplomat) == {"CA-GAC", "CA-CBSA", "TR-MFA"}


async def test_other_authority_sees_only_its_own_dialogue(client, world):
    assert await codes_seen_by(client, world.other_admin) == {"GB-ECJU", "FR-MEAE"}


@pytest.mark.parametrize("code", ["GB-ECJU", "FR-MEAE"])
async def test_invisible_organization_is_not_found(client, world, code):
    org_id = world.orgs[code].id
    response = await client.get(f"/api/v1/organizations/{org_id}", headers=world.diplomat.headers)
    assert response.status_code == 404, response.text
    random = await client.get(
        f"/api/v1/organizations/{uuid.uuid4()}", headers=world.diplomat.headers
    )
    assert random.json()["detail"] == response.json()["detail"]


async def test_dialogue_partner_is_readable(client, world):
    org_id = world.orgs["CA-GAC"].id
    response = await client.get(f"/api/v1/organizations/{org_id}", headers=world.diplomat.headers)
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "CA-GAC"


async def test_server_owned_fields_cannot_be_set(client, world):
    body = {**NEW_ORG, "is_host": True}
    response = await client.post(
        "/api/v1/organizations", json=body, headers=world.host_admin.headers
    )
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("body", [{"name": None}, {"active": None}])
async def test_explicit_null_in_an_update_is_refused(client, world, body):
    url = f"/api/v1/organizations/{world.orgs['TR-MFA'].id}"
    response = await client.patch(url, json=body, headers=world.host_admin.headers)
    assert response.status_code == 422, response.text
    assert (await client.get(url, headers=world.host_admin.headers)).json()["active"] is True


async def test_host_admin_renames_an_organization(client, world, app):
    url = f"/api/v1/organizations/{world.orgs['TR-MFA'].id}"
    body = {"name": "Ministry of Foreign Affairs of Türkiye"}
    response = await client.patch(url, json=body, headers=world.host_admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == body["name"]
    assert await audit_actions(app, action="organization.updated") == ["organization.updated"]


async def test_host_organization_cannot_be_deactivated(client, world):
    url = f"/api/v1/organizations/{world.orgs['CA-GAC'].id}"
    response = await client.patch(url, json={"active": False}, headers=world.host_admin.headers)
    assert response.status_code == 409, response.text
