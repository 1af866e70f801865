"""The JSON access log line of a request carries its request id and, when traced, its trace id."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from service.api import middleware


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    """Where the access log writes once ``start_capturing``; stderr again afterwards."""
    buffer = io.StringIO()
    yield buffer
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))


def start_capturing(buffer: io.StringIO, monkeypatch) -> None:
    """Called once the app exists: creating an app configures logging to stderr."""
    # Loggers are cached on first use, so the access logger is taken anew to write to the buffer.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(buffer))
    monkeypatch.setattr(middleware, "log", structlog.get_logger("entente.access"))


def request_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in lines if line["event"] == "request"]


async def test_a_request_log_line_carries_the_request_id(client, access_log, monkeypatch):
    start_capturing(access_log, monkeypatch)
    response = await client.get("/api/v1/me", headers={"X-Request-ID": "caller-123"})

    (line,) = request_lines(access_log)
    assert line["request_id"] == response.headers["X-Request-ID"] == "caller-123"
    assert (line["path"], line["status"]) == ("/api/v1/me", 401)
    assert "trace_id" not in line


async def test_with_tracing_the_log_line_carries_the_trace_id(
    traced, exporter, access_log, monkeypatch
):
    start_capturing(access_log, monkeypatch)
    await traced.get("/api/v1/me")

    (line,) = request_lines(access_log)
    (span,) = exporter.get_finished_spans()
    assert line["trace_id"] == f"{span.context.trace_id:032x}"
    assert line["span_id"] == f"{span.context.span_id:016x}"
    assert line["request_id"]
