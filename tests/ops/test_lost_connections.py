"""Connections cut by PostgreSQL (a restart, an idle timeout): the service reconnects by itself.

The pool does not ping a connection before each use (a round trip on every request). A dead
connection fails the request that meets it with 503 and Retry-After; SQLAlchemy then discards
the whole pool, and the following requests connect afresh, without a restart.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.app import create_app
from service.db import Database
from tests.consultations.helpers import open_consultation, post
from tests.factories import build_world, serving

pytestmark = pytest.mark.postgres_only


@pytest.fixture
async def own_database(own_url):
    database = Database(own_url)
    yield database
    await database.dispose()


async def cut_connections(database) -> int:
    """Terminate the service's connections to its database, from another connection; how many."""
    outsider = Database(database.url)
    try:
        async with outsider.engine.connect() as connection:
            query = text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return await connection.scalar(query)
    finally:
        await outsider.dispose()


async def test_the_service_reconnects_after_its_connections_are_cut(settings, own_database):
    app = create_app(settings, database=own_database)
    async with serving(app) as client:
        world = await build_world(app, client)
        cid = (await open_consultation(client, world))["id"]
        await post(client, world.officer, cid, "Before the cut")
        assert await cut_connections(own_database) >= 1

        answers, problems = [], []
        for n in range(5):
            response = await client.post(
                f"/api/v1/consultations/{cid}/messages",
                json={"body": f"After the cut {n}"},
                headers=world.officer.headers,
            )
            answers.append(response.status_code)
            if response.status_code == 503:
                problems.append((response.json()["code"], response.headers["retry-after"]))

        # The first request meets a dead connection and is told to retry; the rest are served.
        assert answers[0] in (201, 503), answers
        assert answers[1:] == [201] * 4, answers
        assert problems in ([], [("unavailable", "1")])
        response = await client.get("/api/v1/audit/verify", headers=world.auditor.headers)
        assert response.json()["valid"] is True
