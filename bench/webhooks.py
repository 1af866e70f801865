"""Webhook delivery bench: from a notice issued to its delivery received, on SQLite and PostgreSQL.

Run: ``.venv/bin/python -m bench.webhooks --db sqlite|postgres|both`` (``make bench-webhooks``);
``bench/README.md`` says how to read the output.

Method, per database, all within one deadline (``--deadline``, 120 s):

1. A fresh database (SQLite: a temp file; PostgreSQL: a new database, dropped at the end),
   migrated with ``service.migrate.upgrade_async``. The seed case's parties and users are created
   by ``service.demo.load`` (plus an admin for the observer); everything else goes over the REST
   API of the app running in this process (``httpx.ASGITransport``, with its lifespan), which
   does not deliver webhooks itself (``serve_worker=False``).
2. A receiver in its own process (``bench.receiver``) answers 204 at once and records the arrival
   time (``time.time()``) of each request; the delivery workers are real ``entente worker``
   processes (2 on each database, as many as the machine's CPUs) with the default settings.
3. Latency: one subscription (``notice.*``); ``--notices`` notices (suspension, then
   reinstatement, of one permit, alternating), each drafted by an officer and issued by an
   approver, one at a time, ``--gap`` seconds apart, after ``--warmup`` uncounted ones. A
   notice's latency runs from just before its ``POST /notices/{id}/issue`` to the arrival of its
   ``notice.issued`` delivery. Percentiles interpolate linearly between the samples.
4. Throughput: ``--subscriptions`` subscriptions (``permit.*``, ``notice.*``) spread over the
   dialogue's three organizations, each created by that organization's admin; then ONE
   cancellation of ``--permits`` active permits: (permits + 1) events x subscriptions deliveries
   (29 ``permit.status_changed`` + 1 ``notice.issued``, x 100 = 3,000). Measured from just before
   the issue request to the last arrival: deliveries/s, and the times to first and last delivery.
5. Baseline, in the same run, after the workers have stopped: the same deliveries (same bodies,
   ids, secrets, headers, signed at send time with ``standardwebhooks``) POSTed straight to the
   same receiver by 16 ``httpx.AsyncClient`` of 4 connections, 64 at a time: no database, no
   queue. The service's throughput is reported beside it, with their ratio.
6. Every delivery the service made is checked against its subscription's secret with
   ``standardwebhooks`` (signature and timestamp), proving the bench counts real signed deliveries.

Where the time goes, for both phases: each delivery split into stages from the service's own
delivery log (``bench.stages``), and the CPU each process used (``bench.cpu``). ``--trace`` runs
the workers as ``bench.trace_worker`` to time each step of their loops; ``--pg-set`` and
``--worker-env`` change a PostgreSQL or worker setting for an experiment.

Results: a table on stdout and ``bench/results/webhooks-<db>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from standardwebhooks import Webhook, WebhookVerificationError

from bench import baseline, cpu
from bench.processes import (
    WorkerProcess,
    fresh_database,
    start_worker,
    stop_process,
    workdir,
    worker_environment,
)
from bench.receiver import RemoteReceiver
from bench.report import COLUMNS, aims, environment, header, row, save, stage_lines, trace_lines
from bench.scenario import ADMINS, PASSWORD, Scene, seed
from bench.stages import breakdown, traced
from service import migrate
from service.app import create_app
from service.config import Settings
from service.db import Database
from service.demo_story import Api
from service.uow import UnitOfWork

# As many worker processes as the machine has CPUs (2): one worker process is CPU-bound at
# about 0.4 of the bare fan-out on SQLite (bench/README.md, "Latest figures").
WORKERS = {"postgres": 2, "sqlite": 2}


class BenchFailed(RuntimeError):
    pass


@dataclass
class Options:
    databases: list[str]
    notices: int = 40
    warmup: int = 5
    gap: float = 0.1
    subscriptions: int = 100
    permits: int = 29
    deadline: float = 120.0
    workers: int | None = None
    worker_env: dict[str, str] = field(default_factory=dict)
    trace: bool = False
    pg_settings: dict[str, str] = field(default_factory=dict)
    label: str = ""


@dataclass
class Run:
    """What one database's run needs at hand."""

    kind: str
    options: Options
    scene: Scene
    receiver: RemoteReceiver
    database: Database
    workdir: Path
    worker_env: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)  # receiver path -> webhook secret
    windows: dict[str, tuple[float, float]] = field(default_factory=dict)  # phase -> start, end
    processes: dict[str, int] = field(default_factory=dict)  # name -> pid, for CPU use
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)  # phase -> name -> CPUs

    @property
    def database_name(self) -> str | None:
        return None if self.kind == "sqlite" else self.database.url.rsplit("/", 1)[1]

    @contextlib.contextmanager
    def cpu_during(self, phase: str) -> Iterator[None]:
        before, started = cpu.snapshot(self.processes, self.database_name), time.time()
        yield
        after = cpu.snapshot(self.processes, self.database_name)
        self.cpu[phase] = cpu.usage(before, after, time.time() - started)


# -- phases -------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "n": len(samples),
        "p50_ms": round(cuts[49], 1),
        "p90_ms": round(cuts[89], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(samples), 1),
        "min_ms": round(min(samples), 1),
    }


async def issue_and_wait(run: Run, notice_id: str, expected: int, within: float) -> dict:
    """Issue a notice and wait for ``expected`` more arrivals; the times around it."""
    before = await run.receiver.count()
    started = time.time()
    await run.scene.issue(notice_id)
    answered = time.time()
    arrived = await run.receiver.wait(before + expected, within)
    if arrived < before + expected:
        raise BenchFailed(f"{arrived - before} of {expected} deliveries within {within:g} s")
    return {"before": before, "started": started, "answered": answered}


async def suspend_and_reinstate(
    run: Run, permit_id: str, count: int, *, done: int = 0
) -> dict[str, dict]:
    """``count`` notices on one active permit, one at a time, after ``done`` such notices
    (which left it suspended when odd); their issue times, by notice id."""
    issued = {}
    for i in range(done, done + count):
        kind = "suspension" if i % 2 == 0 else "reinstatement"
        notice_id = await run.scene.draft(kind, [permit_id])
        issued[notice_id] = await issue_and_wait(run, notice_id, 1, within=15)
        await asyncio.sleep(run.options.gap)
    return issued


async def measure_latency(run: Run, permit_id: str) -> dict[str, Any]:
    hook = await run.scene.subscribe(ADMINS[0], run.receiver.url("latency"), ["notice.*"])
    run.secrets["/hook/latency"] = hook["secret"]
    warmup = run.options.warmup
    await suspend_and_reinstate(run, permit_id, warmup)
    first = await run.receiver.count()
    with run.cpu_during("latency"):
        times = await suspend_and_reinstate(run, permit_id, run.options.notices, done=warmup)
    records = await run.receiver.records(first, bodies=True)
    issued = {r["id"]: times[n]["started"] for r in records if (n := notice_of(r)) in times}
    counted = [r for r in records if r["id"] in issued]
    stages = await breakdown(run.database, counted, issued)
    await run.scene.unsubscribe(ADMINS[0], hook["id"])
    samples = [(r["at"] - issued[r["id"]]) * 1000 for r in counted]
    requests = [(t["answered"] - t["started"]) * 1000 for t in times.values()]
    run.windows["latency"] = (min(issued.values()), max(r["at"] for r in counted))
    return {
        **percentiles(samples),
        "issue_request_ms_p50": round(statistics.median(requests), 1),
        "breakdown": stages,
    }


def notice_of(record: dict[str, Any]) -> str | None:
    data = json.loads(record["body"]).get("data") or {}
    return (data.get("notice") or {}).get("id")


async def subscribe_many(run: Run) -> None:
    for n in range(run.options.subscriptions):
        name = f"s{n:03d}"
        admin = ADMINS[n % len(ADMINS)]  # authority, counterpart, observer in turn
        hook = await run.scene.subscribe(admin, run.receiver.url(name), ["permit.*", "notice.*"])
        run.secrets[f"/hook/{name}"] = hook["secret"]


async def measure_throughput(run: Run, permit_ids: list[str]) -> tuple[dict, list[dict]]:
    await subscribe_many(run)
    notice_id = await run.scene.draft("cancellation", permit_ids)
    await asyncio.sleep(1)  # the workers are idle again
    expected = (len(permit_ids) + 1) * run.options.subscriptions
    with run.cpu_during("throughput"):
        times = await issue_and_wait(run, notice_id, expected, within=run.options.deadline)
    records = await run.receiver.records(times["before"], bodies=True)
    figures = throughput_figures(records, times, expected)
    run.windows["throughput"] = (times["started"], max(r["at"] for r in records))
    issued = {r["id"]: times["started"] for r in records}
    figures["breakdown"] = await breakdown(run.database, records, issued)
    return figures, records


def throughput_figures(records: list[dict], times: dict, expected: int) -> dict[str, Any]:
    unique = {(r["path"], r["id"]) for r in records}
    arrivals = sorted(r["at"] for r in records)
    first, last = arrivals[0] - times["started"], arrivals[-1] - times["started"]
    return {
        "expected": expected,
        "received": len(records),
        "unique": len(unique),
        "events": len({r["id"] for r in records}),
        "types": dict(Counter(r["type"] for r in records)),
        "issue_request_ms": round((times["answered"] - times["started"]) * 1000, 1),
        "first_delivery_ms": round(first * 1000, 1),
        "last_delivery_ms": round(last * 1000, 1),
        "per_second": round(len(unique) / last, 1),
        "per_second_after_first": round(len(unique) / (last - first), 1) if last > first else None,
    }


def verify(records: list[dict], secrets: dict[str, str]) -> dict[str, int]:
    good = 0
    for record in records:
        try:
            Webhook(secrets[record["path"]]).verify(record["body"], record["headers"])
            good += 1
        except (WebhookVerificationError, KeyError):
            pass
    return {"checked": len(records), "valid": good}


async def measure_baseline(run: Run, records: list[dict]) -> dict[str, Any]:
    deliveries = [
        baseline.Delivery(
            url=f"http://127.0.0.1:{run.receiver.port}{r['path']}",
            message_id=r["id"],
            body=r["body"],
            secret=run.secrets[r["path"]],
        )
        for r in records
    ]
    before = await run.receiver.count()
    result = await baseline.run(deliveries)
    arrived = await run.receiver.wait(before + len(deliveries), within=10) - before
    return {
        "deliveries": result.deliveries,
        "failures": result.failures,
        "received": arrived,
        "seconds": round(result.seconds, 3),
        "per_second": round(result.per_second, 1),
    }


# -- one database -------------------------------------------------------------------------------


def app_settings(url: str, data_dir: Path, secrets_key: str) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data_dir,
        serve_worker=False,
        webhook_allowed_networks=["127.0.0.1"],
        webhook_allow_http=True,
        secrets_key=secrets_key,
        log_level="WARNING",
    )


async def stop_all(workers: list[WorkerProcess]) -> None:
    await asyncio.gather(*(stop_process(worker.process) for worker in workers))


async def start_workers(stack: contextlib.AsyncExitStack, run: Run) -> int:
    """The worker processes, stopped (SIGTERM) when ``stack`` closes; how many."""
    workers: list[WorkerProcess] = []
    stack.push_async_callback(stop_all, workers)
    for n in range(1, (run.options.workers or WORKERS[run.kind]) + 1):
        worker = await start_worker(f"w{n}", run.worker_env, run.workdir, traced=run.options.trace)
        workers.append(worker)
        run.processes[worker.name] = worker.process.pid
    return len(workers)


async def bench_database(kind: str, options: Options) -> dict[str, Any]:
    """One database's run, within the deadline; its figures."""
    with workdir() as tmp:
        try:
            async with (
                asyncio.timeout(options.deadline),
                fresh_database(kind, tmp, options.pg_settings) as url,
                contextlib.AsyncExitStack() as stack,
            ):
                run = await prepare(stack, kind, options, url, tmp)
                return await phases(run)
        except BaseException:
            for log in sorted(tmp.glob("worker-*.log")):
                print(f"--- {log.name}\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise


async def prepare(
    stack: contextlib.AsyncExitStack, kind: str, options: Options, url: str, tmp: Path
) -> Run:
    """Migrate, seed the parties, start the receiver and the app; nothing delivers yet."""
    await migrate.upgrade_async(url)
    key = Fernet.generate_key().decode()
    settings = app_settings(url, tmp / "data", key)
    database = Database(url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    stack.push_async_callback(database.dispose)
    dialogue_id = await seed(UnitOfWork(database))
    receiver = await RemoteReceiver.start()
    stack.push_async_callback(receiver.stop)
    app = create_app(settings, database=database)
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app)
    http = await stack.enter_async_context(
        httpx.AsyncClient(transport=transport, base_url="http://entente.bench")
    )
    extra = {**options.worker_env, **({"BENCH_TRACE_DIR": str(tmp)} if options.trace else {})}
    env = worker_environment(url, tmp / "data", key, extra)
    scene = Scene(Api(http, PASSWORD), dialogue_id)
    run = Run(kind, options, scene, receiver, database, tmp, env)
    run.processes.update(bench=os.getpid(), receiver=receiver.process.pid)
    return run


async def phases(run: Run) -> dict[str, Any]:
    await run.scene.sign_in_all()
    permit_ids = await run.scene.register_permits(run.options.permits + 1)
    async with contextlib.AsyncExitStack() as stack:
        workers = await start_workers(stack, run)
        latency = await measure_latency(run, permit_ids[0])
        throughput, records = await measure_throughput(run, permit_ids[1:])
    served = await run.receiver.records(0, bodies=True)  # before the baseline adds its own
    bare = await measure_baseline(run, records)
    if run.options.trace:
        trace = {phase: traced(run.workdir, window) for phase, window in run.windows.items()}
    return {
        "database": run.kind,
        "workers": workers,
        "worker_env": run.options.worker_env,
        "latency": latency,
        "throughput": throughput,
        "baseline": bare,
        "ratio": round(throughput["per_second"] / bare["per_second"], 2),
        "signatures": verify(served, run.secrets),
        "cpu": run.cpu,
        **({"trace": trace} if run.options.trace else {}),
    }


# -- command line -------------------------------------------------------------------------------


def key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.webhooks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--notices", type=int, default=40, help="latency samples (40)")
    parser.add_argument("--warmup", type=int, default=5, help="uncounted notices first (5)")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between notices (0.1)")
    parser.add_argument("--subscriptions", type=int, default=100, help="for throughput (100)")
    parser.add_argument("--permits", type=int, default=29, help="cancelled at once (29)")
    parser.add_argument("--deadline", type=float, default=120, help="seconds per database (120)")
    parser.add_argument("--workers", type=int, help="worker processes (2)")
    parser.add_argument(
        "--worker-env",
        type=key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the workers, e.g. ENTENTE_WORKER_POLL_SECONDS=0.2",
    )
    parser.add_argument(
        "--pg-set",
        type=key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the bench database, e.g. enable_nestloop=off",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="run the workers as bench.trace_worker and report the time of each step",
    )
    parser.add_argument(
        "--label", default="", help="results go to webhooks-<db>-<label>.json (experiments)"
    )
    args = parser.parse_args(argv)
    return Options(
        databases=["sqlite", "postgres"] if args.db == "both" else [args.db],
        notices=args.notices,
        warmup=args.warmup,
        gap=args.gap,
        subscriptions=args.subscriptions,
        permits=args.permits,
        deadline=args.deadline,
        workers=args.workers,
        worker_env=dict(args.worker_env),
        trace=args.trace,
        pg_settings=dict(args.pg_set),
        label=args.label,
    )


async def bench(options: Options) -> int:
    env = environment()
    print(header(env), flush=True)
    rows, failed = [], 0
    for kind in options.databases:
        try:
            load = os.getloadavg()[0]
            result = await bench_database(kind, options)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, TimeoutError):
                reason = f"not done within the deadline ({options.deadline:g} s)"
            print(f"{kind}: FAILED: {reason}", file=sys.stderr)
            failed += 1
            continue
        result.update(environment=env, options=vars(options), aims=aims(result))
        result["load_average_1min"] = {"before": load, "after": os.getloadavg()[0]}
        print(f"{kind}: aims {json.dumps(result['aims'])} -> {save(result, options.label)}")
        print("\n".join(stage_lines(result) + trace_lines(result)), flush=True)
        rows.append(row(result))
    print("\n".join([COLUMNS, *rows]))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    sys.exit(asyncio.run(bench(parse(argv))))


if __name__ == "__main__":
    main()
