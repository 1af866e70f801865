"""A real server and a real browser for the web client's tests.

One server per run: the app served by uvicorn on 127.0.0.1 (a free port), in the tests' own event
loop, against a fresh database of the kind under test (migrated by Alembic, real commits). The
scene (tests/web/seed.py) is written first through the same app's REST API. One Chromium per
run; each test gets a fresh browser context (no cookies carried over).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    async_playwright,
)
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from service import migrate
from service.app import create_app
from service.config import Settings
from service.db import Database
from tests.factories import http_client, running
from tests.web import browser as chromium
from tests.web.seed import Scene, build_scene
from tests.webhooks.receivers import free_port


@dataclass
class Server:
    base_url: str
    scene: Scene
    app: object


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return chromium.ensure_chromium()


@pytest.fixture(scope="session")
async def server(
    empty_database_url, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    url = await empty_database_url()
    await migrate.upgrade_async(url)
    data_dir = tmp_path_factory.mktemp("web")
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        signing_key_file=data_dir / "signing-key.pem",
        password_grant=True,
        serve_worker=False,
        webhook_allowed_networks=["127.0.0.1/32"],
        webhook_allow_http=True,
        log_level="WARNING",
    )
    database = Database(url)
    app = create_app(settings, database=database)
    try:
        async with running(app), http_client(app) as client:
            scene = await build_scene(app, client)
            port = free_port()
            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
            )
            web = uvicorn.Server(config)
            task = asyncio.create_task(web.serve())
            async with asyncio.timeout(10):
                while not web.started:  # uvicorn offers no event to wait on
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.01)
            try:
                yield Server(f"http://127.0.0.1:{port}", scene, app)
            finally:
                web.should_exit = True
                await asyncio.wait_for(task, 10)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def scene(server: Server) -> Scene:
    return server.scene


@pytest.fixture(scope="session")
async def browser(chromium_path: Path) -> AsyncIterator[Browser]:
    playwright = await async_playwright().start()
    try:
        launched = await launch(playwright, chromium_path)
        yield launched
        await launched.close()
    finally:
        await playwright.stop()


async def launch(playwright: Playwright, chromium_path: Path) -> Browser:
    """Chromium, given a second chance: a cold start on a loaded machine can miss the deadline."""
    for attempt in range(1, chromium.LAUNCH_ATTEMPTS + 1):
        try:
            return await playwright.chromium.launch(
                executable_path=str(chromium_path),
                args=chromium.CHROMIUM_ARGS,
                timeout=chromium.LAUNCH_TIMEOUT_MS,
            )
        except PlaywrightTimeoutError:
            if attempt == chromium.LAUNCH_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def new_context(browser: Browser, server: Server, **options) -> BrowserContext:
    settings = {
        "base_url": server.base_url,
        "locale": "en-GB",
        "timezone_id": "UTC",
        "viewport": {"width": 1280, "height": 900},
    } | options
    context = await browser.new_context(**settings)
    context.set_default_timeout(chromium.TIMEOUT_MS)
    context.set_default_navigation_timeout(chromium.TIMEOUT_MS)
    return context


@pytest.fixture
async def context(browser: Browser, server: Server) -> AsyncIterator[BrowserContext]:
    """A fresh browser context; any dialog box (a payload that ran) fails the test."""
    context = await new_context(browser, server)
    seen = chromium.watch(context)
    context.seen = seen  # type: ignore[attr-defined]
    try:
        yield context
    finally:
        await context.close()
    if seen["dialogs"]:
        pytest.fail(f"a script ran in the page: {seen['dialogs']}")


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
async def new_browser_context(browser: Browser, server: Server) -> AsyncIterator:
    """For tests needing a second browser (another user at the same time)."""
    opened: list[BrowserContext] = []

    async def make(**options) -> BrowserContext:
        context = await new_context(browser, server, **options)
        context.seen = chromium.watch(context)  # type: ignore[attr-defined]
        opened.append(context)
        return context

    yield make
    for context in opened:
        await context.close()
    dialogs = [d for context in opened for d in context.seen["dialogs"]]  # type: ignore[attr-defined]
    if dialogs:
        pytest.fail(f"a script ran in the page: {dialogs}")
