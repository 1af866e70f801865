"""Where a delivery's time goes, read back from the service's own delivery log.

For each delivery the tables keep when it was fanned out (``webhook_delivery.created_at``), when
its attempt ended and how long the attempt took (``webhook_attempt.created_at``, ``latency_ms``,
so the send began ``latency_ms`` before it ended), and when the outcome was written
(``finished_at``: one value per recording transaction). With the issue time and the receiver's
arrival time that splits each delivery into five stages:

- ``fan_out``: issue request begun -> delivery row built by a worker's fan-out;
- ``queued``: row built -> send begun (waiting to be claimed, claimed, task started);
- ``request``: send begun -> request arrived at the receiver (egress check, signing, HTTP);
- ``response``: arrival -> the sender has the answer;
- ``recording``: answer -> outcome committed (until then the delivery holds a worker slot).

All clocks are this machine's (PostgreSQL's ``clock_timestamp()`` included), so they compare.
With ``BENCH_DUMP=/some/prefix`` every delivery's timeline is also written to
``/some/prefix-<deliveries>.json`` for a closer look (e.g. how many sends each claim started).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy import select

from service.db import Database
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

STAGES = (
    ("fan_out", "issued", "fanned_out"),
    ("queued", "fanned_out", "sending"),
    ("request", "sending", "arrived"),
    ("response", "arrived", "answered"),
    ("recording", "answered", "recorded"),
)


async def attempts(database: Database, message_ids: Iterable[str]) -> list[dict[str, Any]]:
    query = (
        select(
            WebhookDelivery.message_id,
            WebhookSubscription.url,
            WebhookDelivery.created_at,
            WebhookDelivery.finished_at,
            WebhookAttempt.created_at.label("answered"),
            WebhookAttempt.latency_ms,
            WebhookAttempt.worker,
        )
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id)
        .where(WebhookDelivery.message_id.in_([UUID(m) for m in set(message_ids)]))
    )
    async with database.sessions() as session:
        return [row._asdict() for row in await session.execute(query)]


async def recorded_attempts(
    database: Database, message_ids: list[str], expected: int, within: float = 15
) -> list[dict[str, Any]]:
    """The attempts, once the workers have recorded ``expected`` of them (or ``within`` s)."""
    deadline = time.monotonic() + within
    while True:
        rows = await attempts(database, message_ids)
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)


def seconds(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def timeline(
    row: dict[str, Any], issued: dict[str, float], arrived: dict[tuple[str, str], float]
) -> dict[str, float | None]:
    message, path = str(row["message_id"]), urlsplit(row["url"]).path
    answered = row["answered"].timestamp()
    return {
        "issued": issued.get(message),
        "fanned_out": seconds(row["created_at"]),
        "sending": answered - (row["latency_ms"] or 0) / 1000,
        "arrived": arrived.get((path, message)),
        "answered": answered,
        "recorded": seconds(row["finished_at"]),
    }


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def dump(path: Path, lines: list[dict], rows: list[dict]) -> None:
    """Every delivery's timeline, for a closer look (``BENCH_DUMP=/some/prefix``)."""
    timelines = [{**t, "worker": r["worker"]} for t, r in zip(lines, rows, strict=True)]
    path.write_text(json.dumps(timelines))


async def breakdown(
    database: Database, records: list[dict[str, Any]], issued: dict[str, float]
) -> dict[str, Any]:
    """Stage durations over the deliveries in ``records`` (receiver records, by webhook-id)."""
    arrived = {(r["path"], r["id"]): r["at"] for r in records}
    rows = await recorded_attempts(database, [r["id"] for r in records], len(records))
    lines = [timeline(row, issued, arrived) for row in rows]
    if os.environ.get("BENCH_DUMP"):
        dump(Path(f"{os.environ['BENCH_DUMP']}-{len(rows)}.json"), lines, rows)
    stages = {}
    for name, start, end in STAGES:
        spans = [t[end] - t[start] for t in lines if t[start] is not None and t[end] is not None]
        if spans:
            stages[name] = summary(spans)
    batches = Counter(row["finished_at"] for row in rows)
    return {
        "attempts": len(rows),
        "stages": stages,
        "record_transactions": len(batches),
        "record_batch_p50": statistics.median(batches.values()) if batches else 0,
        "by_worker": dict(Counter(row["worker"] for row in rows)),
    }


def traced_steps(trace: Path, window: tuple[float, float]) -> dict[str, Any]:
    """One traced worker's steps within ``window``: calls, busy seconds, durations, items."""
    start, end = window
    steps: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for line in trace.read_text().splitlines():
        call = json.loads(line)
        overlap = min(call["end"], end) - max(call["start"], start)
        if overlap > 0 or start <= call["start"] <= end:
            steps[call["step"]].append((max(overlap, 0.0), call["n"]))
    found = {}
    for step, calls in sorted(steps.items()):
        spans = [span for span, _ in calls]
        found[step] = {
            "calls": len(calls),
            "busy_s": round(sum(spans), 3),
            "items": sum(n for _, n in calls),
            **summary(spans),
        }
    return {"window_s": round(end - start, 3), "steps": found}


def traced(directory: Path, window: tuple[float, float]) -> dict[str, Any]:
    """Every traced worker's steps within ``window``, by worker name."""
    return {path.stem: traced_steps(path, window) for path in sorted(directory.glob("*.jsonl"))}
