"""PostgreSQL goes away while the service runs, then comes back (SECURITY.md, faults).

While it is away every request that needs it answers 503 with Retry-After, never a 500 with a
trace; once it is back the service serves again without a restart, nothing committed before is
lost, and the audit chain verifies. The outage is a proxy in front of the real server
(``tests.ops.tcp_proxy``) that drops every connection and refuses new ones.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from service.app import create_app
from service.consultations.models import Message
from service.db import Database
from tests.consultations.helpers import open_consultation, post
from tests.factories import build_world, serving
from tests.ops.tcp_proxy import proxy_to

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def proxied_database(own_url):
    """The test's own database, reached through a proxy the test can cut."""
    real = urlsplit(own_url)
    async with proxy_to(real.hostname or "127.0.0.1", real.port or 5432) as proxy:
        database = Database(proxy.url_for(own_url))
        yield proxy, database
        await database.dispose()


async def test_an_outage_answers_503_then_the_service_recovers_with_nothing_lost(
    settings, proxied_database
):
    proxy, database = proxied_database
    app = create_app(settings, database=database)
    async with serving(app) as client:
        world = await build_world(app, client)
        cid = (await open_consultation(client, world))["id"]
        await post(client, world.officer, cid, "Before the outage")

        await proxy.cut()
        during = [await _post(client, world, cid, f"During {n}") for n in range(3)]
        reads = await client.get(f"/api/v1/consultations/{cid}", headers=world.officer.headers)

        await proxy.restore()
        after = [await _post(client, world, cid, f"After {n}") for n in range(3)]
        verify = await client.get("/api/v1/audit/verify", headers=world.auditor.headers)

    for response in [*during, reads]:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "unavailable"
    assert [r.status_code for r in after] == [201, 201, 201]
    assert verify.json()["valid"] is True
    async with database.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Message))
    assert stored == 4  # the one before and the three after; none of the refused ones


async def _post(client, world, cid: str, body: str):
    return await client.post(
        f"/api/v1/consultations/{cid}/messages", json={"body": body}, headers=world.officer.headers
    )
