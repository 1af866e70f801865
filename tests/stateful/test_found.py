"""What the state machine found, each kept as a plain example (the shrunk case it reported)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx

from tests.api.support import assert_problem
from tests.domain import add_permits
from tests.factories import Persona
from tests.notices.helpers import draft


async def refusal(client: httpx.AsyncClient, persona: Persona, path: str) -> dict[str, Any]:
    """A 404's body without what differs per request."""
    if path.endswith(("/issue", "/acknowledge")):
        response = await client.post(path, json={}, headers=persona.headers)
    else:
        response = await client.get(path, headers=persona.headers)
    body = assert_problem(response, 404)
    return {key: value for key, value in body.items() if key not in ("request_id", "instance")}


async def test_a_draft_reads_like_a_random_id_to_the_counterpart_and_observers(app, client, world):
    """Found: a draft answered "No such decision notice." and a random id "No such notice.",
    so the counterpart and observers could tell that a draft exists (fixed on main meanwhile,
    by d6167ba, for the same cause)."""
    permits = await add_permits(app, world, 1)
    notice = await draft(client, world, "suspension", [permits[0].id])
    for persona in (world.diplomat, world.cbsa_officer):
        for tail in ("", "/acknowledge"):
            known = await refusal(client, persona, f"/api/v1/notices/{notice['id']}{tail}")
            random = await refusal(client, persona, f"/api/v1/notices/{uuid4()}{tail}")
            assert known == random
