"""Scenario 3, notify: the webhook bench (``bench/webhooks.py``) as rows of the suite.

One round is one run of ``bench.webhooks.bench_database``: a fresh database, real
``entente worker`` processes (2 on each database), a receiver process; 40 notices one
at a time for the first-delivery latency, then one cancellation of 29 permits to 100
subscriptions (3,000 deliveries), and in the same run the bare fan-out of the same deliveries
from 16 ``httpx.AsyncClient`` of 4 connections (the better of the issue's two client layouts:
~1,850/s against ~680/s from one client of 64 connections). ``bench/README.md`` has the details.
"""

from __future__ import annotations

from typing import Any

from bench import webhooks
from bench.harness import Aim, Context, Row

AIMS = [
    Aim("p99_first_delivery_ms", "at_most", 500, "p99 first-delivery latency under 500 ms"),
    Aim("deliveries_per_s", "ratio_at_least", 0.5, "deliveries/s at least 0.5 of bare fan-out"),
]


def options(ctx: Context) -> webhooks.Options:
    if ctx.quick:
        return webhooks.Options(databases=[ctx.database], notices=5, warmup=1, subscriptions=10)
    return webhooks.Options(databases=[ctx.database])


def rows_of(result: dict[str, Any], database: str, round_: int) -> list[Row]:
    latency, throughput = result["latency"], result["throughput"]
    figures = [
        ("project", "p50_first_delivery_ms", latency["p50_ms"], "ms"),
        ("project", "p99_first_delivery_ms", latency["p99_ms"], "ms"),
        ("project", "last_delivery_ms", throughput["last_delivery_ms"], "ms"),
        ("project", "deliveries_per_s", throughput["per_second"], "deliveries/s"),
        ("bare", "deliveries_per_s", result["baseline"]["per_second"], "deliveries/s"),
        ("project", "workers", result["workers"], "processes"),
    ]
    return [
        Row("notify", database, subject, metric, value, unit, round_)
        for subject, metric, value, unit in figures
    ]


async def run(ctx: Context) -> list[Row]:
    rows = []
    for round_ in ctx.round_numbers():
        result = await webhooks.bench_database(ctx.database, options(ctx))
        ctx.log(
            f"notify round {round_}: p99 {result['latency']['p99_ms']:.0f} ms, "
            f"{result['throughput']['per_second']:.0f}/s vs bare "
            f"{result['baseline']['per_second']:.0f}/s"
        )
        rows += rows_of(result, ctx.database, round_)
    return rows
