"""Helpers of the webhook API tests: settings that admit a loopback receiver, and subscribing."""

from __future__ import annotations

from typing import Any

import httpx

from service.config import Settings
from tests.factories import Persona

WEBHOOKS = "/api/v1/webhooks"
URL = "http://127.0.0.1:9/hook"  # admitted by the settings below; nothing is sent at registration
PER_REQUEST = {"request_id", "instance"}


def admitting_loopback(settings: Settings, *, allow_http: bool = True) -> Settings:
    return settings.model_copy(
        update={"webhook_allowed_networks": ["127.0.0.1"], "webhook_allow_http": allow_http}
    )


async def subscribe(client: httpx.AsyncClient, persona: Persona, **body: Any) -> dict[str, Any]:
    body = {"url": URL, "event_types": ["notice.*"], **body}
    response = await client.post(WEBHOOKS, json=body, headers=persona.headers)
    assert response.status_code == 201, response.text
    return response.json()


def stable(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem body without what differs from one request to the next."""
    return {key: value for key, value in problem.items() if key not in PER_REQUEST}
