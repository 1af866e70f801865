"""The application factory. Nothing is built at import time."""

from __future__ import annotations

import copy
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.routing import BaseRoute

from service import __version__, logs
from service.api import problems
from service.api.idempotency import IdempotencyMiddleware, Idempotent, Replay, replay_response
from service.api.middleware import (
    BodyLimitMiddleware,
    JsonBodyMiddleware,
    RequestContextMiddleware,
)
from service.api.routes import flat_routes
from service.assurances.router import router as assurances_router
from service.audit.router import router as audit_router
from service.auth.keyring import KeyRing
from service.auth.oidc import JwksCache
from service.auth.router import router as auth_router
from service.auth.tokens import TokenService
from service.config import Settings
from service.consultations.router import router as consultations_router
from service.db import Database
from service.events.router import router as events_router
from service.notices.router import router as notices_router
from service.observability import http as observability_http
from service.observability import tracing
from service.parties.router import router as parties_router
from service.permits.router import router as permits_router
from service.web import router as web
from service.webhooks import signing
from service.webhooks.egress import EgressPolicy
from service.webhooks.router import router as webhooks_router

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter

DESCRIPTION = """\
Entente carries end-use assurances, consultations and decision notices between an export
licensing authority and its counterpart ministry, with a tamper-evident audit trail.

Errors are RFC 9457 problem details. Every POST accepts an `Idempotency-Key`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    span_exporter: SpanExporter | None = None,
) -> FastAPI:
    settings = settings or Settings()
    logs.configure(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_database = database is None
        app.state.database = database or Database(
            settings.resolved_database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool_size=settings.database_pool_size,
        )
        async with httpx.AsyncClient(timeout=5.0, follow_redirects=False, trust_env=False) as http:
            jwks = JwksCache(
                ttl=settings.jwks_cache_seconds,
                min_refresh=settings.jwks_min_refresh_seconds,
                http=http,
            )
            app.state.tokens = TokenService(settings, KeyRing.open(settings), jwks)
            install_webhooks(app, settings)
            try:
                async with in_process_worker(app, settings):
                    yield
            finally:
                if own_database:
                    await app.state.database.dispose()

    app = FastAPI(
        title="Entente",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_openapi(app)
    problems.install(app)
    app.add_exception_handler(Replay, replay_response)  # type: ignore[arg-type]
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(JsonBodyMiddleware, prefix="/api/v1/")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    observability_http.install(app, settings)
    tracing.install(app, settings, exporter=span_exporter)

    app.router.routes.extend(shared_routes())
    web.install(app)
    return app


API_ROUTERS = (
    parties_router,
    audit_router,
    permits_router,
    assurances_router,
    consultations_router,
    notices_router,
    events_router,
    webhooks_router,
)


@functools.cache
def shared_routes() -> tuple[BaseRoute, ...]:
    """The API's, the sign-in's and the web client's routes, built once per process.

    FastAPI resolves each route's dependencies when its router is included and when it first
    serves: about 0.7 s of CPU for ours. Apps made in one process (the tests make thousands)
    share the result; what differs between apps lives in ``app.state``. The price: these routes
    ignore ``app.dependency_overrides``, which nothing here uses.
    """
    root = APIRouter()
    # Each domain straight under the root: FastAPI matches a request against every router on
    # its way down, twice, so one level less is a tenth of a posted message's CPU.
    for domain in API_ROUTERS:
        root.include_router(domain, prefix="/api/v1", dependencies=[Idempotent])
    for router in (auth_router, health_router(), web.pages_router()):
        root.include_router(router)
    flat_routes(root.routes)  # resolves every route now, once
    return tuple(root.routes)


def install_webhooks(app: FastAPI, settings: Settings) -> None:
    app.state.secret_box = signing.box_for(settings)
    app.state.egress = EgressPolicy(
        settings.webhook_allowed_networks, allow_http=settings.webhook_allow_http
    )


@asynccontextmanager
async def in_process_worker(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """On the embedded default the webhook worker runs beside the API, in this process."""
    if not settings.runs_worker_in_process:
        yield
        return
    from service.webhooks.worker import Worker

    worker = Worker(
        app.state.database,
        settings,
        box=app.state.secret_box,
        name="in-process",
        metrics=observability_http.worker_metrics(app),
    )
    async with worker.running():
        yield


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = shared_document(app.title, app.version, app.description)
            app.openapi_schema = copy.deepcopy(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@functools.cache
def shared_document(title: str, version: str, description: str) -> dict[str, Any]:
    """The OpenAPI document of ``shared_routes``, built once per process (about 0.4 s).

    What an app adds beside them (``/metrics``, the docs, the static files) stays out of it.
    """
    schema = get_openapi(
        title=title, version=version, description=description, routes=list(shared_routes())
    )
    return problems.document_problems(schema)


def health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @router.get("/readyz", responses=problems.errors(503))
    async def readyz(request: Request) -> Any:
        """The database answers; load balancers send traffic only when this is 200."""
        try:
            async with request.app.state.database.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse(
                {
                    "type": "urn:entente:problem:unavailable",
                    "title": "Service unavailable",
                    "status": 503,
                    "code": "unavailable",
                    "detail": "The database is unreachable.",
                    "request_id": problems.request_id_of(request),
                },
                status_code=503,
                media_type=problems.MEDIA_TYPE,
                headers={"Retry-After": "1"},
            )
        return {"status": "ready"}

    return router
