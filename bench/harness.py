"""The bench harness: databases, server processes, memory sampling and the result record.

Scenario modules (``bench/scenarios/<name>.py``) use it through a ``Context`` (``bench/run.py``
makes one per database and passes it to ``async def run(ctx) -> list[Row]``)::

    async def run(ctx: Context) -> list[Row]:
        rows = []
        async with ctx.target() as target:            # fresh migrated database + signing key
            await my_seed(target)                     # e.g. bench.scenario.seed(target.uow())
            async with project(target) as api, bare(target) as base:
                tokens = await api.tokens(["tr-diplomat"], PASSWORD)
                for n in ctx.round_numbers():         # interleaved: project, bare, project, ...
                    for subject, server, path in (("project", api, ...), ("bare", base, ...)):
                        result = await ctx.load(server, requests)   # bench.load.LoadResult
                        rows += result.rows("write", ctx.database, subject, n)
        return rows

Everything runs on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from cryptography.fernet import Fernet

from bench.processes import ROOT, fresh_database, stop_process
from service import migrate
from service.auth.keys import generate_pem
from service.db import Database
from service.uow import UnitOfWork

if TYPE_CHECKING:
    from bench.load import LoadResult

READY_TIMEOUT = 60.0


# -- results ------------------------------------------------------------------------------------


@dataclass
class Row:
    """One figure. ``subject`` is "project" or "bare" (or "derived" for computed figures, e.g.
    the read scenario's p99 at 1M over p99 at 10k); ``round`` is 1.. for interleaved rounds,
    0 for a figure measured once. ``metric`` names what, e.g. "rps", "p50_ms", "p99_ms",
    "rss_max_mb", "startup_s"; ``unit`` how ("req/s", "ms", "MB", "s", "ratio", ...)."""

    scenario: str
    database: str
    subject: str
    metric: str
    value: float
    unit: str
    round: int = 0
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Aim:
    """A target of the issue, checked by ``bench/run.py`` on the medians of the rows.

    ``kind``:
    - "ratio_at_least" / "ratio_at_most": median(project) / median(bare) of ``metric``;
    - "at_least" / "at_most": median of ``metric`` for ``subject`` (default "project").
    A scenario module lists its aims in a module-level ``AIMS: list[Aim]``.
    """

    metric: str
    kind: str
    threshold: float
    label: str
    subject: str = "project"


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


# -- databases ----------------------------------------------------------------------------------


@dataclass
class Target:
    """A fresh, migrated database and the keys the servers share.

    ``kind`` is "sqlite" or "postgres"; ``url`` the SQLAlchemy URL (``sqlite+aiosqlite:///...``
    or ``postgresql+asyncpg://...``); ``key_file`` the ES256 private key (PEM) that the project
    signs tokens with and the bare app verifies them with; ``secrets_key`` the Fernet key the
    project encrypts webhook secrets with; ``workdir`` a private temp directory.
    """

    kind: str
    url: str
    workdir: Path
    key_file: Path
    secrets_key: str

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def database(self) -> Database:
        """A ``service.db.Database`` on this target for seeding in the bench's process;
        dispose of it (``await db.dispose()``) before measuring."""
        return Database(self.url)

    def project_env(self) -> dict[str, str]:
        """The environment ``entente serve`` and ``entente worker`` get on this target."""
        return {
            "ENTENTE_DATABASE_URL": self.url,
            "ENTENTE_DATA_DIR": str(self.data_dir),
            "ENTENTE_SIGNING_KEY_FILE": str(self.key_file),
            "ENTENTE_SECRETS_KEY": self.secrets_key,
            "ENTENTE_LOG_LEVEL": "WARNING",
            "ENTENTE_USER_TOKEN_TTL_SECONDS": "86400",  # one set of tokens lasts a whole run
            "ENTENTE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1",
            "ENTENTE_WEBHOOK_ALLOW_HTTP": "true",
            "ENTENTE_SERVE_WORKER": "false",
        }

    def bare_env(self) -> dict[str, str]:
        """The environment of the bare app (``bench.bare.app``)."""
        return {"BENCH_DATABASE_URL": self.url, "BENCH_KEY_FILE": str(self.key_file)}


@contextlib.asynccontextmanager
async def fresh_target(kind: str, parent: Path) -> AsyncIterator[Target]:
    """A new migrated database of ``kind`` under ``parent`` (PostgreSQL's is dropped after)."""
    workdir = Path(parent) / f"{kind}-{os.urandom(4).hex()}"
    workdir.mkdir(parents=True)
    try:
        async with fresh_database(kind, workdir) as url:
            await migrate.upgrade_async(url)
            key_file = workdir / "keys" / "signing-key.pem"
            key_file.parent.mkdir(mode=0o700)
            key_file.write_text(generate_pem())
            key_file.chmod(0o600)
            (workdir / "data").mkdir(mode=0o700)
            yield Target(kind, url, workdir, key_file, Fernet.generate_key().decode())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def seed_parties(target: Target) -> str:
    """The seed case's parties and users (``bench.scenario.seed``); the dialogue's id.
    Every user's password is ``bench.scenario.PASSWORD``."""
    from bench.scenario import seed

    database = target.database()
    try:
        return await seed(UnitOfWork(database))
    finally:
        await database.dispose()


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Server:
    """A process under test: an HTTP server (``port`` set) or a worker (``port`` 0).

    ``startup_s`` runs from exec to the first 200 on the readiness path (a worker: to the
    "started" line of its log). ``rss_mb()`` reads VmRSS from ``/proc/<pid>/status``.
    """

    name: str
    process: asyncio.subprocess.Process
    log: Path
    port: int = 0
    startup_s: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self) -> int:
        return await stop_process(self.process)

    async def tokens(self, usernames: Iterable[str], password: str) -> dict[str, str]:
        """Access tokens from ``POST /oauth/token`` (password grant) of this project server."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            return await fetch_tokens(http, usernames, password)


async def fetch_tokens(
    http: httpx.AsyncClient, usernames: Iterable[str], password: str
) -> dict[str, str]:
    """Access tokens from the project's ``POST /oauth/token`` (password grant) through ``http``."""
    found = {}
    for username in usernames:
        form = {"grant_type": "password", "username": username, "password": password}
        response = await http.post("/oauth/token", data=form)
        response.raise_for_status()
        found[username] = response.json()["access_token"]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 once it has gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def spawn(name: str, command: list[str], env: dict[str, str], logdir: Path) -> Server:
    log = logdir / f"{name}.log"
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *command,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return Server(name, process, log)


async def wait_http_ready(server: Server, path: str, started: float) -> None:
    async with httpx.AsyncClient(timeout=2) as http, asyncio.timeout(READY_TIMEOUT):
        while True:
            if server.process.returncode is not None:
                raise RuntimeError(f"{server.name} exited:\n{server.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(server.base_url + path)).status_code == 200:
                    server.startup_s = time.perf_counter() - started
                    return
            await asyncio.sleep(0.02)


def entente_command() -> list[str]:
    script = Path(sys.executable).with_name("entente")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service"]


async def start_project(
    target: Target, *, env: dict[str, str] | None = None, name: str = "project"
) -> Server:
    """``entente serve`` on a free port (one uvicorn process, access log off, log level
    warning, uvloop/httptools when installed), ready on ``/readyz``. ``env`` overrides
    ``target.project_env()``, e.g. ``{"ENTENTE_SERVE_WORKER": "true"}``."""
    port = free_port()
    command = [*entente_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    server = await spawn(name, command, {**target.project_env(), **(env or {})}, target.workdir)
    server.port = port
    await ready_or_stop(server, wait_http_ready(server, "/readyz", started))
    return server


async def start_bare(
    target: Target, *, env: dict[str, str] | None = None, name: str = "bare"
) -> Server:
    """The bare app (``bench.bare.app``) under uvicorn with the project's options, ready on
    ``/healthz``."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    command += ["--no-access-log", "--log-level", "warning", "--no-proxy-headers"]
    started = time.perf_counter()
    server = await spawn(name, command, {**target.bare_env(), **(env or {})}, target.workdir)
    server.port = port
    await ready_or_stop(server, wait_http_ready(server, "/healthz", started))
    return server


async def start_worker(
    target: Target, *, env: dict[str, str] | None = None, name: str = "worker"
) -> Server:
    """``entente worker --name <name>``, ready when its log says "started"."""
    command = [*entente_command(), "worker", "--name", name]
    started = time.perf_counter()
    server = await spawn(name, command, {**target.project_env(), **(env or {})}, target.workdir)
    await ready_or_stop(server, wait_logged(server, "started", started))
    return server


async def wait_logged(server: Server, text: str, started: float) -> None:
    async with asyncio.timeout(READY_TIMEOUT):
        while text not in server.tail():
            if server.process.returncode is not None:
                raise RuntimeError(f"{server.name} exited:\n{server.tail()}")
            await asyncio.sleep(0.02)
    server.startup_s = time.perf_counter() - started


async def ready_or_stop(server: Server, waiting: Any) -> None:
    try:
        await waiting
    except BaseException:
        await server.stop()
        raise


@contextlib.asynccontextmanager
async def running(starting: Any) -> AsyncIterator[Server]:
    """``async with running(start_project(target)) as api:`` -- stopped (SIGTERM) at the end."""
    server = await starting
    try:
        yield server
    finally:
        await server.stop()


def project(target: Target, **options: Any) -> contextlib.AbstractAsyncContextManager[Server]:
    return running(start_project(target, **options))


def bare(target: Target, **options: Any) -> contextlib.AbstractAsyncContextManager[Server]:
    return running(start_bare(target, **options))


# -- memory -------------------------------------------------------------------------------------


@dataclass
class RssPeaks:
    """Maximum resident memory (MB) per process name, sampled while the block runs."""

    peaks: dict[str, float] = field(default_factory=dict)

    def sample(self, pids: dict[str, int]) -> None:
        for name, pid in pids.items():
            self.peaks[name] = max(self.peaks.get(name, 0.0), rss_mb(pid))


@contextlib.asynccontextmanager
async def sample_rss(pids: dict[str, int], every: float = 0.2) -> AsyncIterator[RssPeaks]:
    """``async with sample_rss({"api": api.pid}) as rss: ...load...``; then ``rss.peaks``."""
    found = RssPeaks()

    async def sampler() -> None:
        while True:
            found.sample(pids)
            await asyncio.sleep(every)

    task = asyncio.create_task(sampler())
    try:
        yield found
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        found.sample(pids)


# -- what a scenario gets -----------------------------------------------------------------------


@dataclass
class Context:
    """What ``bench/run.py`` hands each scenario's ``run(ctx)``, once per database.

    - ``database``: "sqlite" or "postgres"; ``ctx.target()`` gives a fresh migrated one.
    - ``rounds``: interleaved rounds per subject (project, bare, project, bare, ...; >= 3).
    - ``duration`` / ``warmup``: seconds of each measured load run, and of the uncounted run
      before it. ``quick`` is set for smoke runs (tiny durations; keep datasets tiny too).
    - ``workdir``: a temp directory for this database's run (removed afterwards).
    - ``connections``: the load's concurrency (32).
    """

    database: str
    workdir: Path
    rounds: int = 3
    duration: float = 10.0
    warmup: float = 3.0
    quick: bool = False
    connections: int = 32

    def target(self) -> contextlib.AbstractAsyncContextManager[Target]:
        return fresh_target(self.database, self.workdir)

    def round_numbers(self) -> range:
        return range(1, self.rounds + 1)

    async def load(
        self, server: Server, requests: list[Any], *, duration: float | None = None
    ) -> LoadResult:
        """``bench.load.run_wrk`` against ``server`` with this context's settings."""
        from bench.load import run_wrk

        return await run_wrk(
            server.base_url,
            requests,
            duration=duration or self.duration,
            warmup=self.warmup,
            connections=self.connections,
        )

    def log(self, message: str) -> None:
        print(f"  [{self.database}] {message}", file=sys.stderr, flush=True)
