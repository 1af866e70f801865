"""One world for the whole access matrix, built once, rolled back at the end.

The matrix makes well over a thousand calls; building the world per call would take minutes.
The app's sessions join one outer transaction (as in every other test) and each cell runs in a
SAVEPOINT of its own that is rolled back after it, so no call sees what another one changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.app import create_app
from service.config import Settings
from service.db import BoundDatabase
from tests.access.scene import Scene, build_scene
from tests.factories import build_world, http_client, running
from tests.webhooks import admitting_loopback


@pytest.fixture(scope="package")
async def shared_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield connection
        await outer.rollback()


@pytest.fixture(scope="package")
async def shared_app(database_url, signing_key_file, tmp_path_factory, shared_connection):
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("access"),
        database_url=database_url,
        signing_key_file=signing_key_file,
        password_grant=True,
        serve_worker=False,
        log_level="WARNING",  # a line per request, thousands of them, would cost seconds
        user_token_ttl_seconds=3600,  # the world's tokens outlive a slow run of the matrix
    )
    database = BoundDatabase(shared_connection)
    async with running(create_app(admitting_loopback(settings), database=database)) as application:
        yield application


@pytest.fixture(scope="package")
async def shared_client(shared_app):
    async with http_client(shared_app) as client:
        yield client


@pytest.fixture(scope="package")
async def scene(shared_app, shared_client, shared_connection) -> Scene:
    world = await build_world(shared_app, shared_client)
    return await build_scene(shared_app, shared_client, world, shared_connection)
