"""The access table of SPEC section 2 for every consultation endpoint.

Each persona walks every endpoint in turn; closing comes last because it ends the consultation.
"""

from __future__ import annotations

import pytest

from tests.api.support import assert_problem
from tests.consultations.helpers import (
    counterpart_officer,
    dialogue_url,
    new_consultation,
    open_consultation,
    post,
    url,
)
from tests.factories import audit_actions, client_persona

ENDPOINTS = ("open", "list", "get", "post", "messages", "read", "close")
WRITER = dict(zip(ENDPOINTS, (201, 200, 200, 201, 200, 200, 200), strict=True))
READER = dict(zip(ENDPOINTS, (403, 200, 200, 403, 200, 403, 403), strict=True))
HIDDEN = dict.fromkeys(ENDPOINTS, 404)
REFUSED = dict.fromkeys(ENDPOINTS, 403)

USERS = {
    "officer": WRITER,
    "diplomat": WRITER | {"close": 403},
    "approver": READER,
    "auditor": READER,
    "tr_admin": READER,
    "tr_auditor": READER,
    "cbsa_officer": HIDDEN,
    "other_admin": HIDDEN,
}
CLIENTS = {
    ("CA-GAC", ("consultations:read", "consultations:write")): WRITER,
    ("TR-MFA", ("consultations:read", "consultations:write")): WRITER,
    ("CA-GAC", ("consultations:read",)): READER,
    ("TR-MFA", ("consultations:write",)): WRITER | {"list": 403, "get": 403, "messages": 403},
    ("CA-GAC", ("permits:read", "permits:write", "notices:write")): REFUSED,
    ("CA-CBSA", ("consultations:read", "consultations:write")): HIDDEN,
}


async def walk(client, world, persona, cid: str) -> dict[str, int]:
    headers = persona.headers
    calls = {
        "open": lambda: client.post(dialogue_url(world), json=new_consultation(), headers=headers),
        "list": lambda: client.get(dialogue_url(world), headers=headers),
        "get": lambda: client.get(url(cid), headers=headers),
        "post": lambda: client.post(url(cid, "/messages"), json={"body": "Hi"}, headers=headers),
        "messages": lambda: client.get(url(cid, "/messages"), headers=headers),
        "read": lambda: client.post(url(cid, "/read"), headers=headers),
        "close": lambda: client.post(
            url(cid, "/close"), json={"outcome": "resolved"}, headers=headers
        ),
    }
    statuses = {}
    for name in ENDPOINTS:
        response = await calls[name]()
        statuses[name] = response.status_code
        if response.status_code >= 400:
            assert_problem(response, response.status_code)
    return statuses


async def consultation_with_a_message(client, world) -> str:
    cid = (await open_consultation(client, world))["id"]
    await post(client, world.diplomat, cid, "Something to read.")
    return cid


@pytest.mark.parametrize("name", sorted(USERS))
async def test_users(app, client, world, name):
    cid = await consultation_with_a_message(client, world)
    assert await walk(client, world, getattr(world, name), cid) == USERS[name]


@pytest.mark.parametrize(("org", "scopes"), sorted(CLIENTS))
async def test_api_clients(app, client, world, org, scopes):
    cid = await consultation_with_a_message(client, world)
    persona = await client_persona(app, world, org, list(scopes))
    assert await walk(client, world, persona, cid) == CLIENTS[org, scopes]


async def test_a_counterpart_officer_may_close(app, client, world):
    cid = await consultation_with_a_message(client, world)
    officer = await counterpart_officer(app, world)
    assert await walk(client, world, officer, cid) == WRITER


async def test_the_other_dialogue_hides_its_consultations(app, client, world):
    other = f"/api/v1/dialogues/{world.other_dialogue_id}/consultations"
    response = await client.post(other, json=new_consultation(), headers=world.officer.headers)
    assert_problem(response, 404)
    listed = await client.get(other, headers=world.diplomat.headers)
    assert_problem(listed, 404)


async def test_denials_are_audited(app, client, world):
    cid = await consultation_with_a_message(client, world)
    before = len(await audit_actions(app, action="access.denied"))

    forbidden = await client.post(
        url(cid, "/close"), json={"outcome": "resolved"}, headers=world.approver.headers
    )
    hidden = await client.get(url(cid), headers=world.cbsa_officer.headers)
    posted = await client.post(
        url(cid, "/messages"), json={"body": "Hi"}, headers=world.auditor.headers
    )

    assert_problem(forbidden, 403)
    assert_problem(hidden, 404)
    assert_problem(posted, 403)
    assert len(await audit_actions(app, action="access.denied")) == before + 3
    assert await audit_actions(app, action="access.denied", entity_id=cid) == ["access.denied"]
