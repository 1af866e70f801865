"""The access table of SPEC section 2, endpoint by endpoint.

Outsiders and observers learn nothing (404); a party's member without the role, or an API
client without ``assurances:write``, is told no (403). Every refusal is an audit entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import assert_problem
from tests.assurances.helpers import (
    STEP_BODIES,
    add_requested,
    collection,
    count_assurances,
    counterpart_officer,
    events,
    request_body,
    step_path,
    stored,
    submission,
)
from tests.domain import add_assurance, add_permits
from tests.factories import Persona, audit_actions, client_persona

CLIENTS = {
    "ca_writer": ("CA-GAC", ["assurances:write"]),
    "ca_reader": ("CA-GAC", ["assurances:read"]),
    "tr_writer": ("TR-MFA", ["assurances:write"]),
    "tr_reader": ("TR-MFA", ["assurances:read", "permits:write"]),
    "cbsa_client": ("CA-CBSA", ["assurances:read", "assurances:write"]),
}
OUTSIDERS = [("cbsa_officer", 404), ("cbsa_client", 404), ("other_admin", 404)]


async def persona(app, world, name: str) -> Persona:
    if name in CLIENTS:
        org_code, scopes = CLIENTS[name]
        return await client_persona(app, world, org_code, scopes)
    if name == "tr_officer":
        return await counterpart_officer(app, world)
    return getattr(world, name)


async def denials(app) -> int:
    return len(await audit_actions(app, action="access.denied"))


async def call(app, client, world, name: str, method: str, path: str, body: Any = None):
    """The call as ``name``, checking that a refusal was audited and an answer was not."""
    who = await persona(app, world, name)
    denied = await denials(app)
    response = await client.request(method, path, json=body, headers=who.headers)
    refused = response.status_code in (403, 404)
    assert await denials(app) == denied + refused
    if refused:
        assert_problem(response, response.status_code)
    return response


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("officer", 201),
        ("ca_writer", 201),
        ("approver", 403),
        ("auditor", 403),
        ("host_admin", 403),
        ("ca_reader", 403),
        ("permit_system", 403),
        *OUTSIDERS,
    ],
)
async def test_requesting(app, client, world, name, status):
    permits = await add_permits(app, world, 1)
    body = request_body([permits[0].id])
    response = await call(app, client, world, name, "POST", collection(world), body)

    assert response.status_code == status, response.text
    assert await count_assurances(app) == (status == 201)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("diplomat", 201),
        ("tr_officer", 201),
        ("tr_writer", 201),
        ("tr_auditor", 403),
        ("tr_admin", 403),
        ("tr_reader", 403),
        *OUTSIDERS,
    ],
)
async def test_submitting_unasked(app, client, world, name, status):
    permits = await add_permits(app, world, 1)
    body = submission([permits[0].id])
    response = await call(app, client, world, name, "POST", collection(world), body)

    assert response.status_code == status, response.text
    assert await count_assurances(app) == (status == 201)


COUNTERPART_STEP = [
    ("diplomat", 200),
    ("tr_officer", 200),
    ("tr_writer", 200),
    ("officer", 403),
    ("ca_writer", 403),
    ("tr_auditor", 403),
    ("tr_admin", 403),
    ("tr_reader", 403),
    *OUTSIDERS,
]
AUTHORITY_STEP = [
    ("officer", 200),
    ("ca_writer", 200),
    ("approver", 403),
    ("auditor", 403),
    ("ca_reader", 403),
    ("diplomat", 403),
    ("tr_writer", 403),
    ("tr_auditor", 403),
    *OUTSIDERS,
]
STEP_CASES = [
    *[("submit", "requested", name, status) for name, status in COUNTERPART_STEP],
    *[("withdraw", "submitted", name, status) for name, status in COUNTERPART_STEP],
    *[("accept", "submitted", name, status) for name, status in AUTHORITY_STEP],
    *[("reject", "submitted", name, status) for name, status in AUTHORITY_STEP],
]


@pytest.mark.parametrize(("step", "source", "name", "status"), STEP_CASES)
async def test_stepping(app, client, world, step, source, name, status):
    permits = await add_permits(app, world, 1)
    if source == "requested":
        assurance = await add_requested(app, world, [permits[0].id])
    else:
        assurance = await add_assurance(app, world, [permits[0].id], status=source)
    path = step_path(assurance.id, step)
    response = await call(app, client, world, name, "POST", path, STEP_BODIES[step])

    assert response.status_code == status, response.text
    moved = (await stored(app, assurance.id)).status != source
    assert moved == (status == 200)
    assert len(await events(app)) == (status == 200)


READERS = [
    ("officer", 200),
    ("approver", 200),
    ("auditor", 200),
    ("host_admin", 200),
    ("ca_reader", 200),
    ("diplomat", 200),
    ("tr_auditor", 200),
    ("tr_admin", 200),
    ("tr_reader", 200),
    ("ca_writer", 403),
    ("permit_system", 403),
    *OUTSIDERS,
]


@pytest.mark.parametrize(("name", "status"), READERS)
async def test_reading_one(app, client, world, name, status):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id])
    response = await call(app, client, world, name, "GET", f"/api/v1/assurances/{assurance.id}")

    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["id"] == str(assurance.id)


@pytest.mark.parametrize(("name", "status"), READERS)
async def test_listing(app, client, world, name, status):
    permits = await add_permits(app, world, 1)
    await add_assurance(app, world, [permits[0].id])
    response = await call(app, client, world, name, "GET", collection(world))

    assert response.status_code == status, response.text
    if status == 200:
        assert len(response.json()["items"]) == 1


async def test_an_unknown_id_looks_like_an_invisible_one(app, client, world):
    permits = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permits[0].id])
    unknown = "00000000-0000-4000-8000-000000000000"
    missing = await client.get(f"/api/v1/assurances/{unknown}", headers=world.other_admin.headers)
    hidden = await client.get(
        f"/api/v1/assurances/{assurance.id}", headers=world.other_admin.headers
    )

    first, second = assert_problem(missing, 404), assert_problem(hidden, 404)
    assert (first["detail"], first["code"]) == (second["detail"], second["code"])


async def test_without_a_token(client, world):
    response = await client.get(collection(world))
    assert_problem(response, 401)
