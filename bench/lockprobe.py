"""The SQLite write lock, seen from inside one process: how long a posted message holds it and
how many Python calls it makes while holding it.

Run: ``.venv/bin/python -m bench.lockprobe [--messages 600] [--concurrency 1] [--calls]``.

The app runs in this process (``httpx.ASGITransport``) on a fresh SQLite file with the seed
case's parties and the write scenario's consultations, and posts ``--messages`` messages as the
write scenario does. ``Database.writing`` is wrapped to time each hold; with ``--calls`` (use
``--concurrency 1``, or other requests' work is counted too) cProfile runs only while the lock
is held, and the functions with the most calls under it are printed. Unlike the wrk scenarios
this does not drift much with the machine's speed: the call count not at all, the hold time
less than a latency, so it is the measure to compare two versions of the write path with.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import fetch_tokens, fresh_target, seed_parties
from bench.scenario import PASSWORD
from bench.scenarios.write import AUTHORS, CONSULTATIONS, message_body, open_through
from service import db


class Probe:
    """Wraps ``Database.writing``: the hold of each write, and a profile of the holds."""

    def __init__(self, profile: bool) -> None:
        self.holds: list[float] = []
        self.profiler = cProfile.Profile() if profile else None
        self.original = db.Database.writing

    def install(self) -> None:
        original, probe = self.original, self

        @asynccontextmanager
        async def writing(database: db.Database) -> AsyncIterator[None]:
            async with original(database):
                started = time.perf_counter()
                if probe.profiler:
                    probe.profiler.enable()
                try:
                    yield
                finally:
                    if probe.profiler:
                        probe.profiler.disable()
                    probe.holds.append(time.perf_counter() - started)

        db.Database.writing = writing  # type: ignore[method-assign]

    def uninstall(self) -> None:
        db.Database.writing = self.original  # type: ignore[method-assign]


async def post_all(
    http: httpx.AsyncClient, plan: list[tuple[str, str, str]], concurrency: int
) -> None:
    queue = iter(plan)

    async def client() -> None:
        for path, body, token in queue:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            response = await http.post(path, content=body, headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:300]}")

    await asyncio.gather(*(client() for _ in range(concurrency)))


def plan_of(ids: list[str], tokens_: dict[str, str], count: int) -> list[tuple[str, str, str]]:
    every = [
        (f"/api/v1/consultations/{cid}/messages", message_body(n), tokens_[author])
        for n in range(12)
        for cid in ids
        for author in AUTHORS
    ]
    return [every[n % len(every)] for n in range(count)]


async def run(messages: int, concurrency: int, calls: bool) -> dict[str, Any]:
    from service.app import create_app
    from service.config import Settings

    with tempfile.TemporaryDirectory(prefix="lockprobe-") as parent:
        async with fresh_target("sqlite", Path(parent)) as target:
            dialogue_id = await seed_parties(target)
            os.environ.update(target.project_env())
            app = create_app(Settings())
            transport = httpx.ASGITransport(app=app)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://probe") as http,
            ):
                found = await fetch_tokens(http, AUTHORS, PASSWORD)
                ids = await open_through(http, found["gac-officer"], dialogue_id, CONSULTATIONS)
                warm = plan_of(ids, found, 60)
                await post_all(http, warm, concurrency)  # caches, pools, first statements
                probe = Probe(calls)
                probe.install()
                try:
                    started = time.perf_counter()
                    await post_all(http, plan_of(ids, found, messages), concurrency)
                    elapsed = time.perf_counter() - started
                finally:
                    probe.uninstall()
    return summary(probe, messages, elapsed)


def summary(probe: Probe, messages: int, elapsed: float) -> dict[str, Any]:
    holds = sorted(h * 1000 for h in probe.holds)
    result: dict[str, Any] = {
        "messages": messages,
        "messages_per_s": round(messages / elapsed, 1),
        "hold_mean_ms": round(statistics.fmean(holds), 3),
        "hold_p50_ms": round(holds[len(holds) // 2], 3),
        "hold_p99_ms": round(holds[int(len(holds) * 0.99)], 3),
    }
    if probe.profiler:
        stats = pstats.Stats(probe.profiler)
        result["calls_per_message"] = round(stats.total_calls / messages)  # type: ignore[attr-defined]
        result["stats"] = stats
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--calls", action="store_true", help="profile the calls under the lock")
    parser.add_argument("--top", type=int, default=40, help="functions to list with --calls")
    parser.add_argument("--save", type=Path, help="with --calls: write the cProfile data here")
    options = parser.parse_args()
    result = asyncio.run(run(options.messages, options.concurrency, options.calls))
    stats = result.pop("stats", None)
    print(result)
    if stats is not None:
        if options.save:
            stats.dump_stats(options.save)
        stats.sort_stats("ncalls").print_stats(options.top)
        stats.sort_stats("tottime").print_stats(options.top)


if __name__ == "__main__":
    main()
