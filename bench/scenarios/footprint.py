"""Scenario 5, footprint: resident memory under load, and start-up time.

``entente serve`` (the API) and one ``entente worker`` run on a fresh database, with one
webhook subscription (``consultation.*``, to the bench receiver) so that the worker delivers
every posted message while wrk posts messages to the API (the write scenario's load) for the
run's duration. VmRSS of each process is sampled every 0.2 s; the maximum is reported, with the
bare app's under the same load for reference. Start-up runs from exec to the first 200 on
``/readyz`` (serve) or to the worker's "started" log line.
"""

from __future__ import annotations

import httpx

from bench.harness import (
    Aim,
    Context,
    Row,
    Server,
    bare,
    project,
    running,
    sample_rss,
    seed_parties,
    start_worker,
)
from bench.receiver import RemoteReceiver
from bench.scenario import PASSWORD
from bench.scenarios import write

AIMS = [Aim("rss_max_mb", "at_most", 200, "API under 200 MB resident under load")]


async def subscribe(api: Server, url: str) -> None:
    token = (await api.tokens(["tr-admin"], PASSWORD))["tr-admin"]
    body = {"url": url, "event_types": ["consultation.*"], "description": "bench footprint"}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=30) as http:
        (await http.post("/api/v1/webhooks", json=body)).raise_for_status()


def rows_of(ctx: Context, figures: list[tuple[str, str, float, str]]) -> list[Row]:
    return [Row("footprint", ctx.database, s, m, round(v, 2), u) for s, m, v, u in figures]


async def measure(ctx: Context, api: Server, worker: Server, base: Server, requests: dict) -> list:
    idle = api.rss_mb()
    pids = {"api": api.pid, "worker": worker.pid}
    async with sample_rss(pids) as project_rss:
        await ctx.load(api, requests["project"])
    async with sample_rss({"bare": base.pid}) as bare_rss:
        await ctx.load(base, requests["bare"])
    return [
        ("project", "startup_s", api.startup_s, "s"),
        ("project", "worker_startup_s", worker.startup_s, "s"),
        ("bare", "startup_s", base.startup_s, "s"),
        ("project", "rss_idle_mb", idle, "MB"),
        ("project", "rss_max_mb", project_rss.peaks["api"], "MB"),
        ("project", "worker_rss_max_mb", project_rss.peaks["worker"], "MB"),
        ("bare", "rss_max_mb", bare_rss.peaks["bare"], "MB"),
    ]


async def run(ctx: Context) -> list[Row]:
    async with ctx.target() as target:
        dialogue_id = await seed_parties(target)
        receiver = await RemoteReceiver.start()
        try:
            async with project(target) as api, bare(target) as base:
                consultations, tokens = await write.prepare(api, dialogue_id)
                await subscribe(api, receiver.url("footprint"))
                requests = {
                    "project": write.requests("/api/v1", consultations, tokens),
                    "bare": write.requests("/write", consultations, tokens),
                }
                async with running(start_worker(target)) as worker:
                    figures = await measure(ctx, api, worker, base, requests)
                    ctx.log(f"footprint received {await receiver.count()} deliveries")
        finally:
            await receiver.stop()
    return rows_of(ctx, figures)
