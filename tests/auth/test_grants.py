"""POST /oauth/token: the password and client_credentials grants, their failures and audit."""

from __future__ import annotations

import httpx
import pytest

from service.app import create_app
from tests.auth.helpers import assert_problem, audit_entries, bearer
from tests.factories import PASSWORD, audit_actions, build_world, serving

TOKEN_URL = "/oauth/token"


def password_form(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


def client_form(world, secret: str | None = None) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": world.client_id,
        "client_secret": secret or world.client_secret,
    }


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/me", headers=bearer(token))


async def test_password_grant_issues_a_working_token(client, world, settings):
    response = await client.post(TOKEN_URL, data=password_form("officer"))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.user_token_ttl_seconds
    who = await me(client, body["access_token"])
    assert who.status_code == 200, who.text
    assert (who.json()["name"], who.json()["roles"]) == ("officer", ["officer"])


async def test_username_is_matched_case_insensitively(client, world):
    response = await client.post(TOKEN_URL, data=password_form("OFFICER"))
    assert response.status_code == 200, response.text


async def test_wrong_password_and_unknown_user_answer_alike(client, world):
    wrong = await client.post(TOKEN_URL, data=password_form("officer", "not the password"))
    unknown = await client.post(TOKEN_URL, data=password_form("nobody-at-all"))

    first = assert_problem(wrong, 400, "invalid-grant")
    second = assert_problem(unknown, 400, "invalid-grant")
    assert (first["title"], first["detail"]) == (second["title"], second["detail"])
    assert first["error"] == second["error"] == "invalid_grant"


async def test_deactivated_user_cannot_sign_in(client, world):
    response = await client.patch(
        f"/api/v1/users/{world.officer.id}",
        json={"active": False},
        headers=world.host_admin.headers,
    )
    assert response.status_code == 200, response.text
    refused = await client.post(TOKEN_URL, data=password_form("officer"))
    assert_problem(refused, 400, "invalid-grant")


async def test_client_credentials_issues_a_working_token(client, world, settings):
    response = await client.post(TOKEN_URL, data=client_form(world))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.client_token_ttl_seconds
    assert body["scope"] == "audit:read permits:read permits:write"
    who = await me(client, body["access_token"])
    assert who.status_code == 200, who.text
    assert (who.json()["kind"], who.json()["name"]) == ("client", world.client_id)


async def test_client_with_wrong_secret_is_refused(client, world):
    response = await client.post(TOKEN_URL, data=client_form(world, "wrong-secret"))
    assert_problem(response, 401, "invalid-client")
    assert response.headers["www-authenticate"] == "Basic"


async def test_unknown_client_answers_like_a_wrong_secret(client, world):
    form = client_form(world) | {"client_id": "no-such-client"}
    unknown = assert_problem(await client.post(TOKEN_URL, data=form), 401, "invalid-client")
    wrong = await client.post(TOKEN_URL, data=client_form(world, "wrong-secret"))
    assert unknown["detail"] == wrong.json()["detail"]


async def test_unknown_grant_type_is_unsupported(client, world):
    response = await client.post(TOKEN_URL, data={"grant_type": "authorization_code"})
    assert_problem(response, 400, "unsupported-grant-type")


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"username": "officer", "password": PASSWORD},
        {"grant_type": "password", "username": "officer"},
        {"grant_type": "password", "password": PASSWORD},
        {"grant_type": "password", "username": "", "password": PASSWORD},
        {"grant_type": "client_credentials", "client_id": "someone"},
        {"grant_type": "client_credentials", "client_secret": "something"},
    ],
    ids=[
        "empty",
        "no grant type",
        "no password",
        "no username",
        "empty username",
        "no secret",
        "no client id",
    ],
)
async def test_missing_fields_are_problems(client, world, form):
    response = await client.post(TOKEN_URL, data=form)
    assert response.status_code in {400, 422}, response.text
    assert_problem(response, response.status_code)
    assert "access_token" not in response.json()


async def test_an_empty_grant_type_is_refused_as_the_document_says(app, client):
    document = app.openapi()
    content = document["paths"][TOKEN_URL]["post"]["requestBody"]["content"]
    name = content["application/x-www-form-urlencoded"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert document["components"]["schemas"][name]["properties"]["grant_type"]["minLength"] == 1
    response = await client.post(TOKEN_URL, data={"grant_type": ""})
    assert_problem(response, 422)


async def test_overlong_fields_are_refused(client, world):
    response = await client.post(TOKEN_URL, data=password_form("x" * 600))
    assert_problem(response, 422)


async def test_sign_ins_are_audited(app, client, world):
    await client.post(TOKEN_URL, data=password_form("officer"))
    await client.post(TOKEN_URL, data=password_form("officer", "wrong"))
    await client.post(TOKEN_URL, data=client_form(world))
    await client.post(TOKEN_URL, data=client_form(world, "wrong"))

    actions = await audit_actions(app)
    for action in (
        "auth.signin_succeeded",
        "auth.signin_failed",
        "auth.client_authenticated",
        "auth.client_failed",
    ):
        assert actions.count(action) == 1, action


async def test_failed_sign_in_audit_never_holds_the_password(app, client, world):
    await client.post(TOKEN_URL, data=password_form("officer", "hunter2-secret"))
    entries = await audit_entries(app, "auth.signin_failed")
    assert [entry.details["username"] for entry in entries] == ["officer"]
    assert "hunter2-secret" not in str([entry.details for entry in entries])


@pytest.fixture
async def closed(settings, database):
    """The service with the password grant switched off, and a client talking to it."""
    application = create_app(
        settings.model_copy(update={"password_grant": False}), database=database
    )
    async with serving(application) as client:
        yield application, client


async def test_password_grant_can_be_switched_off(closed):
    closed_app, closed_client = closed
    world = await build_world(closed_app, closed_client)

    refused = await closed_client.post(TOKEN_URL, data=password_form("officer"))
    assert_problem(refused, 400, "unsupported-grant-type")
    allowed = await closed_client.post(TOKEN_URL, data=client_form(world))
    assert allowed.status_code == 200, allowed.text
