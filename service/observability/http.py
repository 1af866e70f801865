"""The API's metrics: counting requests by route template, and serving ``GET /metrics``."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from starlette.routing import BaseRoute, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.routes import flat_routes
from service.config import Settings
from service.observability import metrics
from service.observability.gauges import DatabaseGauges


@dataclass
class AppMetrics:
    registry: CollectorRegistry
    http: metrics.HttpMetrics
    gauges: DatabaseGauges
    worker: metrics.WorkerMetrics | None = None  # registered once, when a worker runs in-process


def install(app: FastAPI, settings: Settings) -> None:
    """Count requests and serve ``/metrics`` (not in the OpenAPI document: it is for operators)."""
    if not settings.metrics_enabled:
        return
    registry = metrics.new_registry()
    gauges = DatabaseGauges(settings.metrics_cache_seconds)
    registry.register(gauges)
    app.state.metrics = AppMetrics(registry, metrics.HttpMetrics(registry), gauges)
    app.add_middleware(MetricsMiddleware, http=app.state.metrics.http)
    app.include_router(metrics_router(settings))


def metrics_router(settings: Settings) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def scrape(request: Request) -> Response:
        if not metrics.authorized(request.headers.get("authorization"), settings.metrics_token):
            return Response(status_code=401, headers={"www-authenticate": "Bearer"})
        state: AppMetrics = request.app.state.metrics
        await state.gauges.refresh(request.app.state.database)
        return Response(metrics.exposition(state.registry), media_type=metrics.CONTENT_TYPE)

    return router


class RouteTemplates:
    """The full path template of each route of an app (``/api/v1/permits/{permit_id}``).

    Newer FastAPI keeps included routers nested: ``scope["route"]`` is then the route as its
    router declared it, without the prefixes, so the full templates come from
    ``iter_route_contexts``. Routes that are not FastAPI's (the docs, the static files) set no
    ``scope["route"]``; they are found by their path.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.declared: dict[int, list[tuple[re.Pattern[str], str]]] = {}
        self.plain: list[tuple[re.Pattern[str], str]] = []
        for context in flat_routes(routes):
            original = getattr(context, "original_route", context)
            entry = (context.path_regex, context.path_format)
            if isinstance(original, APIRoute):
                self.declared.setdefault(id(original), []).append(entry)
            else:
                self.plain.append(entry)

    def of(self, route: BaseRoute | None, path: str) -> str:
        declared = self.declared.get(id(route)) if route is not None else None
        if declared and len(declared) == 1:
            return declared[0][1]
        for regex, template in declared or self.plain:
            if regex.match(path):
                return template
        return metrics.UNMATCHED


class MetricsMiddleware:
    """Pure ASGI: times each HTTP request and counts it once it is answered (or has failed)."""

    def __init__(self, app: ASGIApp, http: metrics.HttpMetrics) -> None:
        self.app = app
        self.http = http
        self.templates: RouteTemplates | None = None  # routes are added after the middleware

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if self.templates is None:
            self.templates = RouteTemplates(scope["app"].routes)
        path = get_route_path(scope)  # before a mount moves the prefix into root_path
        started, status = time.perf_counter(), 500

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            seconds = time.perf_counter() - started
            route = self.templates.of(scope.get("route"), path)
            self.http.observe(scope["method"], route, status, seconds)


def worker_metrics(app: FastAPI) -> metrics.WorkerMetrics | None:
    """For the in-process worker: its counters join the API's ``/metrics``."""
    state: AppMetrics | None = getattr(app.state, "metrics", None)
    if state is None:
        return None
    state.worker = state.worker or metrics.WorkerMetrics(state.registry)
    return state.worker
