"""Liveness and readiness probes."""

from __future__ import annotations

from service.app import create_app
from service.config import Settings
from tests.api.support import assert_problem
from tests.factories import serving

UNREACHABLE = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_with_a_working_database(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_without_a_database_is_a_503_problem(settings):
    broken = Settings(
        data_dir=settings.data_dir,
        database_url=UNREACHABLE,
        signing_key_file=settings.signing_key_file,
    )
    app = create_app(broken)
    async with serving(app) as client:
        ready = await client.get("/readyz")
        alive = await client.get("/healthz")
    body = assert_problem(ready, 503)
    assert body["code"] == "unavailable"
    assert ready.headers["retry-after"] == "1"  # load balancers and clients know when to ask again
    assert "127.0.0.1" not in ready.text
    assert alive.status_code == 200
