"""Drafting and editing: a draft changes freely, an issued notice never does."""

from __future__ import annotations

from uuid import uuid4

from service.notices.models import DecisionNotice
from tests.api.support import assert_problem
from tests.domain import add_assurance, add_permits
from tests.notices.helpers import count, draft, drafted_and_issued, notice_body, notices_url


async def test_an_officer_drafts_a_notice(app, client, world):
    permits = await add_permits(app, world, 2)
    notice = await draft(client, world, "suspension", [p.id for p in permits])
    assert notice["status"] == "draft"
    assert notice["reference"] is None
    assert notice["classification"] == "UNCLASSIFIED"
    assert notice["drafted_by"] == str(world.officer.id)
    assert notice["permit_ids"] == [str(p.id) for p in permits]
    assert [p["number"] for p in notice["permits"]] == ["EXP-0001", "EXP-0002"]
    assert notice["authority_id"] == str(world.orgs["CA-GAC"].id)
    assert notice["counterpart_id"] == str(world.orgs["TR-MFA"].id)


async def test_permits_of_another_dialogue_are_named_in_the_422(app, client, world):
    [mine] = await add_permits(app, world, 1)
    stranger = uuid4()
    body = notice_body("suspension", [mine.id, stranger])
    response = await client.post(notices_url(world), json=body, headers=world.officer.headers)
    problem = assert_problem(response, 422)
    assert problem["permit_ids"] == [str(stranger)]
    assert await count(app, DecisionNotice) == 0


async def test_assurances_of_another_dialogue_are_named_in_the_422(app, client, world):
    [permit] = await add_permits(app, world, 1)
    stranger = uuid4()
    body = notice_body("cancellation", [permit.id], breached_assurance_ids=[str(stranger)])
    response = await client.post(notices_url(world), json=body, headers=world.officer.headers)
    assert assert_problem(response, 422)["breached_assurance_ids"] == [str(stranger)]


async def test_supersedes_must_name_an_issued_notice_of_the_dialogue(app, client, world):
    permits = await add_permits(app, world, 2)
    earlier = await draft(client, world, "suspension", [permits[0].id])
    body = notice_body("cancellation", [permits[1].id], supersedes_id=earlier["id"])
    response = await client.post(notices_url(world), json=body, headers=world.officer.headers)
    assert_problem(response, 422)
    issued = await drafted_and_issued(client, world, "suspension", [permits[1].id])
    body["supersedes_id"] = issued["id"]
    response = await client.post(notices_url(world), json=body, headers=world.officer.headers)
    assert response.status_code == 201, response.text
    assert response.json()["supersedes_id"] == issued["id"]


async def test_malformed_drafts_are_refused(app, client, world):
    [permit] = await add_permits(app, world, 1)
    bad = [
        notice_body("suspension", []),  # a suspension names a permit
        notice_body("suspension", [permit.id, permit.id]),
        notice_body("revocation", [permit.id]),
        notice_body("suspension", [permit.id], status="issued"),  # server-owned
        notice_body("suspension", [permit.id], reference="CA-GAC-2020-0001"),
        notice_body("suspension", [permit.id], summary=""),
        notice_body("suspension", [permit.id], rationale="a\x00b"),
    ]
    for body in bad:
        response = await client.post(notices_url(world), json=body, headers=world.officer.headers)
        assert_problem(response, 422)
    assert await count(app, DecisionNotice) == 0


async def test_a_general_notice_may_name_no_permit(app, client, world):
    notice = await draft(client, world, "general", [])
    assert notice["permit_ids"] == []


async def test_a_draft_can_be_edited(app, client, world):
    permits = await add_permits(app, world, 3)
    assurance = await add_assurance(app, world, [permits[0].id])
    notice = await draft(client, world, "suspension", [permits[0].id])
    changes = {
        "kind": "cancellation",
        "permit_ids": [str(permits[2].id), str(permits[1].id)],
        "summary": "Cancellation instead",
        "breached_assurance_ids": [str(assurance.id)],
        "classification": "PROTECTED A",
    }
    response = await client.patch(
        f"/api/v1/notices/{notice['id']}", json=changes, headers=world.officer.headers
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["permit_ids"] == changes["permit_ids"]  # in the order given
    assert edited["kind"] == "cancellation"
    assert edited["summary"] == "Cancellation instead"
    assert edited["breached_assurance_ids"] == [str(assurance.id)]
    assert edited["rationale"] == notice["rationale"]  # untouched
    again = await client.get(f"/api/v1/notices/{notice['id']}", headers=world.officer.headers)
    assert again.json() == edited


async def test_an_edit_cannot_null_a_field_or_empty_a_suspension(app, client, world):
    [permit] = await add_permits(app, world, 1)
    notice = await draft(client, world, "suspension", [permit.id])
    url = f"/api/v1/notices/{notice['id']}"
    for body in ({"summary": None}, {"permit_ids": []}, {"status": "issued"}):
        response = await client.patch(url, json=body, headers=world.officer.headers)
        assert_problem(response, 422)
    response = await client.get(url, headers=world.officer.headers)
    assert response.json() == notice


async def test_an_issued_notice_never_changes(app, client, world):
    [permit] = await add_permits(app, world, 1)
    issued = await drafted_and_issued(client, world, "suspension", [permit.id])
    url = f"/api/v1/notices/{issued['id']}"
    response = await client.patch(url, json={"summary": "quietly"}, headers=world.officer.headers)
    assert_problem(response, 409)
    after = (await client.get(url, headers=world.officer.headers)).json()
    assert after == issued


async def test_a_retried_draft_creates_one_notice(app, client, world):
    [permit] = await add_permits(app, world, 1)
    body = notice_body("suspension", [permit.id])
    headers = world.officer.headers | {"Idempotency-Key": "draft-1"}
    first = await client.post(notices_url(world), json=body, headers=headers)
    second = await client.post(notices_url(world), json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert first.json() == second.json()
    assert await count(app, DecisionNotice) == 1
