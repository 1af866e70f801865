"""Each of our tokens is checked once and then recognised, until it expires, by its exact text.

That a recognised token of a deactivated user is refused: tests/auth/test_deactivation.py.
"""

from __future__ import annotations

import asyncio
import time

from tests.abuse.tokens import subject
from tests.auth.helpers import bearer, mint


async def me(client, token: str) -> int:
    return (await client.get("/api/v1/me", headers=bearer(token))).status_code


async def test_a_recognised_token_is_refused_once_past_its_expiry(app, client, world):
    leeway = app.state.settings.token_leeway_seconds
    # Expired already but inside the leeway, which ends two seconds from now.
    token = mint(app, subject(world), exp=int(time.time()) - leeway + 2)
    assert await me(client, token) == 200
    assert await me(client, token) == 200

    await asyncio.sleep(3)

    assert await me(client, token) == 401


async def test_a_lookalike_of_a_recognised_token_is_checked_in_full(app, client, world):
    token = mint(app, subject(world))
    assert await me(client, token) == 200
    header, payload, signature = token.split(".")
    swapped = "A" if signature[10] != "A" else "B"
    forged = ".".join((header, payload, signature[:10] + swapped + signature[11:]))

    assert await me(client, forged) == 401
    assert await me(client, token + "A") == 401
