"""Prometheus metrics: what is counted, and the text exposition.

Each app (and each worker process) has its own ``CollectorRegistry``, never the global default:
tests build many apps in one process, and a metric registered twice in one registry is an error.
"""

from __future__ import annotations

import hmac
from collections import Counter as Tally
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from pydantic import SecretStr

if TYPE_CHECKING:
    from service.webhooks.record import Recorded
    from service.webhooks.sender import Outcome

CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "unmatched"
# The method is the caller's to choose: anything unusual is folded into one label value.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OUTCOMES = ("delivered", "retrying", "failed", "discarded")
ATTEMPT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def new_registry() -> CollectorRegistry:
    disable_created_metrics()  # the ``_created`` series double the output and tell nobody much
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


def authorized(authorization: str | None, token: SecretStr | None) -> bool:
    """No token configured (or an empty one): open, the cluster network guards it."""
    if token is None or not token.get_secret_value():
        return True
    expected = f"Bearer {token.get_secret_value()}".encode()
    return hmac.compare_digest((authorization or "").encode(), expected)


class HttpMetrics:
    """Requests by route template (never the raw path, which would make a series per id)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "entente_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "entente_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template.",
            ["method", "route"],
            registry=registry,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)


class WorkerMetrics:
    """Webhook attempts as the worker records them."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.attempts = Counter(
            "entente_webhook_attempts",
            "Webhook attempts recorded, by outcome: delivered, retrying (a retry is scheduled), "
            "failed (the schedule is used up), discarded (the delivery was deleted meanwhile).",
            ["outcome"],
            registry=registry,
        )
        self.attempt_duration = Histogram(
            "entente_webhook_attempt_duration_seconds",
            "Time from sending a webhook to its answer (or to giving up on it).",
            buckets=ATTEMPT_BUCKETS,
            registry=registry,
        )
        self.disabled = Counter(
            "entente_webhook_endpoints_disabled",
            "Webhook endpoints disabled after failing for too long.",
            registry=registry,
        )
        for outcome in OUTCOMES:
            self.attempts.labels(outcome)

    def observe(self, outcomes: Sequence[Outcome], recorded: Recorded) -> None:
        for outcome in outcomes:
            self.attempt_duration.observe(outcome.latency_ms / 1000)
        tally = Tally(recorded.statuses)
        self.attempts.labels("delivered").inc(tally["delivered"])
        self.attempts.labels("retrying").inc(tally["pending"])
        self.attempts.labels("failed").inc(tally["failed"])
        self.attempts.labels("discarded").inc(len(outcomes) - len(recorded.statuses))
        self.disabled.inc(recorded.disabled)
