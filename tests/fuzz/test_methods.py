"""Every path of the OpenAPI document answers a method it does not declare with 405 and ``Allow``.

A deep run (``--deep``) has Schemathesis's coverage phase send these too, with its own check
(``unsupported_method``); this table keeps the promise in the default run at a request apiece.
"""

from __future__ import annotations

import json

import pytest

from tests.fuzz import fuzzing

METHODS = ("get", "put", "post", "delete", "patch")
DOCUMENT = json.loads(fuzzing.OPENAPI.read_text())


def undeclared() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, item in DOCUMENT["paths"].items()
        for method in METHODS
        if method not in item
    ]


def on_real_objects(path: str, ids: dict[str, list[str]]) -> str:
    """The path with each ``{name}`` replaced by a real object's id, so routing finds it."""
    for name, values in ids.items():
        path = path.replace(f"{{{name}}}", values[0])
    return path


@pytest.mark.parametrize(("path", "method"), undeclared())
def test_an_undeclared_method_answers_405(target, fuzz_session, path, method) -> None:
    url = target.base_url + on_real_objects(path, target.ids)
    response = fuzz_session.session.request(
        method, url, headers=target.world.officer.headers, json={}, timeout=30
    )
    assert response.status_code == 405, (method, url, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    declared = {m.upper() for m in DOCUMENT["paths"][path] if m in METHODS}
    assert set(response.headers["allow"].split(", ")) == declared
