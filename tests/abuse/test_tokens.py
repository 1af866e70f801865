"""SECURITY.md, Tokens: every forged, broken, mis-typed or withdrawn bearer token → 401, ∅, audit.

The answer is the same problem for every reason (the reason is in the audit entry only), and a
refused write stores nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from service.parties.models import ApiClient, Organization
from service.web.security import LOGIN_CSRF_COOKIE
from tests.abuse.catalogue import Row, check, params
from tests.abuse.scene import (
    Scene,
    audit_tip,
    changed_tables,
    deactivate_user,
    new_entries,
    snapshot,
)
from tests.abuse.tokens import ATTACKS, Attack
from tests.domain import permit_body
from tests.factories import http_client


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


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PASSWORD = "correct horse battery staple"  # tests.factories.PASSWORD


def sign_in(name: str, status: int, audit: str | None = None, **form) -> Row:
    stored = {"signin_throttle": 1} if audit else {}
    content = urlencode(form).encode()
    return Row(
        name,
        "POST",
        "/oauth/token",
        status,
        None,
        content=content,
        headers=FORM,
        audit=audit,
        stored=stored,
    )


SIGN_IN = [
    sign_in(
        "unknown user",
        400,
        "auth.signin_failed",
        grant_type="password",
        username="nobody",
        password=PASSWORD,
    ),
    sign_in(
        "wrong password",
        400,
        "auth.signin_failed",
        grant_type="password",
        username="officer",
        password="wrong password!",
    ),
    sign_in(
        "NUL in the username", 422, grant_type="password", username="offi\x00cer", password=PASSWORD
    ),
    sign_in(
        "unknown client",
        401,
        "auth.client_failed",
        grant_type="client_credentials",
        client_id="nobody",
        client_secret="x" * 40,
    ),
    sign_in(
        "NUL in the client id",
        422,
        grant_type="client_credentials",
        client_id="permit\x00",
        client_secret="x" * 40,
    ),
    sign_in("unsupported grant", 400, grant_type="implicit", username="officer", password=PASSWORD),
    sign_in("password grant without a password", 400, grant_type="password", username="officer"),
    sign_in(
        "username over 512 characters",
        422,
        grant_type="password",
        username="u" * 513,
        password=PASSWORD,
    ),
]


@pytest.mark.parametrize("row", params(SIGN_IN))
async def test_sign_in(scene, row):
    await check(scene, row)


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


@pytest.mark.parametrize("username", ["offi\x00cer", "officer\x1b"], ids=["NUL", "ESC"])
async def test_web_sign_in_with_a_control_character(scene, username):
    """The sign-in page refuses it (422) before the database sees it: ∅, no audit entry."""
    async with http_client(scene.app) as browser:
        await browser.get("/app/login")
        form = {"username": username, "password": PASSWORD}
        form["csrf_token"] = browser.cookies[LOGIN_CSRF_COOKIE]
        before, tip = await snapshot(scene), await audit_tip(scene)
        response = await browser.post("/app/login", data=form)
    assert response.status_code == 422, response.text
    assert "text/html" in response.headers["content-type"]
    assert changed_tables(before, await snapshot(scene)) == {}
    assert await new_entries(scene, tip) == []


async def test_an_unknown_user_and_a_wrong_password_answer_alike(scene):
    rows = [row for row in SIGN_IN if row.id in ("unknown user", "wrong password")]
    answers = [(await check(scene, row)).json() for row in rows]
    first, second = ({k: v for k, v in a.items() if k != "request_id"} for a in answers)
    assert first == second
