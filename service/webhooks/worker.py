"""The delivery worker: fan-out, claiming, sending, recording, and the periodic jobs.

One worker runs four loops in one asyncio process:

- **dispatch** fans new outbox events out, claims as many due deliveries as it has free slots,
  and starts one send task each; then it waits to be woken (NOTIFY, the in-process signal, a slot
  freed, or a retry falling due), polling every ``worker_poll_seconds`` at the latest;
- **record** writes finished attempts in batches and frees their slots;
- **listen** keeps a ``LISTEN entente_wake`` connection on PostgreSQL, and on SQLite watches
  ``PRAGMA data_version`` so that commits by other processes wake it too;
- **jobs** runs the periodic jobs every ``worker_jobs_interval_seconds``: permit expiry, overdue
  consultations, expired leases, pruning of old delivery logs and of expired idempotency keys.

Stopping (SIGTERM): no new claims; sends in flight get ``worker_shutdown_grace_seconds`` to
finish and are recorded; what is left is released back to the queue, due at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog
from prometheus_client import CollectorRegistry

from service.api import idempotency, problems
from service.config import Settings
from service.db import Database
from service.errors import Unavailable
from service.events import signals
from service.jobs import run_periodic
from service.observability.metrics import WorkerMetrics
from service.uow import UnitOfWork
from service.webhooks import fanout, queue
from service.webhooks.egress import EgressPolicy
from service.webhooks.queue import Job
from service.webhooks.record import record
from service.webhooks.sender import Outcome, Sender
from service.webhooks.signing import SecretBox

log = structlog.get_logger("entente.worker")
RECORD_BATCH = 500
SQLITE_WATCH_SECONDS = 0.05


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        box: SecretBox,
        name: str | None = None,
        egress: EgressPolicy | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.box = box
        self.name = name or worker_name()
        self.egress = egress or EgressPolicy(
            settings.webhook_allowed_networks, allow_http=settings.webhook_allow_http
        )
        self.wake = signals.listen_local()
        self.stopping = asyncio.Event()
        self.in_flight: dict[UUID, Job] = {}
        self.sends: set[asyncio.Task[None]] = set()
        self.outcomes: list[Outcome] = []  # finished sends, not yet recorded
        self.outcome_ready = asyncio.Event()
        self.recording = asyncio.Lock()
        self.next_due: datetime | None = None
        self.metrics = metrics or WorkerMetrics(CollectorRegistry())
        self.loops: list[asyncio.Task[None]] = []
        self.heartbeat = time.monotonic()  # the dispatch loop's last turn, for health checks

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Worker]:
        task = asyncio.create_task(self.run(), name=f"worker {self.name}")
        try:
            yield self
        finally:
            self.stop()
            await task

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    async def run(self) -> None:
        sender = self.new_sender()
        log.info("worker started", worker=self.name)
        # These two end by themselves once stopping is set, never in the middle of a transaction.
        duties = [asyncio.create_task(self.dispatch(sender)), asyncio.create_task(self.jobs_loop())]
        helpers = [asyncio.create_task(self.record_loop()), asyncio.create_task(self.listen())]
        self.loops = duties + helpers
        try:
            await self.stopping.wait()
            await asyncio.gather(*duties, return_exceptions=True)
            await self.drain()
        finally:
            for task in duties + helpers:
                task.cancel()
            await asyncio.gather(*duties, *helpers, return_exceptions=True)
            await sender.close()
            log.info("worker stopped", worker=self.name)

    def new_sender(self) -> Sender:
        s = self.settings
        return Sender(
            self.egress,
            timeout=s.webhook_timeout_seconds,
            concurrency=s.worker_concurrency,
            connections_per_client=s.worker_connections_per_client,
            excerpt_bytes=s.webhook_response_excerpt_bytes,
        )

    async def drain(self) -> None:
        """Let sends in flight finish within the grace period; give the rest back."""
        if self.sends:
            await asyncio.wait(self.sends, timeout=self.settings.worker_shutdown_grace_seconds)
        for task in self.sends:
            task.cancel()
        await asyncio.gather(*self.sends, return_exceptions=True)
        await self.flush()
        with contextlib.suppress(Exception):
            await queue.release(self.database, worker=self.name, ids=list(self.in_flight))

    # -- dispatch ---------------------------------------------------------------------------

    async def dispatch(self, sender: Sender) -> None:
        while not self.stopping.is_set():
            self.heartbeat = time.monotonic()
            self.wake.clear()
            try:
                full = await self.dispatch_once(sender)
            except Exception:
                log_failure("dispatch failed; retrying", worker=self.name)
                full = False
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1):  # the database may be down: do not spin
                        await self.stopping.wait()
            if not full:
                await self.sleep()

    async def dispatch_once(self, sender: Sender) -> bool:
        """Fan out and claim; True when there may be more to claim at once."""
        while await fanout.fan_out(self.database):
            self.heartbeat = time.monotonic()  # a long backlog is work, not a hang
        free = self.settings.worker_concurrency - len(self.in_flight)
        if free <= 0:
            return False
        jobs = await queue.claim(
            self.database,
            self.box,
            worker=self.name,
            limit=min(free, 200),
            lease_seconds=self.settings.worker_lease_seconds,
            per_endpoint=self.settings.worker_per_endpoint,
            busy=self.busy_endpoints(),
        )
        for job in jobs:
            self.start_send(sender, job)
        return len(jobs) == min(free, 200) and len(jobs) > 0

    def busy_endpoints(self) -> list[UUID]:
        counts = Counter(job.subscription_id for job in self.in_flight.values())
        return [sid for sid, n in counts.items() if n >= self.settings.worker_per_endpoint]

    def start_send(self, sender: Sender, job: Job) -> None:
        self.in_flight[job.delivery_id] = job

        async def send() -> None:
            self.outcomes.append(await sender.send(job))
            self.outcome_ready.set()

        task = asyncio.create_task(send())
        self.sends.add(task)
        task.add_done_callback(self.sends.discard)

    async def sleep(self) -> None:
        timeout = self.settings.worker_poll_seconds
        if self.next_due is not None:
            until_due = (self.next_due - datetime.now(UTC)).total_seconds()
            timeout = max(0.0, min(timeout, until_due))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.wake.wait()

    # -- recording --------------------------------------------------------------------------

    async def record_loop(self) -> None:
        while True:
            await self.outcome_ready.wait()
            self.outcome_ready.clear()
            await self.flush()

    async def flush(self) -> None:
        # Outcomes leave the list only here, one recorder at a time, so a stopping worker that
        # flushes waits for the batch being written and never releases what is being recorded.
        async with self.recording:
            while self.outcomes:
                batch = self.outcomes[:RECORD_BATCH]
                del self.outcomes[:RECORD_BATCH]
                await self.record_batch(batch)

    async def record_batch(self, batch: list[Outcome]) -> None:
        uow = UnitOfWork(self.database)
        for delay in (0.5, 1, 2, 5, 10, 30):
            try:
                recorded = await record(uow, self.settings, batch, worker=self.name)
                break
            except Exception:
                log_failure("recording attempts failed; retrying", worker=self.name)
                await asyncio.sleep(delay)
        else:
            return  # the leases run out and the deliveries are tried again: at least once
        for outcome in batch:
            self.in_flight.pop(outcome.job.delivery_id, None)
            log.info(
                "webhook attempt",
                delivery_id=str(outcome.job.delivery_id),
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
            )
        self.metrics.observe(batch, recorded)
        self.note_retries(recorded.retries)
        self.wake.set()

    def note_retries(self, times: list[datetime]) -> None:
        now = datetime.now(UTC)
        upcoming = [t for t in [*times, self.next_due] if t is not None and t > now]
        self.next_due = min(upcoming) if upcoming else None

    # -- periodic jobs and wake-ups ---------------------------------------------------------

    async def jobs_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                await self.run_jobs()
            except Exception:
                log_failure("periodic jobs failed", worker=self.name)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.worker_jobs_interval_seconds):
                    await self.stopping.wait()

    async def run_jobs(self) -> None:
        result = await run_periodic(UnitOfWork(self.database))
        released = await queue.release_expired_leases(self.database)
        pruned = await queue.prune(
            self.database, retention_days=self.settings.webhook_log_retention_days
        )
        keys_ttl = timedelta(seconds=self.settings.idempotency_ttl_seconds)
        forgotten = await idempotency.prune(self.database, datetime.now(UTC) - keys_ttl)
        if released:
            self.wake.set()
        done = {
            "expired_permits": result.expired_permits,
            "overdue_consultations": result.overdue_consultations,
            "released_leases": released,
            "pruned_deliveries": pruned,
            "expired_idempotency_keys": forgotten,
        }
        if any(done.values()):
            log.info("periodic jobs", worker=self.name, **done)

    async def listen(self) -> None:
        """LISTEN for commits on PostgreSQL; reconnect when the connection drops."""
        if self.database.is_sqlite:
            return await self.watch_sqlite()
        import asyncpg

        dsn = self.database.engine.url.set(drivername="postgresql").render_as_string(False)
        while True:
            try:
                await self.listen_once(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("cannot listen for wake-ups; polling", worker=self.name, error=str(exc))
            await asyncio.sleep(2)

    async def watch_sqlite(self) -> None:
        """SQLite has no NOTIFY: notice other processes' commits by ``PRAGMA data_version``.

        The number changes whenever another connection commits; reading it costs microseconds,
        so a worker in its own process hears of new events within ``SQLITE_WATCH_SECONDS``.
        """
        import aiosqlite

        last = None
        async with aiosqlite.connect(self.database.engine.url.database) as connection:
            while True:
                async with connection.execute("PRAGMA data_version") as cursor:
                    (version,) = await cursor.fetchone()
                if last is not None and version != last:
                    self.wake.set()
                last = version
                await asyncio.sleep(SQLITE_WATCH_SECONDS)

    async def listen_once(self, dsn: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(dsn, timeout=10)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(signals.CHANNEL, lambda *_: self.wake.set())
            self.wake.set()  # anything committed while we were not listening
            await lost.wait()
        finally:
            await connection.close()


def log_failure(event: str, **context: str) -> None:
    """Log the exception being handled: a database that cannot serve for now (stopped,
    restarting, locked by another writer) is a warning, since the loop retries; anything else
    is an error with its trace."""
    exc = sys.exc_info()[1]
    if isinstance(exc, Unavailable) or (exc is not None and problems.database_unavailable(exc)):
        log.warning(event, reason="database unavailable", error=repr(exc)[:300], **context)
    else:
        log.exception(event, **context)
