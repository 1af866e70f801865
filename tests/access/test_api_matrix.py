"""Every API route, called by every kind of caller, answers what SPEC.md section 2 implies.

The rules are in tests/access/api_table.py; a route the app has and the table lacks fails here
by name. Each route is one test: it calls the route as each caller (anonymous, each role of
each side, an unrelated organization's people, API clients with every scope and with every
scope but the route's) and lists every cell that answered otherwise. A 404 must be the very
answer a random id gets, so that it tells an outsider nothing.

The per-domain tests/*/test_access.py files prove what a refusal leaves behind (nothing stored,
an audit entry); this matrix proves the status of every cell, for every route there is.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.access.api_table import TABLE
from tests.access.callers import PEOPLE, Caller, clients_for
from tests.access.rules import Rule
from tests.access.scene import PARAMETER, Scene, random_ids, undone
from tests.api.test_access_rules import endpoints, is_web
from tests.webhooks import stable


def test_every_route_has_a_rule(shared_app):
    routes = {route for route in endpoints(shared_app) if not is_web(route[1])}
    missing = sorted(f"{method} {path}" for method, path in routes - TABLE.keys())
    stale = sorted(f"{method} {path}" for method, path in TABLE.keys() - routes)
    assert not missing, f"routes without a rule in tests/access/api_table.py: {missing}"
    assert not stale, f"rules for routes the app no longer has: {stale}"


async def call(client: httpx.AsyncClient, scene: Scene, rule: Rule, caller: Caller, method, path):
    """The call as ``caller``; whatever it changes is rolled back once it has answered."""
    body = rule.body(scene, caller) if callable(rule.body) else rule.body
    payload = {"data": body} if rule.form else {"json": body}
    headers = await scene.cast.headers(caller)  # a new client is made outside the savepoint
    async with undone(scene.connection):
        return await client.request(method, path, headers=headers, **payload)


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return stable(response.json())


async def check(client, scene, rule, caller, route, compared: set) -> str | None:
    """What is wrong with the cell, or None.

    A 404 is compared with a random id's once per side: which path of the service hides the
    object depends on the caller's organization, not on its role, nor on person or system.
    """
    method, template = route
    expected = rule.expected(caller)
    response = await call(client, scene, rule, caller, method, scene.path(template, rule.ids))
    if response.status_code != expected:
        return f"{caller.name}: {response.status_code} instead of {expected}: {response.text[:300]}"
    if expected >= 400:
        found = problem(response)
        if expected == 404 and PARAMETER.search(template) and caller.side not in compared:
            compared.add(caller.side)
            unknown = await call(client, scene, rule, caller, method, random_ids(template))
            if problem(unknown) != found:
                return f"{caller.name}: the 404 differs from a random id's: {found}"
    return None


@pytest.mark.parametrize("route", sorted(TABLE), ids=" ".join)
async def test_route(route, scene, shared_client):
    rule = TABLE[route]
    callers = PEOPLE + clients_for(rule.scope, lambda caller: rule.expected(caller) == rule.ok)
    compared: set = set()
    wrong = [
        found
        for caller in callers
        if (found := await check(shared_client, scene, rule, caller, route, compared))
    ]
    assert not wrong, f"{' '.join(route)} ({len(wrong)} of {len(callers)} cells):\n" + "\n".join(
        wrong
    )
