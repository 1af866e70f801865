"""Entente on a database of the test's own, served by real processes that a test may kill.

The world of ``tests.factories`` is built in the test's own process; its tokens are signed with
the key file that the ``entente serve`` and ``entente worker`` processes share, so they work
against those processes too. Everything listens on 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from service.audit.models import AuditEntry
from service.config import Settings
from service.db import Database
from service.events.models import OutboxEvent
from tests.ops import processes
from tests.webhooks import processes as worker_processes
from tests.webhooks.receivers import eventually, free_port

SECRETS_KEY = Fernet.generate_key().decode()
ALL_EVENTS = ["dialogue.*", "permit.*", "assurance.*", "consultation.*", "notice.*", "webhook.*"]


def shared_settings(settings: Settings, url: str) -> Settings:
    """The test's settings on ``url``, with what the processes must share (keys, egress)."""
    return settings.model_copy(
        update={
            "database_url": url,
            "secrets_key": SecretStr(SECRETS_KEY),
            "webhook_allowed_networks": ["127.0.0.1"],
            "webhook_allow_http": True,
        }
    )


def environment(settings: Settings, data_dir: Path, **overrides: str) -> dict[str, str]:
    """What ``entente serve`` and ``entente worker`` run with: the test's key file, no worker in
    the API process, and warnings logged (a refused request logs one)."""
    return worker_processes.environment(
        settings,
        data_dir,
        ENTENTE_SIGNING_KEY_FILE=str(settings.resolved_signing_key_file),
        ENTENTE_SERVE_WORKER="false",
        **overrides,
    )


@dataclass
class Process:
    """One ``entente serve`` (``worker`` unset) or ``entente worker --name <worker>``."""

    env: dict[str, str]
    log: Path
    worker: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        if self.worker:
            self.process = worker_processes.start_worker(self.env, self.worker, self.log)
            await processes.until_logged(self.process, self.log, f"worker {self.worker} started")
        else:
            self.process = processes.start_api(self.env, self.port, self.log)
            await processes.until_ready(self.process, self.url, self.log)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 10)

    async def stop(self) -> None:
        if self.process is not None:
            await processes.stop([self.process])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@contextlib.asynccontextmanager
async def running(*started: Process) -> AsyncIterator[None]:
    """Stops (or kills) every process when the block ends, even on failure."""
    try:
        yield
    finally:
        for process in started:
            await process.stop()


@contextlib.asynccontextmanager
async def calling(process: Process) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
        yield client


def dsn(url: str) -> str:
    """asyncpg's spelling of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@contextlib.asynccontextmanager
async def row_locked(url: str, table: str) -> AsyncIterator[asyncpg.Connection]:
    """Another session holds ``table``'s rows ``FOR UPDATE`` until the block ends."""
    connection = await asyncpg.connect(dsn(url), timeout=5)
    try:
        async with connection.transaction():
            await connection.execute(f"SELECT 1 FROM {table} FOR UPDATE")
            yield connection
    finally:
        await connection.close()


async def blocked_by(connection: asyncpg.Connection, within: float = 30) -> dict[str, Any]:
    """The backend waiting on a lock ``connection`` holds (its pid and statement)."""
    query = (
        "SELECT pid, query FROM pg_stat_activity"
        " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
    )

    async def waiting() -> dict[str, Any] | None:
        await connection.execute(
            "SELECT pg_stat_clear_snapshot()"
        )  # else frozen in our transaction
        row = await connection.fetchrow(query)
        return dict(row) if row else None

    return await eventually(waiting, within=within, interval=0.05)


async def backend_gone(url: str, pid: int, within: float = 30) -> None:
    connection = await asyncpg.connect(dsn(url), timeout=5)
    try:
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"
        await eventually(lambda: _none(connection, query, pid), within=within, interval=0.05)
    finally:
        await connection.close()


async def _none(connection: asyncpg.Connection, query: str, pid: int) -> bool:
    return await connection.fetchval(query, pid) == 0


async def marks(database: Database) -> tuple[int, int]:
    """The last audit entry's and outbox event's numbers: what comes after is new."""
    async with database.sessions() as session:
        entry = await session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()))
        event = await session.scalar(select(OutboxEvent.seq).order_by(OutboxEvent.seq.desc()))
    return entry or 0, event or 0


async def since(database: Database, mark: tuple[int, int]) -> tuple[list[str], list[OutboxEvent]]:
    """Audit actions and outbox events written after ``mark``, in order."""
    async with database.sessions() as session:
        actions = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.seq > mark[0]).order_by(AuditEntry.seq)
        )
        events = await session.scalars(
            select(OutboxEvent).where(OutboxEvent.seq > mark[1]).order_by(OutboxEvent.seq)
        )
        return list(actions.all()), list(events.all())


async def activity(url: str) -> str:
    """What every other session of the database is doing (for failures)."""
    connection = await asyncpg.connect(dsn(url), timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT pid, state, wait_event_type, wait_event, pg_blocking_pids(pid) AS blockers,"
            " left(query, 120) AS query FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return "\n".join(str(dict(row)) for row in rows)
