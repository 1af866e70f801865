"""The committed OpenAPI document is the app's: regenerate it with ``entente openapi``."""

import json
from pathlib import Path

from service.app import create_app
from service.cli import render_openapi
from service.config import Settings

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_openapi_matches_the_app():
    current = render_openapi(create_app(Settings()))
    assert json.loads(current) == json.loads(COMMITTED.read_text()), (
        "openapi/openapi.json is stale: run `entente openapi` and commit the result"
    )


def test_every_error_is_documented_as_problem_json():
    document = json.loads(COMMITTED.read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert "application/problem+json" in response.get("content", {}), (
                        f"{method.upper()} {path} {status} is not documented as problem JSON"
                    )


async def test_every_operation_with_a_body_documents_its_413(app):
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert "413" in operation["responses"], (method, path)
