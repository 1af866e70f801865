"""``entente worker``'s own small HTTP server: ``/metrics`` and ``/healthz``.

Served by uvicorn inside the worker's event loop when ``ENTENTE_WORKER_METRICS_PORT`` is set. The
worker handles SIGTERM itself (it drains its sends), so uvicorn must not take the signals over.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Generator

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.config import Settings
from service.observability import metrics
from service.webhooks.worker import Worker

log = structlog.get_logger("entente.worker")


def stale_after(settings: Settings) -> float:
    """Seconds without a turn of the dispatch loop after which the worker is taken for stuck."""
    return max(60.0, 5 * settings.worker_poll_seconds)


def healthy(worker: Worker) -> bool:
    """Every loop running, and the dispatch loop turned recently (it turns at least every poll)."""
    if worker.stopping.is_set() or not worker.loops:
        return False
    if any(task.done() for task in worker.loops):
        return False
    return time.monotonic() - worker.heartbeat < stale_after(worker.settings)


def probe_app(worker: Worker, registry: metrics.CollectorRegistry) -> Starlette:
    token = worker.settings.metrics_token

    async def scrape(request: Request) -> Response:
        if not metrics.authorized(request.headers.get("authorization"), token):
            return Response(status_code=401, headers={"www-authenticate": "Bearer"})
        return Response(metrics.exposition(registry), media_type=metrics.CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        if healthy(worker):
            return JSONResponse({"status": "ok", "worker": worker.name})
        return JSONResponse({"status": "unhealthy", "worker": worker.name}, status_code=503)

    return Starlette(routes=[Route("/metrics", scrape), Route("/healthz", healthz)])


class ProbeServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the worker's own handlers stay in place


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound here, so a port in use fails the worker's start with a plain OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@contextlib.asynccontextmanager
async def serving(worker: Worker, registry: metrics.CollectorRegistry) -> AsyncIterator[None]:
    """Serve the probes while the block runs; nothing when no port is configured."""
    settings = worker.settings
    if not settings.worker_metrics_port:
        yield
        return
    sock = listening_socket(settings.worker_metrics_host, settings.worker_metrics_port)
    config = uvicorn.Config(
        probe_app(worker, registry), lifespan="off", access_log=False, log_config=None
    )
    server = ProbeServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="worker probes")
    host, port = sock.getsockname()[:2]
    log.info("worker probes listening", host=host, port=port)
    try:
        yield
    finally:
        server.should_exit = True
        await task
        sock.close()
