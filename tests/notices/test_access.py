"""The access table of SPEC section 2 for every notices endpoint, and what a denial leaves."""

from __future__ import annotations

from uuid import uuid4

import pytest

from service.auth.principal import SCOPES
from tests.api.support import assert_problem
from tests.domain import add_permits
from tests.factories import client_persona
from tests.notices.helpers import audit_entries, draft, drafted_and_issued, notice_body
from tests.webhooks import stable

CLIENTS = {
    "aut_client": ("CA-GAC", sorted(SCOPES)),  # every scope there is: still never issues
    "aut_reader": ("CA-GAC", ["notices:read"]),
    "ctp_client": ("TR-MFA", ["notices:read", "notices:acknowledge"]),
    "ctp_client_none": ("TR-MFA", ["permits:read"]),
}


async def persona_for(app, world, name):
    if name in CLIENTS:
        org, scopes = CLIENTS[name]
        return await client_persona(app, world, org, scopes)
    if name == "aut_client_none":
        return world.permit_system  # permits scopes only
    return getattr(world, name)


async def scene(app, client, world):
    permits = await add_permits(app, world, 3)
    drafted = await draft(client, world, "suspension", [permits[0].id])
    issued = await drafted_and_issued(client, world, "suspension", [permits[1].id])
    return permits, drafted, issued


def request_for(endpoint, world, permits, drafted, issued):
    """(method, path, json body) for the endpoint under test."""
    draft_url, issued_url = f"/api/v1/notices/{drafted['id']}", f"/api/v1/notices/{issued['id']}"
    return {
        "draft": ("POST", f"/api/v1/dialogues/{world.dialogue_id}/notices",
                  notice_body("suspension", [permits[2].id])),
        "list": ("GET", f"/api/v1/dialogues/{world.dialogue_id}/notices", None),
        "get_draft": ("GET", draft_url, None),
        "get_issued": ("GET", issued_url, None),
        "edit": ("PATCH", draft_url, {"summary": "revised"}),
        "issue": ("POST", f"{draft_url}/issue", {}),
        "acknowledge": ("POST", f"{issued_url}/acknowledge", {}),
        "signed": ("GET", f"{issued_url}/signed", None),
    }[endpoint]  # fmt: skip


TABLE = {
    "draft": {"officer": 201, "approver": 403, "auditor": 403, "diplomat": 403,
              "cbsa_officer": 403, "other_admin": 404, "aut_client": 201,
              "aut_client_none": 403, "ctp_client": 403},
    "list": {"officer": 200, "auditor": 200, "diplomat": 200, "cbsa_officer": 200,
             "other_admin": 404, "aut_reader": 200, "aut_client_none": 403,
             "ctp_client_none": 403},
    "get_draft": {"officer": 200, "approver": 200, "auditor": 200, "diplomat": 404,
                  "tr_admin": 404, "cbsa_officer": 404, "other_admin": 404,
                  "aut_reader": 200, "aut_client_none": 403, "ctp_client": 404},
    "get_issued": {"diplomat": 200, "tr_admin": 200, "cbsa_officer": 200, "other_admin": 404,
                   "aut_client_none": 403, "ctp_client": 200},
    "edit": {"officer": 200, "approver": 403, "auditor": 403, "diplomat": 404,
             "cbsa_officer": 404, "other_admin": 404, "aut_client": 200,
             "aut_client_none": 403},
    "issue": {"approver": 200, "officer": 403, "auditor": 403, "host_admin": 403,
              "diplomat": 404, "cbsa_officer": 404, "other_admin": 404, "aut_client": 403},
    "acknowledge": {"diplomat": 200, "tr_admin": 403, "officer": 403, "approver": 403,
                    "cbsa_officer": 403, "other_admin": 404, "ctp_client": 200,
                    "ctp_client_none": 403, "aut_client": 403},
    "signed": {"officer": 200, "diplomat": 200, "cbsa_officer": 200, "other_admin": 404,
               "aut_client_none": 403, "ctp_client": 200},
}  # fmt: skip
CASES = [(endpoint, who, status) for endpoint, row in TABLE.items() for who, status in row.items()]


@pytest.mark.parametrize(("endpoint", "who", "expected"), CASES)
async def test_access_table(app, client, world, endpoint, who, expected):
    permits, drafted, issued = await scene(app, client, world)
    persona = await persona_for(app, world, who)
    method, path, body = request_for(endpoint, world, permits, drafted, issued)
    response = await client.request(method, path, json=body, headers=persona.headers)
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert_problem(response, expected)
        [entry] = [
            e for e in await audit_entries(app, "access.denied") if e.details["path"] == path
        ]
        assert entry.actor_id == persona.id
        assert entry.details["status"] == expected


async def test_an_outsider_cannot_tell_a_notice_from_a_random_id(app, client, world):
    _permits, _drafted, issued = await scene(app, client, world)
    headers = world.other_admin.headers
    real = await client.get(f"/api/v1/notices/{issued['id']}", headers=headers)
    fake = await client.get(f"/api/v1/notices/{uuid4()}", headers=headers)
    strip = {"request_id", "instance"}
    real_body, fake_body = assert_problem(real, 404), assert_problem(fake, 404)
    assert {k: v for k, v in real_body.items() if k not in strip} == {
        k: v for k, v in fake_body.items() if k not in strip
    }


async def test_a_counterpart_cannot_tell_a_draft_from_a_random_id(app, client, world):
    _permits, drafted, _issued = await scene(app, client, world)
    headers = world.diplomat.headers
    real = await client.patch(f"/api/v1/notices/{drafted['id']}", json={}, headers=headers)
    fake = await client.patch(f"/api/v1/notices/{uuid4()}", json={}, headers=headers)
    assert stable(assert_problem(real, 404)) == stable(assert_problem(fake, 404))


async def test_a_counterpart_probing_a_draft_is_audited(app, client, world):
    _permits, drafted, _issued = await scene(app, client, world)
    response = await client.get(f"/api/v1/notices/{drafted['id']}", headers=world.diplomat.headers)
    assert_problem(response, 404)
    [entry] = await audit_entries(app, "access.denied")
    assert (entry.entity_type, entry.entity_id) == ("decision_notice", drafted["id"])
    assert entry.actor_id == world.diplomat.id
