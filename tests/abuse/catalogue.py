"""A row of the catalogue: a request, the status it gets, what it stores and what the audit says.

SECURITY.md's notation: ``∅`` (the default, ``stored={}``) means every table but the audit
trail's is left exactly as it was; ``audit`` names the one entry the request leaves (a refused
access is recorded as ``access.denied``, a refused token as ``auth.token_rejected``), and no
audit means the trail did not move at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.abuse.scene import (
    Scene,
    audit_tip,
    chain_is_intact,
    changed_tables,
    new_entries,
    snapshot,
)

PROBLEM = "application/problem+json"
UNSET: Any = object()
DENIALS = {"access.denied", "auth.token_rejected"}  # entries written by the refusal itself
Headers = Callable[[Scene], dict[str, str]]


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    path: str  # a template over ``Scene.ids``: "/api/v1/permits/{their_permit}"
    status: int
    persona: str | None = "host_admin"
    json: Any = UNSET
    content: bytes | Callable[[], Any] | None = None  # or a generator of chunks
    headers: dict[str, str] = field(default_factory=dict)
    auth: Headers | None = None  # replaces the persona's Authorization header
    params: Any = None
    audit: str | None = None
    stored: dict[str, int] = field(default_factory=dict)  # table: change in row count
    code: str | None = None
    prepare: Callable[[Scene], Awaitable[None]] | None = None

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


def params(rows: list[Row]) -> list[Any]:
    ids = [row.id for row in rows]
    assert len(set(ids)) == len(ids), "row ids must be unique"
    return [row.param() for row in rows]


async def send(scene: Scene, row: Row) -> httpx.Response:
    headers = row.auth(scene) if row.auth else scene.persona_headers(row.persona)
    kwargs: dict[str, Any] = {
        "headers": headers | row.headers,
        "params": fill(row.params, scene.ids),
    }
    if row.json is not UNSET:
        kwargs["json"] = fill(row.json, scene.ids)
    if row.content is not None:
        kwargs["content"] = row.content() if callable(row.content) else row.content
    return await scene.client.request(row.method, scene.path(row.path), **kwargs)


def fill(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with every string "{name}" replaced by the scene's id of that name."""
    if isinstance(value, str) and value[:1] == "{" and value[-1:] == "}" and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


async def check(scene: Scene, row: Row) -> httpx.Response:
    """Send ``row``'s request; assert its status, what it stored and what the audit says."""
    if row.prepare:
        await row.prepare(scene)
    before, tip = await snapshot(scene), await audit_tip(scene)

    response = await send(scene, row)

    assert response.status_code == row.status, response.text[:2000]
    if row.status >= 400:
        assert_problem(response, row.status)
    if row.code:
        assert response.json()["code"] == row.code
    assert changed_tables(before, await snapshot(scene)) == row.stored
    await check_audit(scene, row, response, tip)
    return response


def assert_problem(response: httpx.Response, status: int) -> None:
    """An RFC 9457 problem with our fields, naming the request it answers."""
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:entente:problem:")
    assert body["title"]
    assert body["code"]
    if "idempotent-replayed" not in response.headers:  # a replay is the first answer verbatim
        assert body["request_id"] == response.headers["x-request-id"]


async def check_audit(scene: Scene, row: Row, response: httpx.Response, tip: int) -> None:
    entries = await new_entries(scene, tip)
    if row.audit not in DENIALS or row.status < 400:
        expected = [row.audit] if row.audit else []
        assert [entry.action for entry in entries] == expected
        return
    [entry] = entries
    assert entry.action == row.audit
    assert entry.details["status"] == row.status
    assert entry.details["method"] == row.method
    assert entry.details["path"] == response.request.url.path
    assert entry.request_id == response.headers["x-request-id"]
    assert await chain_is_intact(scene)
