"""Observability tests: a traced app, and the webhook stage with gauges read at every scrape."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.app import create_app
from service.config import Settings
from tests.factories import build_world, http_client, running, serving
from tests.webhooks.conftest import Stage, worker_settings
from tests.webhooks.receivers import receiving


@pytest.fixture
def stage_overrides() -> dict:
    return {}


@pytest.fixture
async def stage(settings: Settings, committed_database, stage_overrides) -> AsyncIterator[Stage]:
    configured = worker_settings(settings, metrics_cache_seconds=0, **stage_overrides)
    app = create_app(configured, database=committed_database)
    async with serving(app) as client, receiving() as receiver:
        world = await build_world(app, client)
        yield Stage(app, client, world, receiver, configured)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def traced(settings, database, exporter) -> AsyncIterator[httpx.AsyncClient]:
    traced_settings = settings.model_copy(update={"otel_enabled": True})
    app = create_app(traced_settings, database=database, span_exporter=exporter)
    async with running(app), http_client(app) as client:
        yield client
