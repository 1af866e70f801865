"""``entente backup``: a consistent copy of the embedded SQLite database, taken while it runs.

SQLite's online backup API copies the database as one read transaction sees it; in WAL mode the
service goes on writing meanwhile. The copy is made in a temp file beside the destination,
checked (``PRAGMA integrity_check``, then the audit chain recomputed, read-only) and only then
moved into place, so a destination file is always a whole, checked backup. PostgreSQL is backed
up with its own tools (``pg_dump -Fc``, ``pg_restore``).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from service import files
from service.audit import service as audit_service
from service.audit.service import Verification

POSTGRES_ADVICE = (
    "entente backup copies the embedded SQLite database; this deployment uses PostgreSQL: "
    "back it up with `pg_dump -Fc` and restore with `pg_restore` (see the README)"
)


class BackupError(Exception):
    pass


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    audit: Verification


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        raise BackupError(POSTGRES_ADVICE)
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("the database is in memory; there is no file to back up")
    return Path(parsed.database)


def back_up(url: str, dest: Path, *, force: bool, busy_timeout_ms: int = 5000) -> Backup:
    source = sqlite_file(url)
    check_paths(source, dest, force=force)
    temp = files.temp_path(dest)
    try:
        copy(source, temp, timeout=busy_timeout_ms / 1000)
        check_integrity(temp)
        audit = asyncio.run(verify_audit(read_only_url(temp)))
        with temp.open("rb") as handle:
            os.fsync(handle.fileno())
        if not files.publish(temp, dest, overwrite=force):
            raise BackupError(f"{dest} appeared meanwhile; give --force to replace it")
    finally:
        for leftover in (temp, Path(f"{temp}-journal")):
            leftover.unlink(missing_ok=True)
    return Backup(dest, dest.stat().st_size, audit)


def check_paths(source: Path, dest: Path, *, force: bool) -> None:
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if dest.resolve() == source.resolve():
        raise BackupError("the destination is the live database itself")
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory; name the backup file")
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists; give --force to replace it")
    if not dest.parent.is_dir():
        raise BackupError(f"no directory {dest.parent}")


def copy(source: Path, temp: Path, *, timeout: float) -> None:
    # pages=-1: one step, one read transaction, so the copy is one consistent moment.
    with (
        closing(sqlite3.connect(source, timeout=timeout)) as live,
        closing(sqlite3.connect(temp)) as copied,
    ):
        live.backup(copied, pages=-1)
        # The copy stands alone: no -wal file beside it is needed to read it.
        copied.execute("PRAGMA journal_mode=DELETE")


def check_integrity(path: Path) -> None:
    with closing(sqlite3.connect(path)) as copied:
        result = [row[0] for row in copied.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        raise BackupError(f"the copy failed its integrity check: {'; '.join(result[:5])}")


def read_only_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true"


async def verify_audit(url: str) -> Verification:
    """The audit chain of the copy, recomputed over a read-only connection."""
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            return await audit_service.verify(session)
    except SQLAlchemyError as exc:
        raise BackupError(f"cannot read the audit trail of the copy: {exc}") from exc
    finally:
        await engine.dispose()
