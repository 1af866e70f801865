"""SECURITY.md, Tokens: every forged, broken, mis-typed or withdrawn bearer token → 401, ∅, audit.

The answer is the same problem for every reason (the reason is in the audit entry only), and a
refused write stores nothing.
"""

from __future__ import annotations

import pytest

from service.parties.models import ApiClient, Organization
from tests.abuse.catalogue import Row, check, params
from tests.abuse.scene import Scene, deactivate_user
from tests.abuse.tokens import ATTACKS, Attack
from tests.domain import permit_body


def attack(build: Attack):
    return lambda scene: build(scene.app, scene.world)


def persona_token(persona: str):
    return lambda scene: scene.world.people[persona].headers


async def deactivate_org(scene: Scene, code: str) -> None:
    org_id = scene.world.orgs[code].id
    table = Organization.__table__
    await scene.connection.execute(table.update().where(table.c.id == org_id).values(active=False))


async def revoke_permit_system(scene: Scene) -> None:
    client_id = scene.world.permit_system.id
    table = ApiClient.__table__
    await scene.connection.execute(
        table.update().where(table.c.id == client_id).values(active=False)
    )


def refused(name: str, method: str, path: str, **kwargs) -> Row:
    return Row(
        name, method, path, 401, audit="auth.token_rejected", code="unauthenticated", **kwargs
    )


READS = [refused(name, "GET", "/api/v1/me", auth=attack(build)) for name, build in ATTACKS.items()]

PERMITS = "/api/v1/dialogues/{dialogue}/permits"
WRITES = [
    refused(
        f"{name} registering a permit",
        "POST",
        PERMITS,
        auth=attack(ATTACKS[name]),
        json=permit_body("EXP-9001"),
    )
    for name in ("alg none", "hs256 keyed with public pem", "expired", "tampered payload")
]

WITHDRAWN = [
    refused(
        "deactivated user",
        "GET",
        "/api/v1/me",
        auth=persona_token("officer"),
        prepare=lambda scene: deactivate_user(scene, "officer"),
    ),
    refused(
        "deactivated user registering a permit",
        "POST",
        PERMITS,
        json=permit_body("EXP-9002"),
        auth=persona_token("officer"),
        prepare=lambda scene: deactivate_user(scene, "officer"),
    ),
    refused(
        "user of a removed organization",
        "GET",
        "/api/v1/dialogues/{dialogue}",
        auth=persona_token("diplomat"),
        prepare=lambda scene: deactivate_org(scene, "TR-MFA"),
    ),
    refused(
        "admin of a removed organization creating a user",
        "POST",
        "/api/v1/users",
        json={
            "organization_id": "{tr_org}",
            "username": "tr-newcomer",
            "display_name": "Newcomer",
            "password": "a long enough password",
            "roles": ["diplomat"],
        },
        auth=persona_token("tr_admin"),
        prepare=lambda scene: deactivate_org(scene, "TR-MFA"),
    ),
    refused(
        "revoked api client",
        "GET",
        PERMITS,
        auth=persona_token("permit_system"),
        prepare=revoke_permit_system,
    ),
    refused(
        "api client of a removed organization",
        "POST",
        PERMITS,
        json=permit_body("EXP-9003"),
        auth=persona_token("permit_system"),
        prepare=lambda scene: deactivate_org(scene, "CA-GAC"),
    ),
]


@pytest.mark.parametrize("row", params(READS + WRITES + WITHDRAWN))
async def test_token(scene, row):
    response = await check(scene, row)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"] in {
        "The access token is not valid.",
        "A bearer token is required.",
    }


async def test_the_tokens_withdrawn_above_work_while_their_holders_do(scene):
    """The rows above differ from these only in the deactivation."""
    for persona in ("officer", "diplomat", "permit_system"):
        headers = scene.world.people[persona].headers
        response = await scene.client.get(scene.path(PERMITS), headers=headers)
        assert response.status_code == 200, (persona, response.text)
