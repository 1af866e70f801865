"""Helpers shared by the API-conventions tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from service.parties.models import Organization, User

PROBLEM = "application/problem+json"
ORGS = "/api/v1/organizations"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with our fields; its body, for further checks."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:entente:problem:")
    assert body["title"]
    assert body["code"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def new_org(code: str = "DE-BAFA", **overrides: Any) -> dict[str, Any]:
    body = {"code": code, "name": "Federal Office", "country": "DE", "kind": "licensing_authority"}
    return body | overrides


async def count(app: Any, model: Any) -> int:
    async with app.state.database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def count_orgs(app: Any) -> int:
    return await count(app, Organization)


async def count_users(app: Any) -> int:
    return await count(app, User)
