"""The audit trail through the API: one entry per change, visible only to the right auditors."""

import uuid

import pytest
from fastapi import routing

from tests.audit.helpers import all_entries, create_user, entry_count, verify
from tests.factories import audit_actions


@pytest.fixture
async def activity(client, world):
    """Changes made over HTTP by both authorities, so each has entries of its own."""
    await create_user(client, world.host_admin, world.orgs["CA-GAC"].id, "gac-extra")
    await create_user(client, world.host_admin, world.orgs["CA-GAC"].id, "gac-more", ["auditor"])
    await create_user(client, world.other_admin, world.orgs["GB-ECJU"].id, "ecju-extra")
    await create_user(client, world.tr_admin, world.orgs["TR-MFA"].id, "mfa-extra", ["diplomat"])
    return world


async def test_creating_a_user_writes_exactly_one_entry(client, world, app):
    before = await audit_actions(app)
    response_user = await create_user(client, world.tr_admin, world.orgs["TR-MFA"].id, "new-one")
    after = await audit_actions(app)
    assert after == [*before, "user.created"]
    [entry] = await all_entries(client, world.tr_auditor, action="user.created")
    assert entry["entity_id"] == response_user["id"]
    assert entry["actor_id"] == str(world.tr_admin.id)
    assert entry["org_id"] == str(world.orgs["TR-MFA"].id)


async def test_entry_carries_the_request_id(client, world):
    headers = {**world.host_admin.headers, "X-Request-ID": "req-audit-123"}
    body = {"code": "DE-BAFA", "name": "BAFA", "country": "DE", "kind": "licensing_authority"}
    response = await client.post("/api/v1/organizations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = await all_entries(client, world.auditor, action="organization.created")
    [entry] = [e for e in created if e["details"]["code"] == "DE-BAFA"]
    assert entry["request_id"] == "req-audit-123"


@pytest.mark.parametrize(
    "persona", ["officer", "approver", "host_admin", "diplomat", "tr_admin", "cbsa_officer"]
)
async def test_non_auditors_cannot_read_the_trail(client, world, persona):
    headers = getattr(world, persona).headers
    assert (await client.get("/api/v1/audit", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/audit/verify", headers=headers)).status_code == 403


async def test_client_with_audit_scope_reads_the_trail(client, world):
    response = await client.get("/api/v1/audit", headers=world.permit_system.headers)
    assert response.status_code == 200, response.text


async def test_auditor_sees_own_dialogues_and_own_org_only(client, activity):
    world = activity
    entries = await all_entries(client, world.auditor)
    assert str(world.other_dialogue_id) not in {e["dialogue_id"] for e in entries}
    assert str(world.orgs["GB-ECJU"].id) not in {e["org_id"] for e in entries}
    assert {e["dialogue_id"] for e in entries} >= {str(world.dialogue_id)}
    assert "gac-extra" in str(entries)
    assert "ecju-extra" not in str(entries)
    assert "mfa-extra" not in str(entries)


async def test_other_auditor_never_sees_ca_gac_entries(client, activity):
    world = activity
    entries = await all_entries(client, world.other_auditor)
    assert str(world.dialogue_id) not in {e["dialogue_id"] for e in entries}
    assert str(world.orgs["CA-GAC"].id) not in {e["org_id"] for e in entries}
    assert "ecju-extra" in str(entries)
    assert "gac-extra" not in str(entries)


async def test_counterpart_auditor_sees_the_shared_dialogue(client, activity):
    world = activity
    entries = await all_entries(client, world.tr_auditor)
    assert "dialogue.opened" in {e["action"] for e in entries}
    assert {e["dialogue_id"] for e in entries} - {None} == {str(world.dialogue_id)}
    assert "gac-extra" not in str(entries)
    assert "mfa-extra" in str(entries)


async def test_filter_by_dialogue(client, activity):
    world = activity
    entries = await all_entries(client, world.auditor, dialogue_id=str(world.dialogue_id))
    assert entries
    assert {e["dialogue_id"] for e in entries} == {str(world.dialogue_id)}
    foreign = await all_entries(client, world.auditor, dialogue_id=str(world.other_dialogue_id))
    assert foreign == []


async def test_filter_by_actor_and_action(client, activity):
    world = activity
    by_admin = await all_entries(client, world.auditor, actor_id=str(world.host_admin.id))
    assert by_admin
    assert {e["actor_id"] for e in by_admin} == {str(world.host_admin.id)}
    created = await all_entries(client, world.auditor, action="user.created")
    assert {e["action"] for e in created} == {"user.created"}
    assert "gac-extra" in str(created)


async def test_pages_by_cursor_in_chain_order(client, activity):
    world = activity
    everything = [e["seq"] for e in await all_entries(client, world.auditor)]
    paged = [e["seq"] for e in await all_entries(client, world.auditor, limit=2)]
    assert len(everything) > 2
    assert paged == everything == sorted(set(everything))


@pytest.mark.parametrize("cursor", ["not-a-cursor", "!!!", "x" * 201])
async def test_tampered_cursor_is_refused(client, world, cursor):
    params = {"cursor": cursor}
    response = await client.get("/api/v1/audit", params=params, headers=world.auditor.headers)
    assert response.status_code in (400, 422), response.text


def flat_routes(app) -> list:
    """Every route, including those of included routers (newer FastAPI nests them lazily)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    return list(iterate(app.routes)) if iterate else list(app.routes)


def test_audit_routes_only_read(app):
    audit_routes = [r for r in flat_routes(app) if "/audit" in getattr(r, "path", "")]
    assert audit_routes
    for route in audit_routes:
        assert route.methods <= {"GET", "HEAD"}, route.path
    documented = {p: ops for p, ops in app.openapi()["paths"].items() if "/audit" in p}
    assert documented
    assert all(set(ops) == {"get"} for ops in documented.values())


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
async def test_no_request_changes_an_entry(client, world, app, method):
    before = await all_entries(client, world.auditor)
    seq = before[-1]["seq"]
    for url in (f"/api/v1/audit/{seq}", "/api/v1/audit"):
        response = await client.request(method, url, json={}, headers=world.auditor.headers)
        assert response.status_code in (404, 405), response.text
    assert (await all_entries(client, world.auditor))[: len(before)] == before
    assert (await verify(client, world.auditor))["valid"] is True


async def test_verify_reports_an_intact_chain(client, activity, app):
    result = await verify(client, activity.auditor)
    assert result["valid"] is True
    assert result["first_broken_seq"] is None
    assert result["entries"] == await entry_count(app.state.database) > 0


async def test_denied_access_is_in_the_trail(client, world):
    missing = uuid.uuid4()
    await client.get(f"/api/v1/dialogues/{missing}", headers=world.officer.headers)
    denied = await all_entries(client, world.auditor, action="access.denied")
    assert [e["entity_id"] for e in denied] == [str(missing)]
    assert denied[0]["actor_id"] == str(world.officer.id)
