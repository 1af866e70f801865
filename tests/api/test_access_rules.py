"""Every route has an access rule, proven by walking ``app.routes``.

A route that answers an anonymous caller with anything but 401 is public; the set of public
routes is pinned below, so a new one cannot appear unnoticed.
"""

from __future__ import annotations

import re
import uuid

from fastapi.routing import iter_route_contexts

from tests.api.support import assert_problem

PUBLIC = {
    ("POST", "/oauth/token"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),  # for the cluster network; ENTENTE_METRICS_TOKEN guards it if set
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/docs/oauth2-redirect"),
}
DOCS = {"/api/v1/openapi.json", "/api/v1/docs", "/docs/oauth2-redirect"}
# The web client's routes need a session cookie, not a token; these need neither.
PUBLIC_WEB = {
    ("GET", "/"),
    ("GET", "/app/login"),
    ("POST", "/app/login"),
    ("POST", "/app/language"),
}


def is_web(path: str) -> bool:
    return path == "/" or path.startswith("/app")


def endpoints(app) -> list[tuple[str, str]]:
    """(method, path) of every route, including those of included routers (HEAD aside)."""
    found = set()
    for route in iter_route_contexts(app.routes):
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, route.path))
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _match: str(uuid.uuid4()), path)


async def call_anonymously(client, method: str, path: str):
    body = {"json": {}} if method in {"POST", "PUT", "PATCH"} else {}
    return await client.request(method, concrete(path), **body)


async def test_routes_are_discovered(app):
    found = endpoints(app)
    assert ("GET", "/api/v1/me") in found
    assert ("POST", "/api/v1/organizations") in found
    assert ("DELETE", "/api/v1/clients/{client_id}") in found
    assert set(found) >= PUBLIC


async def test_every_api_route_refuses_anonymous_callers(app, client):
    api = [(m, p) for m, p in endpoints(app) if p.startswith("/api/v1") and p not in DOCS]
    assert len(api) > 10
    for method, path in api:
        response = await call_anonymously(client, method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert_problem(response, 401)


async def test_public_routes_are_exactly_the_expected_ones(app, client):
    public = set()
    for method, path in endpoints(app):
        if is_web(path):
            continue
        response = await call_anonymously(client, method, path)
        if response.status_code != 401:
            public.add((method, path))
    assert public == PUBLIC


async def test_a_bad_token_is_refused_everywhere(app, client):
    headers = {"Authorization": "Bearer " + "e30." * 2 + "sig"}
    for method, path in endpoints(app):
        if (method, path) in PUBLIC or is_web(path):
            continue
        body = {"json": {}} if method in {"POST", "PATCH"} else {}
        response = await client.request(method, concrete(path), headers=headers, **body)
        assert_problem(response, 401)


async def test_every_web_page_sends_strangers_to_sign_in(app, client):
    web = [(m, p) for m, p in endpoints(app) if is_web(p) and (m, p) not in PUBLIC_WEB]
    assert ("GET", "/app/") in web
    for method, path in web:
        response = await client.request(method, concrete(path), data={})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/app/login?next="), (method, path)
