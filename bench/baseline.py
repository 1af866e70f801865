"""The bare fan-out baseline: the same deliveries POSTed straight to the receiver, no database.

Each delivery keeps the body, the ``webhook-id`` and the subscription's secret that the service
used; it is signed afresh with ``standardwebhooks.Webhook.sign`` at the moment it is sent (as the
service's sender does), with the same headers, over 16 ``httpx.AsyncClient`` of 4 connections
each, taken in turn, 64 requests in flight at most (the worker's defaults).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from service.webhooks.sender import USER_AGENT


@dataclass(frozen=True)
class Delivery:
    url: str
    message_id: str
    body: str
    secret: str


@dataclass(frozen=True)
class BaselineResult:
    deliveries: int
    failures: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0


def new_clients(count: int, connections: int) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"user-agent": USER_AGENT, "content-type": "application/json"}
    return [
        httpx.AsyncClient(limits=limits, trust_env=False, headers=headers, timeout=10)
        for _ in range(count)
    ]


async def post(client: httpx.AsyncClient, delivery: Delivery) -> bool:
    timestamp = datetime.now(UTC)
    signature = Webhook(delivery.secret).sign(delivery.message_id, timestamp, delivery.body)
    headers = {
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }
    response = await client.post(delivery.url, content=delivery.body.encode(), headers=headers)
    return 200 <= response.status_code < 300


async def run(
    deliveries: list[Delivery], *, clients: int = 16, connections: int = 4, in_flight: int = 64
) -> BaselineResult:
    pool = new_clients(clients, connections)
    turn = itertools.cycle(pool)
    queue: Iterator[Delivery] = iter(deliveries)
    failures = 0

    async def sender() -> None:
        nonlocal failures
        for delivery in queue:  # the tasks share one iterator: each delivery is sent once
            try:
                ok = await post(next(turn), delivery)
            except httpx.HTTPError:
                ok = False
            failures += not ok

    try:
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(in_flight)))
        seconds = time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    return BaselineResult(len(deliveries), failures, seconds)
