"""SECURITY.md, Access: BOLA, BFLA, mass assignment.

- Another organization's object by id → 404 with a body identical to a random id's, ∅, audit.
- Roles come from the server, never from a request body; server-owned fields → 422, ∅.
(Lists, filters and cursors copied from another organization: tests/abuse/test_pagination.py.)
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from tests.abuse.catalogue import Row, check, params
from tests.abuse.scene import now_iso
from tests.assurances.helpers import request_body
from tests.consultations.helpers import new_consultation
from tests.domain import permit_body

DRAFT = {"kind": "general", "summary": "S", "rationale": "R", "legal_basis": "L"}
WEBHOOK = {"url": "http://127.0.0.1:9/hook", "event_types": ["notice.issued"]}


def probe(method: str, path: str, persona: str = "officer", json=None) -> Row:
    """Another organization's object: 404, ∅, one ``access.denied`` entry."""
    name = f"{persona} {method} {path.replace('/api/v1', '')}"
    kwargs = {} if json is None else {"json": json}
    return Row(name, method, path, 404, persona, audit="access.denied", code="not-found", **kwargs)


THEIRS = [
    probe("GET", "/api/v1/dialogues/{their_dialogue}"),
    probe("GET", "/api/v1/dialogues/{their_dialogue}/permits"),
    probe("POST", "/api/v1/dialogues/{their_dialogue}/permits", json=permit_body("EXP-7001")),
    probe(
        "POST",
        "/api/v1/dialogues/{their_dialogue}/permits/bulk",
        json={"permits": [permit_body("EXP-7002")]},
    ),
    probe("GET", "/api/v1/dialogues/{their_dialogue}/assurances"),
    probe(
        "POST",
        "/api/v1/dialogues/{their_dialogue}/assurances",
        json=request_body(["{their_permit}"]),
    ),
    probe("GET", "/api/v1/dialogues/{their_dialogue}/consultations"),
    probe("POST", "/api/v1/dialogues/{their_dialogue}/consultations", json=new_consultation()),
    probe("GET", "/api/v1/dialogues/{their_dialogue}/notices"),
    probe("POST", "/api/v1/dialogues/{their_dialogue}/notices", json=DRAFT),
    probe(
        "POST",
        "/api/v1/dialogues/{their_dialogue}/observers",
        "host_admin",
        json={"observer_ids": ["{tr_org}"]},
    ),
    probe("GET", "/api/v1/permits/{their_permit}"),
    probe("GET", "/api/v1/permits/{their_permit}/history"),
    probe("GET", "/api/v1/assurances/{their_assurance}"),
    probe("POST", "/api/v1/assurances/{their_assurance}/accept", json={}),
    probe("POST", "/api/v1/assurances/{their_assurance}/reject", json={"reason": "no"}),
    probe("POST", "/api/v1/assurances/{their_assurance}/withdraw", "diplomat", json={}),
    probe("GET", "/api/v1/consultations/{their_consultation}"),
    probe("GET", "/api/v1/consultations/{their_consultation}/messages"),
    probe("POST", "/api/v1/consultations/{their_consultation}/messages", json={"body": "Hi"}),
    probe("POST", "/api/v1/consultations/{their_consultation}/close", json={"outcome": "resolved"}),
    probe("POST", "/api/v1/consultations/{their_consultation}/read"),
    probe("GET", "/api/v1/notices/{their_notice}"),
    probe("PATCH", "/api/v1/notices/{their_notice}", json={"summary": "Changed"}),
    probe("POST", "/api/v1/notices/{their_notice}/issue", "approver", json={}),
    probe("POST", "/api/v1/notices/{their_notice}/acknowledge", "diplomat", json={}),
    probe("GET", "/api/v1/notices/{their_notice}/signed"),
    probe("GET", "/api/v1/organizations/{their_org}", "tr_admin"),
    probe("PATCH", "/api/v1/organizations/{their_org}", "tr_admin", json={"name": "Mine"}),
    probe("GET", "/api/v1/users/{their_user}", "tr_admin"),
    probe("PATCH", "/api/v1/users/{their_user}", "tr_admin", json={"roles": ["auditor"]}),
    probe("GET", "/api/v1/clients/{their_client}", "tr_admin"),
    probe("DELETE", "/api/v1/clients/{their_client}", "tr_admin"),
    probe("GET", "/api/v1/webhooks/{their_webhook}", "tr_admin"),
    probe("PATCH", "/api/v1/webhooks/{their_webhook}", "tr_admin", json={"enabled": False}),
    probe("DELETE", "/api/v1/webhooks/{their_webhook}", "tr_admin"),
    probe("POST", "/api/v1/webhooks/{their_webhook}/rotate-secret", "tr_admin"),
    probe("POST", "/api/v1/webhooks/{their_webhook}/test", "tr_admin"),
    probe("GET", "/api/v1/webhooks/{their_webhook}/deliveries", "tr_admin"),
    probe(
        "POST",
        "/api/v1/webhooks/{their_webhook}/redeliver-failed",
        "tr_admin",
        json={"since": now_iso(-1)},
    ),
]


def without_ids(body: dict, ids: list[str]) -> dict:
    """A problem body as the caller sees it, less the request id and the id they asked for."""
    body = {key: value for key, value in body.items() if key != "request_id"}
    for value in ids:
        body = {key: str(item).replace(value, "ID") for key, item in body.items()}
    return body


@pytest.mark.parametrize("row", params(THEIRS))
async def test_another_organizations_object(scene, row):
    """404, ∅ and an audit entry naming the object; the same answer as for an id never issued."""
    target = row.path.split("{")[1].split("}")[0]
    their_id = scene.ids[target]
    scene.ids["random"] = str(uuid.uuid4())
    theirs = await check(scene, row)
    random = await check(scene, replace(row, path=row.path.replace(target, "random")))
    ids = [their_id, scene.ids["random"]]
    assert without_ids(theirs.json(), ids) == without_ids(random.json(), ids)
    assert theirs.headers.keys() == random.headers.keys()


MASS_ASSIGNMENT = [
    Row(f"{path_name} sets {field}", method, path, 422, persona, json=body | {field: value})
    for path_name, method, path, persona, body, fields in [
        (
            "organization",
            "POST",
            "/api/v1/organizations",
            "host_admin",
            {"code": "DE-BAFA", "name": "BAFA", "country": "DE", "kind": "licensing_authority"},
            {
                "id": str(uuid.uuid4()),
                "is_host": True,
                "active": False,
                "created_at": "2020-01-01T00:00:00Z",
                "code_key": "de-bafa",
            },
        ),
        (
            "organization update",
            "PATCH",
            "/api/v1/organizations/{tr_org}",
            "host_admin",
            {"name": "Renamed"},
            {"is_host": True, "code": "XX-NEW", "kind": "observer", "id": str(uuid.uuid4())},
        ),
        (
            "user",
            "POST",
            "/api/v1/users",
            "host_admin",
            {
                "organization_id": "{host_org}",
                "username": "new-officer",
                "display_name": "New",
                "password": "a long enough password",
                "roles": ["officer"],
            },
            {
                "id": str(uuid.uuid4()),
                "active": False,
                "password_hash": "$argon2id$v=19$m=1,t=1,p=1$x$y",
                "username_key": "admin",
                "external_issuer": "https://idp.example",
            },
        ),
        (
            "user update",
            "PATCH",
            "/api/v1/users/{officer}",
            "host_admin",
            {"display_name": "Renamed"},
            {"organization_id": "{tr_org}", "username": "root", "id": str(uuid.uuid4())},
        ),
        (
            "client",
            "POST",
            "/api/v1/clients",
            "host_admin",
            {"organization_id": "{host_org}", "name": "System", "scopes": ["permits:read"]},
            {"client_id": "chosen-id", "secret_digest": "0" * 64, "active": True},
        ),
        (
            "permit",
            "POST",
            "/api/v1/dialogues/{dialogue}/permits",
            "officer",
            permit_body("EXP-8001"),
            {
                "id": str(uuid.uuid4()),
                "status": "suspended",
                "dialogue_id": "{their_dialogue}",
                "authority_id": "{tr_org}",
                "created_at": "2020-01-01T00:00:00Z",
                "number_key": "exp-0001",
            },
        ),
        (
            "notice",
            "POST",
            "/api/v1/dialogues/{dialogue}/notices",
            "officer",
            DRAFT,
            {
                "status": "issued",
                "reference": "CA-2020-0001",
                "signed_jws": "a.b.c",
                "drafted_by": "{tr_admin}",
                "issued_by": "{officer}",
                "author_ids": [],
            },
        ),
        (
            "notice update",
            "PATCH",
            "/api/v1/notices/{our_notice}",
            "officer",
            {"summary": "Revised"},
            {"status": "issued", "issued_at": "2020-01-01T00:00:00Z", "author_ids": []},
        ),
        (
            "message",
            "POST",
            "/api/v1/consultations/{our_consultation}/messages",
            "officer",
            {"body": "Hello"},
            {"sha256": "0" * 64, "author_id": "{tr_admin}", "side": "counterpart"},
        ),
        (
            "webhook",
            "POST",
            "/api/v1/webhooks",
            "host_admin",
            WEBHOOK,
            {"secret": "whsec_chosen", "organization_id": "{tr_org}", "failing_since": None},
        ),
        (
            "webhook update",
            "PATCH",
            "/api/v1/webhooks/{our_webhook}",
            "host_admin",
            {"description": "Renamed"},
            {"secret": "whsec_chosen", "organization_id": "{tr_org}", "disabled_at": None},
        ),
    ]
    for field, value in fields.items()
]

MASS_ASSIGNED = {row.id: row.id.split(" sets ")[1] for row in MASS_ASSIGNMENT}
ROLES_FROM_THE_BODY = [
    Row(
        "webhook for another organization's dialogue",
        "POST",
        "/api/v1/webhooks",
        422,
        "tr_admin",
        json=WEBHOOK | {"dialogue_ids": ["{their_dialogue}"]},
    ),
    Row(
        "webhook for a dialogue never opened",
        "POST",
        "/api/v1/webhooks",
        422,
        "tr_admin",
        json=WEBHOOK | {"dialogue_ids": [str(uuid.uuid4())]},
    ),
    Row(
        "consultation naming another dialogue's permit",
        "POST",
        "/api/v1/dialogues/{dialogue}/consultations",
        422,
        "officer",
        json=new_consultation(permit_ids=["{their_permit}"]),
    ),
    Row(
        "notice naming another dialogue's permit",
        "POST",
        "/api/v1/dialogues/{dialogue}/notices",
        422,
        "officer",
        json=DRAFT | {"kind": "suspension", "permit_ids": ["{their_permit}"]},
    ),
    Row(
        "officer grants themself admin",
        "PATCH",
        "/api/v1/users/{officer}",
        403,
        "officer",
        json={"roles": ["officer", "admin"]},
        audit="access.denied",
    ),
    Row(
        "officer creates an admin",
        "POST",
        "/api/v1/users",
        403,
        "officer",
        json={
            "organization_id": "{host_org}",
            "username": "shadow-admin",
            "display_name": "Shadow",
            "password": "a long enough password",
            "roles": ["admin"],
        },
        audit="access.denied",
    ),
    Row(
        "counterpart admin creates a user in the host",
        "POST",
        "/api/v1/users",
        403,
        "tr_admin",
        json={
            "organization_id": "{host_org}",
            "username": "planted",
            "display_name": "Planted",
            "password": "a long enough password",
            "roles": ["officer"],
        },
        audit="access.denied",
    ),
    Row(
        "counterpart admin gives a diplomat an authority role",
        "PATCH",
        "/api/v1/users/{diplomat}",
        422,
        "tr_admin",
        json={"roles": ["approver"]},
    ),
    Row(
        "api client drafts a notice",
        "POST",
        "/api/v1/dialogues/{dialogue}/notices",
        403,
        "permit_system",
        json=DRAFT,
        audit="access.denied",
    ),
    Row(
        "api client creates an api client",
        "POST",
        "/api/v1/clients",
        403,
        "permit_system",
        json={"organization_id": "{host_org}", "name": "Escalated", "scopes": ["permits:read"]},
        audit="access.denied",
    ),
]


@pytest.mark.parametrize("row", params(MASS_ASSIGNMENT + ROLES_FROM_THE_BODY))
async def test_what_the_body_may_not_decide(scene, row):
    response = await check(scene, row)
    if row.id in MASS_ASSIGNED:
        errors = response.json()["errors"]
        assert [(e["loc"], e["type"]) for e in errors] == [
            (["body", MASS_ASSIGNED[row.id]], "extra_forbidden")
        ]


async def test_the_catalogue_sees_a_change_that_adds_no_row(scene):
    """What ∅ rests on: a PATCH that is allowed shows as a changed table, with its audit entry."""
    row = Row(
        "renaming an organization",
        "PATCH",
        "/api/v1/organizations/{tr_org}",
        200,
        json={"name": "Renamed"},
        stored={"organization": 0},
        audit="organization.updated",
    )
    await check(scene, row)
