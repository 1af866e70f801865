"""The API as an outsider meets it: ``entente serve`` on 127.0.0.1 over a database of its own.

The scene (``scene.py``) is built in-process with the test World's tokens, then a real server
process on the same database and data directory (so the same signing key) answers the fuzzer.
``--deep`` runs many more examples and longer stateful runs; the default run stays small.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests

from service import migrate
from service.app import create_app
from service.config import Settings
from service.db import Database
from tests.factories import World, http_client, running
from tests.fuzz import fuzzing, scene
from tests.ops import processes
from tests.webhooks.receivers import free_port

# Each kind of party: the authority's officer, approver and admin, the counterpart's diplomat,
# the observer's officer, and the authority's permit system (an API client with scopes).
PARTIES = ["officer", "approver", "host_admin", "diplomat", "cbsa_officer", "permit_system"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--deep",
        action="store_true",
        default=False,
        help="fuzz the API long: many examples per operation, long stateful runs",
    )


@dataclass
class Target:
    base_url: str
    world: World
    ids: dict[str, list[str]]  # path parameter name -> ids of real objects


def pytest_configure(config: pytest.Config) -> None:
    fuzzing.RUN.deep = bool(config.getoption("--deep", default=False))


@pytest.fixture(scope="session")
async def target(empty_database_url, tmp_path_factory: pytest.TempPathFactory):
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    data_dir = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        serve_worker=False,
        user_token_ttl_seconds=86400,  # a --deep run outlasts the default quarter hour
        client_token_ttl_seconds=86400,
        webhook_allowed_networks=["127.0.0.1"],
        webhook_allow_http=True,
        log_level="WARNING",
    )
    database = Database(url)
    try:
        application = create_app(settings, database=database)
        async with running(application) as app, http_client(app) as client:
            world, ids = await scene.build(app, client)
    finally:
        await database.dispose()
    fuzzing.RUN.ids = ids
    async with serving(url, data_dir) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            published = (await client.get("/api/v1/openapi.json")).json()
            # The server knows the scene's tokens, or every answer would be a vacuous 401.
            me = await client.get("/api/v1/me", headers=world.officer.headers)
        assert published == json.loads(fuzzing.OPENAPI.read_text()), "openapi/ is stale"
        assert me.status_code == 200, me.text
        yield Target(base_url, world, ids)


@asynccontextmanager
async def serving(database_url: str, data_dir: Path) -> AsyncIterator[str]:
    """``entente serve`` on a free port of 127.0.0.1 until the block ends; its base URL."""
    env = processes.environment(
        ENTENTE_DATABASE_URL=database_url,
        ENTENTE_DATA_DIR=str(data_dir),
        ENTENTE_SERVE_WORKER="false",
        ENTENTE_WEBHOOK_ALLOWED_NETWORKS="127.0.0.1",
        ENTENTE_WEBHOOK_ALLOW_HTTP="true",
        ENTENTE_LOG_LEVEL="WARNING",
    )
    port, log = free_port(), data_dir / "serve.log"
    base_url = f"http://127.0.0.1:{port}"
    process = processes.start_api(env, port, log)
    try:
        await processes.until_ready(process, base_url, log)
        yield base_url
    finally:
        await processes.stop([process])


@pytest.fixture(scope="session")
def fuzz_session(target: Target):
    with requests.Session() as session:
        yield fuzzing.Sender(session, target.base_url)
