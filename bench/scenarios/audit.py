"""Scenario 4, audit: how fast a 1,000,000-entry chain verifies, and what the chain costs a write.

Verification: a valid chain of ``CHAIN`` entries (``bench/audit_chain.py``: written with the
service's ``canonical`` and ``link``, COPY'd into a PostgreSQL template database or inserted into
a SQLite template file, both kept under their migration head and reused by later runs) is
cloned, and ``service.audit.service.verify`` (what ``entente audit verify``,
``GET /api/v1/audit/verify`` and the web client's audit page run) recomputes it in this process,
``rounds`` times; then the ``entente audit verify`` command once, start-up included.

Write cost: scenario 1's load (consultation messages from three authors, wrk, 32 connections)
against the project (``entente serve``) and the same project with the chain taken out
(``bench/unchained.py``: the entries inserted without the ``audit_head`` lock and without
hashing), rounds interleaved on one database, both servers up throughout. The cost is
``1 - median(project) / median(unchained)`` of requests/s.
"""

from __future__ import annotations

import asyncio
import sys
import time

from sqlalchemy import text

from bench import audit_chain
from bench.harness import (
    Aim,
    Context,
    Row,
    Server,
    Target,
    free_port,
    median,
    project,
    ready_or_stop,
    running,
    seed_parties,
    spawn,
    wait_http_ready,
)
from bench.scenarios.write import prepare, requests
from service.audit import service as audit_service
from service.db import Database

CHAIN = 1_000_000
QUICK_CHAIN = 20_000
AIMS = [
    Aim("verified_per_s", "at_least", 300_000, "at least 300,000 entries/s verified"),
    Aim(
        "chain_cost_pct", "at_most", 15, "the chain costs under 15% of write throughput", "derived"
    ),
]


async def run(ctx: Context) -> list[Row]:
    rows = await verification(ctx)
    rows += await write_cost(ctx)
    return rows


# -- verification -------------------------------------------------------------------------------


async def chain_copy(ctx: Context, count: int) -> str:
    if ctx.database == "sqlite":
        return await audit_chain.sqlite_copy(count, ctx.workdir)
    return await audit_chain.postgres_copy(count)


async def verification(ctx: Context) -> list[Row]:
    count = QUICK_CHAIN if ctx.quick else CHAIN
    started = time.perf_counter()
    url = await chain_copy(ctx, count)
    ctx.log(f"audit: chain of {count:,} entries ready in {time.perf_counter() - started:.1f} s")
    try:
        rows = [await verify_once(ctx, url, count, n) for n in ctx.round_numbers()]
        rows.append(await verify_by_cli(ctx, url, count))
    finally:
        await audit_chain.drop(url)
    return rows


async def verify_once(ctx: Context, url: str, count: int, round_: int) -> Row:
    database = Database(url)
    try:
        async with database.sessions() as session:
            await session.execute(text("SELECT 1"))  # connected before the clock starts
            started = time.perf_counter()
            result = await audit_service.verify(session)
            seconds = time.perf_counter() - started
    finally:
        await database.dispose()
    if not result.valid or result.entries != count:
        raise RuntimeError(f"the bench chain does not verify: {result}")
    ctx.log(f"audit verify round {round_}: {count / seconds:,.0f} entries/s ({seconds:.2f} s)")
    return Row(
        "audit", ctx.database, "project", "verified_per_s", round(count / seconds), "entries/s",
        round_, f"{count:,} entries in {seconds:.2f} s",
    )  # fmt: skip


async def verify_by_cli(ctx: Context, url: str, count: int) -> Row:
    """``entente audit verify``: a new process, imports and connection included."""
    env = {"ENTENTE_DATABASE_URL": url, "ENTENTE_DATA_DIR": str(ctx.workdir / "cli-data")}
    started = time.perf_counter()
    cli = await spawn("audit-verify", [*entente(), "audit", "verify"], env, ctx.workdir)
    async with asyncio.timeout(600):
        code = await cli.process.wait()
    seconds = time.perf_counter() - started
    if code != 0 or f"valid: {count} entries" not in cli.tail():
        raise RuntimeError(f"entente audit verify failed ({code}):\n{cli.tail()}")
    ctx.log(f"audit: entente audit verify took {seconds:.2f} s")
    return Row("audit", ctx.database, "project", "cli_verify_s", round(seconds, 2), "s")


def entente() -> list[str]:
    from bench.harness import entente_command

    return entente_command()


# -- write cost ---------------------------------------------------------------------------------


async def start_unchained(target: Target) -> Server:
    """``python -m bench.unchained serve``: the project without the chain, ready on /readyz."""
    port = free_port()
    command = [sys.executable, "-m", "bench.unchained", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    server = await spawn("unchained", command, target.project_env(), target.workdir)
    server.port = port
    await ready_or_stop(server, wait_http_ready(server, "/readyz", started))
    return server


async def write_cost(ctx: Context) -> list[Row]:
    async with ctx.target() as target:
        dialogue_id = await seed_parties(target)
        async with project(target) as api, running(start_unchained(target)) as unchained:
            consultations, tokens = await prepare(api, dialogue_id)
            load = requests("/api/v1", consultations, tokens)
            rows = await interleaved(ctx, {"project": (api, load), "unchained": (unchained, load)})
    return [*rows, cost_row(ctx, rows)]


async def interleaved(ctx: Context, subjects: dict[str, tuple[Server, list]]) -> list[Row]:
    rows = []
    for round_ in ctx.round_numbers():
        for subject, (server, load) in subjects.items():
            result = await ctx.load(server, load)
            failures = result.non_2xx + result.socket_errors
            ctx.log(
                f"audit write {subject} round {round_}: {result.rps:.0f} req/s, "
                f"p99 {result.p99_ms:.1f} ms, failures {failures}"
            )
            if failures:
                raise RuntimeError(f"{subject}: {failures} failed requests")
            rows += result.rows("audit", ctx.database, subject, round_)
    return rows


def cost_row(ctx: Context, rows: list[Row]) -> Row:
    def rps(subject: str) -> float:
        return median(r.value for r in rows if r.subject == subject and r.metric == "rps")

    if not rps("unchained"):
        raise RuntimeError("no request completed without the chain; the machine is overloaded")
    cost = 100 * (1 - rps("project") / rps("unchained"))
    ctx.log(f"audit: the chain costs {cost:.1f}% of write throughput")
    return Row(
        "audit", ctx.database, "derived", "chain_cost_pct", round(cost, 1), "%", 0,
        "1 - median rps with the chain / median rps without it",
    )  # fmt: skip
