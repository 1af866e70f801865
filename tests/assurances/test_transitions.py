"""The assurance state machine of SPEC section 3: every allowed step, every forbidden one."""

from __future__ import annotations

import pytest

from tests.api.support import assert_problem
from tests.assurances.helpers import (
    STEP_ACTORS,
    STEP_BODIES,
    add_requested,
    certificate,
    collection,
    count_assurances,
    events,
    request_body,
    step_path,
    stored,
    submission,
)
from tests.domain import add_assurance, add_permits
from tests.factories import audit_actions

STATUSES = ("requested", "submitted", "accepted", "rejected", "withdrawn", "breached")
ALLOWED_FROM = {"submit": "requested", "accept": "submitted", "reject": "submitted"}
ALLOWED_FROM["withdraw"] = "submitted"
FORBIDDEN = [
    (step, status)
    for step, source in ALLOWED_FROM.items()
    for status in STATUSES
    if status != source
]


async def assert_recorded(app, body: dict, event_type: str) -> None:
    """Exactly one event of the type, carrying the answer, and one audit entry of that name."""
    found = [e for e in await events(app) if e.type == event_type]
    assert len(found) == 1
    assert found[0].data == body
    assert str(found[0].dialogue_id) == body["dialogue_id"]
    assert await audit_actions(app, action=event_type, entity_id=body["id"]) == [event_type]


async def test_authority_requests_an_assurance(app, client, world):
    permits = await add_permits(app, world, 2)
    body = request_body([p.id for p in permits])
    response = await client.post(collection(world), json=body, headers=world.officer.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "requested"
    assert sorted(created["permit_ids"]) == sorted(str(p.id) for p in permits)
    assert created["requested_by"] == str(world.officer.id)
    assert created["due_at"] is not None
    assert created["requested_at"] is not None
    assert created["end_user"] is None
    assert created["signatory"] == {"name": None, "title": None}
    await assert_recorded(app, created, "assurance.requested")


async def test_counterpart_submits_against_a_request(app, client, world):
    permits = await add_permits(app, world, 1)
    requested = await add_requested(app, world, [permits[0].id])
    response = await client.post(
        step_path(requested.id, "submit"), json=certificate(), headers=world.diplomat.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "submitted"
    assert body["permit_ids"] == [str(permits[0].id)]
    assert body["signatory"] == {"name": "A. Diplomat", "title": "Director General"}
    assert body["register_number"] == "TR-EUC-2020-17"
    assert body["submitted_by"] == str(world.diplomat.id)
    assert body["requested_by"] == str(world.officer.id)
    await assert_recorded(app, body, "assurance.submitted")


async def test_counterpart_submits_without_a_request(app, client, world):
    permits = await add_permits(app, world, 3)
    body = submission([p.id for p in permits], document_sha256=None)
    response = await client.post(collection(world), json=body, headers=world.diplomat.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "submitted"
    assert created["permit_ids"] == [str(p.id) for p in permits]  # in permit-number order
    assert created["requested_at"] is None
    assert created["document_sha256"] is None
    assert created["retransfer_clause"] is True
    assert created["consent_to_verification"] is True
    await assert_recorded(app, created, "assurance.submitted")


@pytest.mark.parametrize(
    ("step", "status"), [("accept", "accepted"), ("reject", "rejected"), ("withdraw", "withdrawn")]
)
async def test_a_submitted_assurance_moves_on(app, client, world, step, status):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id], status="submitted")
    persona = getattr(world, STEP_ACTORS[step])
    response = await client.post(
        step_path(assurance.id, step), json=STEP_BODIES[step], headers=persona.headers
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == status
    await assert_recorded(app, body, f"assurance.{status}")
    row = await stored(app, assurance.id)
    assert row.status == status
    if step != "withdraw":
        assert (row.decided_by, row.decided_at) == (world.officer.id, row.updated_at)
    else:
        assert row.decided_by is None


async def test_rejection_keeps_its_reason(app, client, world):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id], status="submitted")
    reason = {"reason": "  The signatory has no authority to bind the ministry.  "}
    response = await client.post(
        step_path(assurance.id, "reject"), json=reason, headers=world.officer.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["decision_reason"] == reason["reason"].strip()
    assert (await stored(app, assurance.id)).decision_reason == reason["reason"].strip()
    entries = await audit_actions(app, action="assurance.rejected")
    assert entries == ["assurance.rejected"]


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, None])
async def test_rejection_needs_a_reason(app, client, world, body):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id], status="submitted")
    response = await client.post(
        step_path(assurance.id, "reject"), json=body, headers=world.officer.headers
    )

    assert_problem(response, 422)
    assert (await stored(app, assurance.id)).status == "submitted"
    assert await events(app) == []


@pytest.mark.parametrize(("step", "status"), FORBIDDEN)
async def test_a_forbidden_step_changes_nothing(app, client, world, step, status):
    permits = await add_permits(app, world, 1)
    if status == "requested":
        assurance = await add_requested(app, world, [permits[0].id])
    else:
        assurance = await add_assurance(app, world, [permits[0].id], status=status)
    before = await stored(app, assurance.id)
    persona = getattr(world, STEP_ACTORS[step])

    response = await client.post(
        step_path(assurance.id, step), json=STEP_BODIES[step], headers=persona.headers
    )

    problem = assert_problem(response, 409)
    assert status in problem["detail"]
    assert problem["current_status"] == status
    after = await stored(app, assurance.id)
    assert (after.status, after.updated_at, after.decision_reason, after.register_number) == (
        before.status,
        before.updated_at,
        before.decision_reason,
        before.register_number,
    )
    assert await events(app) == []
    assert not [a for a in await audit_actions(app) if a.startswith("assurance.")]


async def test_the_whole_story_through_the_api(app, client, world):
    """Request, submit, accept: three events in order, each with the state it reports."""
    permits = await add_permits(app, world, 2)
    asked = await client.post(
        collection(world), json=request_body([p.id for p in permits]), headers=world.officer.headers
    )
    assurance_id = asked.json()["id"]
    submitted = await client.post(
        step_path(assurance_id, "submit"), json=certificate(), headers=world.diplomat.headers
    )
    accepted = await client.post(
        step_path(assurance_id, "accept"), json={}, headers=world.officer.headers
    )

    assert [r.status_code for r in (asked, submitted, accepted)] == [201, 200, 200]
    found = await events(app)
    assert [e.type for e in found] == [
        "assurance.requested",
        "assurance.submitted",
        "assurance.accepted",
    ]
    assert [e.data["status"] for e in found] == ["requested", "submitted", "accepted"]
    assert await count_assurances(app) == 1


async def test_there_is_no_way_to_breach_by_hand(app, client, world):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id], status="accepted")
    response = await client.post(
        step_path(assurance.id, "breach"), json={}, headers=world.officer.headers
    )

    assert response.status_code in (404, 405)
    assert (await stored(app, assurance.id)).status == "accepted"
