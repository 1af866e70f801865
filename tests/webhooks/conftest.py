"""Webhook tests run with real commits, a real worker and real receivers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from service.app import create_app
from service.config import Settings
from service.webhooks.worker import Worker
from tests.factories import World, build_world, serving
from tests.webhooks.receivers import Receiver, receiving

SECRETS_KEY = Fernet.generate_key().decode()


def worker_settings(settings: Settings, **overrides: Any) -> Settings:
    """Loopback admitted, plain http allowed, and retries in fractions of a second."""
    values = {
        "webhook_allowed_networks": ["127.0.0.1"],
        "webhook_allow_http": True,
        "webhook_retry_schedule": [0.1, 0.1, 0.1],
        "webhook_retry_jitter": 0.0,
        "webhook_timeout_seconds": 2.0,
        "worker_poll_seconds": 0.2,
        "worker_jobs_interval_seconds": 0.5,
        "worker_lease_seconds": 5.0,
        "secrets_key": SecretStr(SECRETS_KEY),
        **overrides,
    }
    return settings.model_copy(update=values)


@dataclass
class Stage:
    """A running service on a committed database, its parties, a receiver, and a worker."""

    app: Any
    client: httpx.AsyncClient
    world: World
    receiver: Receiver
    settings: Settings

    def worker(self, **overrides: Any) -> Worker:
        settings = worker_settings(self.settings, **overrides)
        return Worker(self.app.state.database, settings, box=self.app.state.secret_box)

    async def subscribe(self, persona: str, name: str, **body: Any) -> dict[str, Any]:
        body = {"url": self.receiver.url(name), "event_types": ["*"], **body}
        if body["event_types"] == ["*"]:
            body["event_types"] = ["dialogue.*", "permit.*", "assurance.*", "consultation.*",
                                   "notice.*", "webhook.*"]  # fmt: skip
        response = await self.client.post(
            "/api/v1/webhooks", json=body, headers=self.world.people[persona].headers
        )
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
async def stage(settings: Settings, committed_database) -> AsyncIterator[Stage]:
    configured = worker_settings(settings)
    app = create_app(configured, database=committed_database)
    async with serving(app) as client, receiving() as receiver:
        world = await build_world(app, client)
        yield Stage(app, client, world, receiver, configured)
