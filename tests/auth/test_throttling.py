"""Repeated failed sign-ins lock the username (existing or not) for a while: 429 + Retry-After."""

from __future__ import annotations

import httpx

from tests.auth.helpers import assert_problem, audit_entries
from tests.factories import PASSWORD

TOKEN_URL = "/oauth/token"


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": username, "password": password}
    return await client.post(TOKEN_URL, data=form)


async def fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        response = await sign_in(client, username, "wrong password")
        assert_problem(response, 400, "invalid-grant")


def assert_locked(response: httpx.Response, settings) -> None:
    assert_problem(response, 429, "too-many-requests")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= settings.signin_lockout_seconds + 1
    assert "access_token" not in response.json()


async def test_right_password_is_refused_once_locked(client, world, settings):
    await fail(client, "officer", settings.signin_max_failures)

    assert_locked(await sign_in(client, "officer", PASSWORD), settings)


async def test_lock_is_per_username(client, world, settings):
    await fail(client, "officer", settings.signin_max_failures)

    response = await sign_in(client, "approver", PASSWORD)
    assert response.status_code == 200, response.text


async def test_unknown_username_is_locked_the_same_way(client, world, settings):
    await fail(client, "no-such-user", settings.signin_max_failures)

    assert_locked(await sign_in(client, "no-such-user", PASSWORD), settings)


async def test_lock_ignores_username_case(client, world, settings):
    await fail(client, "officer", settings.signin_max_failures)

    assert_locked(await sign_in(client, "Officer", PASSWORD), settings)


async def test_success_before_the_threshold_resets_the_count(client, world, settings):
    almost = settings.signin_max_failures - 1
    await fail(client, "officer", almost)
    assert (await sign_in(client, "officer", PASSWORD)).status_code == 200

    await fail(client, "officer", almost)
    response = await sign_in(client, "officer", PASSWORD)
    assert response.status_code == 200, response.text


async def test_locked_attempts_are_audited(app, client, world, settings):
    await fail(client, "officer", settings.signin_max_failures)
    await sign_in(client, "officer", PASSWORD)

    locked = await audit_entries(app, "auth.signin_locked")
    assert [entry.details["name"] for entry in locked] == ["officer"]
    assert not await audit_entries(app, "auth.signin_succeeded")


async def test_existing_tokens_keep_working_during_a_lock(client, world, settings):
    await fail(client, "officer", settings.signin_max_failures)

    response = await client.get("/api/v1/me", headers=world.officer.headers)
    assert response.status_code == 200, response.text


async def test_client_secret_guessing_is_locked_too(client, world, settings):
    form = {"grant_type": "client_credentials", "client_id": world.client_id}
    for _ in range(settings.signin_max_failures):
        response = await client.post(TOKEN_URL, data=form | {"client_secret": "guess"})
        assert_problem(response, 401, "invalid-client")

    response = await client.post(TOKEN_URL, data=form | {"client_secret": world.client_secret})
    assert_locked(response, settings)
