"""Sending one delivery: check the destination, sign, POST, and say what happened.

Connections: the sender keeps several small ``httpx.AsyncClient`` pools and spreads requests over
them in turn. One big pool spends its time in its own bookkeeping under load (measured here: one
client of 64 connections ~680 signed deliveries/s, 16 clients of 4 connections ~1,850/s).

Safety: before every attempt the host is resolved again and every address checked (egress), and
the request goes to the checked address (Host header and TLS SNI keep the name), so DNS rebinding
cannot slip an internal address in between. Redirects are never followed (a 3xx is a failure);
proxy variables are ignored; the response is read up to a small cap and the whole attempt is
bounded in time.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from service import __version__
from service.webhooks.egress import EgressPolicy, RefusedUrl
from service.webhooks.queue import Job
from service.webhooks.signing import signature_header

USER_AGENT = f"Entente-Webhooks/{__version__}"


@dataclass(frozen=True)
class Outcome:
    job: Job
    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None
    at: datetime

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    def __init__(
        self,
        egress: EgressPolicy,
        *,
        timeout: float,
        concurrency: int,
        connections_per_client: int,
        excerpt_bytes: int,
    ) -> None:
        self.egress = egress
        self.timeout = timeout
        self.excerpt_bytes = excerpt_bytes
        count = max(1, concurrency // connections_per_client)
        tls = httpx.create_ssl_context()  # one context for every pool: building one is costly
        limits = httpx.Limits(
            max_connections=connections_per_client,
            max_keepalive_connections=connections_per_client,
        )
        self.clients = [
            httpx.AsyncClient(
                limits=limits,
                timeout=httpx.Timeout(timeout, pool=None),
                follow_redirects=False,
                trust_env=False,
                verify=tls,
                headers={"user-agent": USER_AGENT, "content-type": "application/json"},
            )
            for _ in range(count)
        ]
        self.turn = itertools.cycle(self.clients)

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients))

    async def send(self, job: Job) -> Outcome:
        started = time.perf_counter()
        status_code, error, excerpt = None, None, None
        try:
            async with asyncio.timeout(self.timeout * 2):
                status_code, excerpt = await self.post(job)
            if 300 <= status_code < 400:
                error = f"Redirect ({status_code}) not followed: webhooks must answer 2xx."
            elif not 200 <= status_code < 300:
                error = f"The receiver answered {status_code}."
        except RefusedUrl as exc:
            error = exc.detail or str(exc)
        except (TimeoutError, httpx.TimeoutException):
            error = f"No answer within {self.timeout:g} s."
        except httpx.HTTPError as exc:
            error = f"Connection failed ({type(exc).__name__})."
        latency = round((time.perf_counter() - started) * 1000)
        return Outcome(job, status_code, latency, error, excerpt, datetime.now(UTC))

    async def post(self, job: Job) -> tuple[int, str]:
        destination = await self.egress.destination(job.url)
        timestamp = datetime.now(UTC)
        headers = {
            "host": destination.host_header(),
            "webhook-id": job.message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": signature_header(job.secrets, job.message_id, timestamp, job.body),
        }
        request = next(self.turn).stream(
            "POST",
            destination.request_url(),
            content=job.body.encode(),
            headers=headers,
            extensions=destination.extensions(),
        )
        async with request as response:
            return response.status_code, await self.excerpt(response)

    async def excerpt(self, response: httpx.Response) -> str:
        """At most ``excerpt_bytes`` of the answer; the rest is not even read."""
        kept = b""
        async for chunk in response.aiter_raw():
            kept += chunk[: self.excerpt_bytes - len(kept)]
            if len(kept) >= self.excerpt_bytes:
                break
        return kept.decode("utf-8", errors="replace")
