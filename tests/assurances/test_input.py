"""Bad input is refused with 422 and creates nothing."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from tests.api.support import assert_problem
from tests.assurances.helpers import (
    add_foreign_permit,
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


async def refused(app, client, world, persona, body) -> dict:
    response = await client.post(collection(world), json=body, headers=persona.headers)
    problem = assert_problem(response, 422)
    assert await count_assurances(app) == 0
    assert await events(app) == []
    return problem


@pytest.mark.parametrize(
    "extra",
    [
        {"status": "accepted"},
        {"id": str(uuid4())},
        {"requested_by": str(uuid4())},
        {"dialogue_id": str(uuid4())},
        {"created_at": "2020-01-01T00:00:00Z"},
    ],
)
async def test_server_owned_fields_are_refused_in_a_request(app, client, world, extra):
    permits = await add_permits(app, world, 1)
    body = request_body([permits[0].id]) | extra
    problem = await refused(app, client, world, world.officer, body)
    assert any(error["type"] == "extra_forbidden" for error in problem["errors"])


@pytest.mark.parametrize(
    "extra",
    [{"status": "accepted"}, {"decided_by": str(uuid4())}, {"breached_by_notice_id": None}],
)
async def test_server_owned_fields_are_refused_in_a_submission(app, client, world, extra):
    permits = await add_permits(app, world, 1)
    await refused(app, client, world, world.diplomat, submission([permits[0].id]) | extra)


@pytest.mark.parametrize(
    "overrides",
    [
        {"document_sha256": "ABC"},
        {"document_sha256": "9F2B" * 16},  # hex, but not lower case as we store it
        {"document_sha256": "g" * 64},
        {"destination_country": "tr"},
        {"retransfer_clause": "yes"},
        {"consent_to_verification": 1},
        {"end_user": "   "},
        {"end_use": "x" * 2001},
        {"signatory": {"name": "A. Diplomat"}},
        {"valid_until": "next year"},
        {"end_user": "Armed\x00Forces"},
    ],
)
async def test_a_malformed_certificate_is_refused(app, client, world, overrides):
    permits = await add_permits(app, world, 1)
    await refused(app, client, world, world.diplomat, submission([permits[0].id], **overrides))


async def test_a_certificate_issued_after_it_expires_is_refused(app, client, world):
    permits = await add_permits(app, world, 1)
    today = date.today()
    body = submission(
        [permits[0].id],
        issue_date=today.isoformat(),
        valid_until=(today - timedelta(days=1)).isoformat(),
    )
    problem = await refused(app, client, world, world.diplomat, body)
    assert "issue_date" in problem["detail"]


@pytest.mark.parametrize("due_at", ["2001-01-01T00:00:00Z", "2999-01-01T00:00:00", "soon", None])
async def test_due_at_must_be_a_future_instant(app, client, world, due_at):
    permits = await add_permits(app, world, 1)
    body = request_body([permits[0].id]) | {"due_at": due_at}
    await refused(app, client, world, world.officer, body)


async def test_a_past_due_at_says_so(app, client, world):
    permits = await add_permits(app, world, 1)
    body = request_body([permits[0].id], days=-1)
    problem = await refused(app, client, world, world.officer, body)
    assert "future" in problem["detail"]


async def test_unknown_permits_are_named(app, client, world):
    permits = await add_permits(app, world, 1)
    foreign = await add_foreign_permit(app, world)
    unknown = uuid4()
    body = request_body([permits[0].id, unknown, foreign.id])
    problem = await refused(app, client, world, world.officer, body)

    assert problem["unknown_permit_ids"] == [str(unknown), str(foreign.id)]
    assert str(unknown) in problem["detail"]
    assert str(foreign.id) in problem["detail"]


async def test_a_permit_listed_twice_is_refused(app, client, world):
    permits = await add_permits(app, world, 1)
    body = submission([permits[0].id, permits[0].id])
    problem = await refused(app, client, world, world.diplomat, body)
    assert problem["duplicate_permit_ids"] == [str(permits[0].id)]


@pytest.mark.parametrize("permit_ids", [[], ["not-a-uuid"], None])
async def test_permit_ids_are_required(app, client, world, permit_ids):
    body = request_body([]) | {"permit_ids": permit_ids}
    await refused(app, client, world, world.officer, body)


async def test_each_side_sends_its_own_shape(app, client, world):
    permits = await add_permits(app, world, 1)
    authority = await refused(app, client, world, world.officer, submission([permits[0].id]))
    counterpart = await refused(app, client, world, world.diplomat, request_body([permits[0].id]))
    assert "requests" in authority["detail"]
    assert "full assurance" in counterpart["detail"]


@pytest.mark.parametrize("body", [[], "x", {"anything": 1}, {}])
async def test_a_body_of_no_shape_is_refused(app, client, world, body):
    await refused(app, client, world, world.officer, body)


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("submit", certificate() | {"permit_ids": []}),  # a request fixed the permits
        ("submit", certificate() | {"status": "accepted"}),
        ("submit", {}),
        ("accept", {"reason": "fine"}),
        ("accept", {"status": "accepted"}),
        ("withdraw", {"reason": "x"}),
        ("reject", {"reason": "x", "status": "accepted"}),
        ("reject", {"reason": "x" * 2001}),
    ],
)
async def test_step_bodies_are_strict(app, client, world, step, body):
    permits = await add_permits(app, world, 1)
    if step == "submit":
        assurance = await add_requested(app, world, [permits[0].id])
    else:
        assurance = await add_assurance(app, world, [permits[0].id], status="submitted")
    persona = world.diplomat if step in ("submit", "withdraw") else world.officer
    before = (await stored(app, assurance.id)).status

    response = await client.post(step_path(assurance.id, step), json=body, headers=persona.headers)

    assert_problem(response, 422)
    assert (await stored(app, assurance.id)).status == before
    assert await events(app) == []


async def test_submitting_to_a_request_checks_the_certificate(app, client, world):
    permits = await add_permits(app, world, 1)
    assurance = await add_requested(app, world, [permits[0].id])
    today = date.today()
    body = certificate(
        issue_date=today.isoformat(), valid_until=(today - timedelta(days=3)).isoformat()
    )
    response = await client.post(
        step_path(assurance.id, "submit"), json=body, headers=world.diplomat.headers
    )

    assert_problem(response, 422)
    assert (await stored(app, assurance.id)).status == "requested"


async def test_a_bad_status_filter_is_refused(client, world):
    response = await client.get(
        collection(world), params={"status": "lost"}, headers=world.officer.headers
    )
    assert_problem(response, 422)
