"""The bench's surroundings: a fresh database per run and ``entente worker`` processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


@contextlib.asynccontextmanager
async def fresh_database(
    kind: str, workdir: Path, pg_settings: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """A new, empty database for one run; its SQLAlchemy URL. PostgreSQL's is dropped after.

    ``pg_settings`` (PostgreSQL only) are set on the database for every session of the run
    (``ALTER DATABASE ... SET``), for experiments such as ``enable_nestloop=off``.
    """
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        return
    name = f"entente_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        for setting, value in (pg_settings or {}).items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", setting):
                raise ValueError(f"not a PostgreSQL setting name: {setting!r}")
            await admin_sql(f'ALTER DATABASE "{name}" SET {setting} = {quote(value)}')
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def admin_sql(statement: str) -> None:
    for maintenance in ("test", "postgres"):
        try:
            connection = await asyncpg.connect(f"{POSTGRES}/{maintenance}", timeout=10)
        except asyncpg.InvalidCatalogNameError:
            continue
        try:
            await connection.execute(statement)
        finally:
            await connection.close()
        return
    raise RuntimeError(f"neither the test nor the postgres database answers at {POSTGRES}")


@dataclass
class WorkerProcess:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def worker_environment(
    database_url: str, data_dir: Path, secrets_key: str, extra: dict[str, str]
) -> dict[str, str]:
    values = {
        "ENTENTE_DATABASE_URL": database_url,
        "ENTENTE_DATA_DIR": str(data_dir),
        "ENTENTE_SECRETS_KEY": secrets_key,
        "ENTENTE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1",
        "ENTENTE_WEBHOOK_ALLOW_HTTP": "true",
        "ENTENTE_LOG_LEVEL": "WARNING",
        **extra,
    }
    return {**os.environ, **values}


async def start_worker(
    name: str, env: dict[str, str], logdir: Path, *, traced: bool = False
) -> WorkerProcess:
    """Start ``python -m service worker`` (or its traced twin) and wait until it has started."""
    log = logdir / f"worker-{name}.log"
    command = ["bench.trace_worker"] if traced else ["service", "worker"]
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *command,
            "--name",
            name,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    worker = WorkerProcess(name, process, log)
    async with asyncio.timeout(30):
        while "started" not in worker.tail():
            if process.returncode is not None:
                raise RuntimeError(f"worker {name} exited:\n{worker.tail()}")
            await asyncio.sleep(0.05)
    return worker


async def stop_process(process: asyncio.subprocess.Process, grace: float = 15) -> int:
    """SIGTERM, then SIGKILL after ``grace`` seconds; the exit code."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    return process.returncode or 0


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="entente-bench-") as path:
        yield Path(path)
