"""The access table of SPEC section 2 for every permit endpoint.

Only the authority's officers (and its systems holding ``permits:write``) register; every side
of the dialogue reads, observers included; outsiders cannot tell the dialogue or permit exists.
"""

from __future__ import annotations

import pytest

from tests.api.support import assert_problem
from tests.domain import add_permits, permit_body
from tests.factories import audit_actions, client_persona
from tests.permits.helpers import count_events, permits_url, stored_numbers

REGISTER = {
    "officer": 201,
    "permit_system": 201,
    "writer_without_read": 201,
    "approver": 403,
    "auditor": 403,
    "host_admin": 403,
    "diplomat": 403,
    "tr_admin": 403,
    "cbsa_officer": 403,
    "reader_system": 403,
    "counterpart_system": 403,
    "other_admin": 404,
    "outsider_system": 404,
}
READ = {
    "officer": 200,
    "approver": 200,
    "auditor": 200,
    "permit_system": 200,
    "reader_system": 200,
    "writer_without_read": 403,
    "diplomat": 200,
    "tr_auditor": 200,
    "counterpart_system": 200,
    "cbsa_officer": 200,
    "other_admin": 404,
    "other_auditor": 404,
    "outsider_system": 404,
}
SYSTEMS = {
    "reader_system": ("CA-GAC", ["permits:read"]),
    "writer_without_read": ("CA-GAC", ["permits:write"]),
    "counterpart_system": ("TR-MFA", ["permits:read", "permits:write"]),
    "outsider_system": ("GB-ECJU", ["permits:read", "permits:write"]),
}


async def persona(app, world, name):
    if name in SYSTEMS:
        org_code, scopes = SYSTEMS[name]
        return await client_persona(app, world, org_code, scopes)
    return getattr(world, name)


async def assert_answer(app, caller, response, expected):
    """The expected status; a refusal leaves one ``access.denied`` entry naming the caller."""
    denials = await audit_actions(app, action="access.denied", actor_id=caller.id)
    if expected < 400:
        assert response.status_code == expected, response.text
        assert denials == []
        return
    assert_problem(response, expected)
    assert denials == ["access.denied"]


@pytest.mark.parametrize(("name", "expected"), REGISTER.items())
async def test_register(client, world, app, name, expected):
    caller = await persona(app, world, name)
    response = await client.post(
        permits_url(world), json=permit_body("EXP-1"), headers=caller.headers
    )
    await assert_answer(app, caller, response, expected)
    assert await stored_numbers(app) == (["EXP-1"] if expected == 201 else [])
    assert await count_events(app) == (1 if expected == 201 else 0)


@pytest.mark.parametrize(("name", "expected"), REGISTER.items())
async def test_bulk_register(client, world, app, name, expected):
    caller = await persona(app, world, name)
    body = {"permits": [permit_body("EXP-1"), permit_body("EXP-2")]}
    response = await client.post(f"{permits_url(world)}/bulk", json=body, headers=caller.headers)
    await assert_answer(app, caller, response, expected)
    assert len(await stored_numbers(app)) == (2 if expected == 201 else 0)


@pytest.mark.parametrize(("name", "expected"), READ.items())
@pytest.mark.parametrize("path", ["list", "permit", "history"])
async def test_read(client, world, app, name, expected, path):
    [permit] = await add_permits(app, world, 1)
    caller = await persona(app, world, name)
    url = {
        "list": permits_url(world),
        "permit": f"/api/v1/permits/{permit.id}",
        "history": f"/api/v1/permits/{permit.id}/history",
    }[path]
    response = await client.get(url, headers=caller.headers)
    await assert_answer(app, caller, response, expected)


async def test_an_outsider_cannot_tell_a_permit_from_a_missing_one(client, world, app):
    [permit] = await add_permits(app, world, 1)
    missing = "00000000-0000-4000-8000-000000000000"
    seen = await client.get(f"/api/v1/permits/{permit.id}", headers=world.other_admin.headers)
    absent = await client.get(f"/api/v1/permits/{missing}", headers=world.other_admin.headers)
    assert_problem(seen, 404)
    assert_problem(absent, 404)
    assert seen.json()["detail"] == absent.json()["detail"]
