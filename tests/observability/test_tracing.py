"""OpenTelemetry tracing, when enabled: a span per request, named by its route template."""

from __future__ import annotations

import subprocess
import sys
from uuid import uuid4

import pytest
from opentelemetry.trace import SpanKind

from service.app import create_app
from service.observability.tracing import TracingUnavailable


async def test_each_request_is_one_server_span_named_by_its_route(traced, exporter):
    response = await traced.get(f"/api/v1/permits/{uuid4()}")
    assert response.status_code == 401

    (span,) = exporter.get_finished_spans()
    assert span.kind == SpanKind.SERVER
    assert span.name == "GET /api/v1/permits/{permit_id}"
    assert span.attributes["http.route"] == "/api/v1/permits/{permit_id}"
    assert span.resource.attributes["service.name"] == "entente"


async def test_an_incoming_trace_is_continued(traced, exporter):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = f"00-{trace_id}-00f067aa0ba902b7-01"
    await traced.get("/api/v1/me", headers={"traceparent": parent})

    (span,) = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == trace_id


async def test_probes_and_scrapes_are_not_traced(traced, exporter):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert (await traced.get(path)).status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_without_the_packages_tracing_fails_at_start_saying_what_to_install(
    settings, database, monkeypatch
):
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.fastapi", None)
    traced_settings = settings.model_copy(update={"otel_enabled": True})
    with pytest.raises(TracingUnavailable, match=r"entente\[otel\]"):
        create_app(traced_settings, database=database)


def test_tracing_off_loads_no_opentelemetry_sdk(tmp_path):
    script = (
        "import sys\n"
        "from service.app import create_app\n"
        "from service.config import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}))\n"
        "loaded = [m for m in sys.modules if m.startswith(('opentelemetry.sdk', "
        "'opentelemetry.instrumentation', 'opentelemetry.exporter'))]\n"
        "print(loaded)\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, our own script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
