"""One scene per module, one SAVEPOINT per row.

Building the world of personas takes seconds; the catalogue has hundreds of rows. So each module
builds it once inside an outer transaction, and every row runs inside a SAVEPOINT of that
transaction that is rolled back afterwards: the app's own sessions still commit (to SAVEPOINTs of
their own), and each row starts from the same database as the one before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from service.app import create_app
from service.config import Settings
from service.db import BoundDatabase
from tests.abuse.scene import Scene, build_scene
from tests.factories import build_world, http_client, running


@pytest.fixture(scope="module")
async def scene_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield connection
        await outer.rollback()


@pytest.fixture(scope="module")
async def scene(
    scene_connection: AsyncConnection,
    database_url: str,
    signing_key_file,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Scene]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("abuse"),
        database_url=database_url,
        signing_key_file=signing_key_file,
        password_grant=True,
        serve_worker=False,
        webhook_allowed_networks=["127.0.0.1"],  # receivers of the rows: never called
        webhook_allow_http=True,
    )
    application = create_app(settings, database=BoundDatabase(scene_connection))
    async with running(application) as app, http_client(app) as client:
        world = await build_world(app, client)
        yield await build_scene(app, client, world, scene_connection)


@pytest.fixture(autouse=True)
async def row_savepoint(scene: Scene) -> AsyncIterator[None]:
    """Whatever a row stores is undone before the next one."""
    savepoint = await scene.connection.begin_nested()
    yield
    await savepoint.rollback()
