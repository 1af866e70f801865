"""Signed-in web clients without a browser: httpx against the ASGI app, cookies kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import httpx
import pytest

from service.web.security import LOGIN_CSRF_COOKIE
from tests.factories import PASSWORD, http_client

Browser = Callable[[str], Awaitable[httpx.AsyncClient]]


async def sign_in(client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
    await client.get("/app/login")
    token = client.cookies[LOGIN_CSRF_COOKIE]
    response = await client.post(
        "/app/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
async def browser(app) -> AsyncIterator[Browser]:
    """A fresh client (its own cookies) signed in as the given username."""
    async with AsyncExitStack() as stack:

        async def open_as(username: str) -> httpx.AsyncClient:
            client = await stack.enter_async_context(http_client(app))
            return await sign_in(client, username)

        yield open_as
