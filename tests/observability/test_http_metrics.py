"""``GET /metrics`` counts requests by route template, method and status."""

from __future__ import annotations

from uuid import uuid4

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from service.app import create_app
from tests.domain import permit_body
from tests.factories import serving
from tests.observability.support import scrape, value

REQUESTS = "entente_http_requests_total"


async def test_requests_are_counted_by_route_template_and_status(client, world):
    created = await client.post(
        f"/api/v1/dialogues/{world.dialogue_id}/permits",
        json=permit_body("EXP-1"),
        headers=world.officer.headers,
    )
    missing = await client.get(f"/api/v1/permits/{uuid4()}", headers=world.officer.headers)
    assert (created.status_code, missing.status_code) == (201, 404)

    text = await scrape(client)
    permits = "/api/v1/dialogues/{dialogue_id}/permits"
    assert value(text, REQUESTS, method="POST", route=permits, status="201") == 1
    permit = "/api/v1/permits/{permit_id}"
    assert value(text, REQUESTS, method="GET", route=permit, status="404") == 1
    duration = "entente_http_request_duration_seconds_count"
    assert value(text, duration, method="POST", route=permits) == 1
    assert str(world.dialogue_id) not in text  # raw paths never become labels


async def test_paths_that_match_no_route_share_one_label(client):
    for path in ("/nowhere", "/nowhere/else", "/api/v1/nothing"):
        assert (await client.get(path)).status_code == 404

    text = await scrape(client)
    assert value(text, REQUESTS, method="GET", route="unmatched", status="404") == 3
    assert "nowhere" not in text


async def test_a_mounted_app_is_labelled_by_its_template(client):
    assert (await client.get("/app/static/app.css")).status_code == 200

    text = await scrape(client)
    assert value(text, REQUESTS, method="GET", route="/app/static/{path}", status="200") == 1


async def test_unusual_methods_are_folded_into_one_label(client):
    response = await client.request("PURGE", "/healthz")
    assert response.status_code == 405

    text = await scrape(client)
    assert value(text, REQUESTS, method="other", route="/healthz", status="405") == 1
    assert "PURGE" not in text


async def test_metrics_are_not_in_the_openapi_document(app):
    assert "/metrics" not in app.openapi()["paths"]


async def test_each_app_counts_in_its_own_registry(client):
    await client.get("/healthz")
    assert not [m.name for m in REGISTRY.collect() if m.name.startswith("entente_")]


async def test_metrics_can_be_switched_off(settings, database):
    app = create_app(settings.model_copy(update={"metrics_enabled": False}), database=database)
    async with serving(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer wrong", 401), ("s3cret", 401), ("Bearer s3cret", 200)],
)
async def test_a_configured_token_guards_the_metrics(settings, database, authorization, status):
    guarded = settings.model_copy(update={"metrics_token": SecretStr("s3cret")})
    async with serving(create_app(guarded, database=database)) as client:
        headers = {"Authorization": authorization} if authorization else {}
        response = await client.get("/metrics", headers=headers)
        assert response.status_code == status
        assert (await client.get("/healthz")).status_code == 200
