"""Every page and form of the web client, opened by every kind of person, answers as it should.

The rules are in tests/access/web_table.py; a web route the table lacks fails here by name.
Each person has a real session (cookie and CSRF token) made once; each route is one test that
calls it as each person and lists every cell that answered otherwise: the page (200), the
redirect a form answers with (303), the sign-in redirect for strangers, the 403 or 404 page.
A 404 page must be the very page a random id gets.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from service.web import sessions
from service.web.security import LOGIN_CSRF_COOKIE
from tests.access.callers import PEOPLE, Caller
from tests.access.rules import SIGN_IN, Rule
from tests.access.scene import PARAMETER, Scene, random_ids, undone
from tests.access.web_table import LOGIN_TOKEN, TABLE
from tests.api.test_access_rules import endpoints, is_web
from tests.factories import http_client

PER_REQUEST = re.compile(r"[0-9a-f]{32}")  # request ids differ from one answer to the next


def test_every_page_has_a_rule(shared_app):
    routes = {route for route in endpoints(shared_app) if is_web(route[1])}
    missing = sorted(f"{method} {path}" for method, path in routes - TABLE.keys())
    stale = sorted(f"{method} {path}" for method, path in TABLE.keys() - routes)
    assert not missing, f"pages without a rule in tests/access/web_table.py: {missing}"
    assert not stale, f"rules for pages the app no longer has: {stale}"


@pytest.fixture(scope="module")
async def signed_in(shared_app, scene: Scene) -> dict[str, tuple[str, str]]:
    """Each person's session, made as signing in makes it: name -> (cookie, CSRF token)."""
    found = {}
    state = shared_app.state
    for caller in PEOPLE:
        if caller.anonymous:
            continue
        user_id = scene.cast.personas[caller.name].id
        cookie = await sessions.start(state.database, state.settings, user_id)
        _, current = await sessions.find(state.database, state.settings, cookie)
        found[caller.name] = (cookie, current.csrf_token)
    return found


@pytest.fixture(scope="module")
async def browser(shared_app) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(shared_app) as client:
        yield client


async def call(browser, scene, signed_in, rule: Rule, caller: Caller, method: str, path: str):
    form = rule.body(scene, caller) if callable(rule.body) else dict(rule.body or {})
    cookie, csrf = signed_in.get(caller.name, (None, None))
    cookies = [f"{LOGIN_CSRF_COOKIE}={LOGIN_TOKEN}"]  # what the sign-in form's page had set
    if cookie:
        cookies.append(f"{sessions.COOKIE}={cookie}")
    headers = {"Cookie": "; ".join(cookies)}
    data = {"csrf_token": csrf, **form} if method == "POST" else None
    async with undone(scene.connection):
        response = await browser.request(method, path, data=data, headers=headers)
    browser.cookies.clear()  # what a sign-in or a language sets stays out of the next cell
    return response


def page(response: httpx.Response, path: str) -> str:
    """The page without what differs between two requests: its request id, its own path."""
    return PER_REQUEST.sub("", response.text).replace(path, "")


def answer(response: httpx.Response) -> int | str:
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith("/app/login?next="):
        return SIGN_IN
    return response.status_code


async def check(browser, scene, signed_in, rule, caller, route, compared: set) -> str | None:
    method, template = route
    expected = rule.expected(caller, unauthenticated=SIGN_IN)
    path = scene.path(template, rule.ids)
    response = await call(browser, scene, signed_in, rule, caller, method, path)
    if answer(response) != expected:
        return f"{caller.name}: {answer(response)} instead of {expected}: {response.text[:200]}"
    if expected == 404 and PARAMETER.search(template) and caller.side not in compared:
        compared.add(caller.side)
        random_path = random_ids(template)
        unknown = await call(browser, scene, signed_in, rule, caller, method, random_path)
        if page(unknown, random_path) != page(response, path):
            return f"{caller.name}: the 404 page differs from a random id's"
    return None


@pytest.mark.parametrize("route", sorted(TABLE), ids=" ".join)
async def test_page(route, scene, signed_in, browser):
    rule = TABLE[route]
    compared: set = set()
    wrong = [
        found
        for caller in PEOPLE
        if (found := await check(browser, scene, signed_in, rule, caller, route, compared))
    ]
    assert not wrong, f"{' '.join(route)} ({len(wrong)} of {len(PEOPLE)} cells):\n" + "\n".join(
        wrong
    )
