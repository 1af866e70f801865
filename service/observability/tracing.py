"""Optional OpenTelemetry tracing (``ENTENTE_OTEL_ENABLED``), exported over OTLP/HTTP.

The OpenTelemetry packages are the ``otel`` extra, imported only when tracing is on. The exporter
reads the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_HEADERS``, ...);
the service is named by ``OTEL_SERVICE_NAME``, ``entente`` by default. The provider is the app's
own (``app.state.tracer_provider``), not the process-wide one, which can be set only once.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from service.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

MODULES = (
    "opentelemetry.trace",
    "opentelemetry.sdk.trace",
    "opentelemetry.instrumentation.fastapi",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
)
# Probes and scrapes arrive every few seconds and say nothing worth tracing.
EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"


class TracingUnavailable(RuntimeError):
    pass


def install(app: FastAPI, settings: Settings, *, exporter: SpanExporter | None = None) -> None:
    """Trace every request; ``exporter`` replaces OTLP (tests pass an in-memory one)."""
    if not settings.otel_enabled:
        return
    require()
    provider = tracer_provider(exporter)
    app.state.tracer_provider = provider
    app.add_middleware(TraceLogMiddleware)
    instrument(app, provider)


def require() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise TracingUnavailable(
                f"ENTENTE_OTEL_ENABLED=true needs OpenTelemetry, which is not installed ({exc}); "
                "install it with: pip install 'entente[otel]'"
            ) from exc


def tracer_provider(exporter: SpanExporter | None) -> TracerProvider:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", "entente")})
    provider = TracerProvider(resource=resource)  # flushed at exit (shutdown_on_exit)
    if exporter is None:
        provider.add_span_processor(BatchSpanProcessor(otlp_exporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def otlp_exporter() -> Any:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: from the OTEL_* variables


def instrument(app: FastAPI, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", EXCLUDED_URLS),
        exclude_spans=["receive", "send"],  # one span per request, not one per ASGI message
    )


class TraceLogMiddleware:
    """Puts the request's trace id into the log context, so logs and traces can be joined."""

    def __init__(self, app: ASGIApp) -> None:
        from opentelemetry import trace

        self.app = app
        self.current_span = trace.get_current_span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context = self.current_span().get_span_context()
        if scope["type"] != "http" or not context.is_valid:
            return await self.app(scope, receive, send)
        ids = {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
        with structlog.contextvars.bound_contextvars(**ids):
            await self.app(scope, receive, send)
