"""The ``entente`` command."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from service.auth.commands import keys_app
from service.cli_support import fail, settings
from service.config import AdminPassword, Settings
from service.errors import ServiceError

if TYPE_CHECKING:
    from service.uow import UnitOfWork

# The database layer and Alembic are imported by the commands that use them, so `entente keys`
# and `--help` answer in a fraction of the time.
T = TypeVar("T")
app = typer.Typer(
    help="Entente: export-licensing dialogues with a tamper-evident audit trail.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
DEMO_PASSWORD = "entente-demo-2026"  # noqa: S105 - printed for the demo users on purpose


def upgrade(current: Settings) -> None:
    from service import migrate

    try:
        migrate.upgrade(current.resolved_database_url)
    except Exception as exc:
        fail(f"cannot migrate {redacted(current.resolved_database_url)}: {exc}")


def redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def with_uow(current: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    from service.db import Database
    from service.uow import UnitOfWork

    async def run() -> T:
        database = Database(
            current.resolved_database_url, busy_timeout_ms=current.sqlite_busy_timeout_ms
        )
        try:
            return await work(UnitOfWork(database))
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (Alembic)."""
    current = settings()
    upgrade(current)
    typer.echo(f"database {redacted(current.resolved_database_url)} is at the newest schema")


@app.command()
def init(
    org_code: Annotated[str, typer.Option(help="Code of the host licensing authority.")],
    org_name: Annotated[str, typer.Option(help="Its name.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")],
    admin_username: Annotated[str, typer.Option(help="Username of its first admin.")],
    admin_password: Annotated[
        str | None, typer.Option(help="Or set ENTENTE_ADMIN_PASSWORD.", show_default=False)
    ] = None,
) -> None:
    """Create the host licensing authority and its admin (migrating first if needed)."""
    from service.parties import bootstrap

    secret = AdminPassword().admin_password
    password = admin_password or (secret.get_secret_value() if secret else None)
    if not password:
        fail("give --admin-password or set ENTENTE_ADMIN_PASSWORD")
    current = settings()
    upgrade(current)
    org, created = with_uow(
        current,
        lambda uow: bootstrap.initialize(
            uow,
            code=org_code,
            name=org_name,
            country=country,
            admin_username=admin_username,
            admin_password=password,
        ),
    )
    if created:
        typer.echo(f"created host organization {org.code} and its admin {admin_username}")
    else:
        typer.echo(f"already initialized (host organization {org.code}); nothing changed")


@app.command()
def demo() -> None:
    """Load the seed case: the parties, and the 29 permits' story played over the API."""
    from service import demo as demo_data

    password = os.environ.get("ENTENTE_DEMO_PASSWORD", DEMO_PASSWORD)
    current = settings()
    upgrade(current)
    result = with_uow(current, lambda uow: demo_data.load(uow, password=password))
    if result.story_needed:
        story = with_uow(
            current, lambda uow: demo_data.play_story(uow, current, result.dialogue_id, password)
        )
        typer.echo(
            f"demo data loaded: {story['permits']} permits, notices "
            f"{story['suspension']} (suspension) and {story['cancellation']} (cancellation)"
        )
    else:
        typer.echo("demo data present; nothing changed")
    typer.echo("the permits, names and texts are illustrative, not real records")
    typer.echo(f"sign in as any of: {', '.join(result.usernames)}")
    typer.echo(f"password: {password}")
    typer.echo(
        "token:    curl -s -d grant_type=password -d username=gac-officer "
        f"-d password={password} http://127.0.0.1:8000/oauth/token"
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API (the embedded SQLite database is migrated first)."""
    import uvicorn

    from service import heap, logs
    from service.app import create_app

    current = settings()
    logs.configure(current.log_level)
    if current.is_sqlite:
        upgrade(current)
    typer.echo(f"Entente on http://{host}:{port}  (API docs: /api/v1/docs)")
    application = create_app(current)
    exit_zero_on_sigterm()
    heap.freeze_startup()
    uvicorn.run(
        application,
        host=host,
        port=port,
        access_log=False,
        proxy_headers=bool(current.forwarded_allow_ips),
        forwarded_allow_ips=current.forwarded_allow_ips,
        log_level="warning",
        # SIGTERM: stop accepting, finish the requests in flight for up to this long, then run
        # the lifespan shutdown (which stops the in-process worker).
        timeout_graceful_shutdown=current.shutdown_grace_seconds,
    )


def exit_zero_on_sigterm() -> None:
    """A SIGTERM stop is a clean stop: exit status 0, not death by signal.

    After its graceful shutdown uvicorn raises the signal again for the handler it found in
    place; without this one that is the default handler, and the process dies with 143.
    """
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


@app.command()
def worker(
    name: Annotated[
        str | None, typer.Option(help="Name in logs and attempt records (default: host:pid).")
    ] = None,
) -> None:
    """Deliver webhooks and run the periodic jobs until SIGTERM or Ctrl-C (then stop cleanly)."""
    from service import logs

    current = settings()
    logs.configure(current.log_level)
    if current.is_sqlite:
        upgrade(current)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(run_worker(current, name))


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed (it comes with uvicorn[standard]): the worker's loop is busy."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def run_worker(current: Settings, name: str | None) -> None:
    import signal

    from service import heap
    from service.db import Database
    from service.observability import metrics, worker_server
    from service.webhooks import signing
    from service.webhooks.worker import Worker

    box = signing.box_for(current)
    database = Database(
        current.resolved_database_url, busy_timeout_ms=current.sqlite_busy_timeout_ms
    )
    registry = metrics.new_registry()
    try:
        the_worker = Worker(
            database, current, box=box, name=name, metrics=metrics.WorkerMetrics(registry)
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, the_worker.stop)
        heap.freeze_startup()
        typer.echo(f"worker {the_worker.name} started")
        async with worker_server.serving(the_worker, registry):
            await the_worker.run()
    finally:
        await database.dispose()


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit 1 and name the first broken entry if it was altered."""
    from service.audit import service as audit_service

    async def check(uow: UnitOfWork) -> audit_service.Verification:
        async with uow.reading() as session:
            return await audit_service.verify(session)

    result = with_uow(settings(), check)
    if result.valid:
        typer.echo(f"audit chain valid: {result.entries} entries")
        return
    typer.secho(
        f"audit chain BROKEN at entry {result.first_broken_seq}: {result.reason} "
        f"({result.entries} entries verified before it)",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(1)


jobs_app = typer.Typer(
    help="Periodic jobs (the worker runs them; here, by hand).", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("run")
def jobs_run() -> None:
    """Expire permits past their validity and flag consultations whose answer is overdue."""
    from service.jobs import run_periodic

    result = with_uow(settings(), run_periodic)
    typer.echo(
        f"expired permits: {result.expired_permits}; "
        f"overdue consultations flagged: {result.overdue_consultations}"
    )


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI document of the API."""
    from service.app import create_app

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi(create_app(Settings())) + "\n")
    typer.echo(f"wrote {output}")


def render_openapi(application: object) -> str:
    return json.dumps(application.openapi(), indent=2, sort_keys=True, ensure_ascii=False)  # type: ignore[attr-defined]


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace DEST if it exists.")] = False,
) -> None:
    """Copy the SQLite database while the service runs, and check the copy (PostgreSQL: pg_dump)."""
    from service import backup as backups

    current = settings()
    try:
        made = backups.back_up(
            current.resolved_database_url,
            dest,
            force=force,
            busy_timeout_ms=current.sqlite_busy_timeout_ms,
        )
    except backups.BackupError as exc:
        fail(str(exc))
        raise
    except (OSError, sqlite3.Error) as exc:
        fail(f"backup failed: {exc}")
        raise
    typer.echo(f"backed up to {made.path}: {made.size} bytes, integrity ok")
    typer.echo(
        f"keys are not in the database: keep {current.resolved_signing_key_file.parent} "
        "(or ENTENTE_SECRETS_KEY) safe separately"
    )
    if not made.audit.valid:
        fail(f"the audit chain is BROKEN at entry {made.audit.first_broken_seq} in the copy too")
    typer.echo(f"audit chain of the copy valid: {made.audit.entries} entries")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
