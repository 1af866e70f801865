"""``entente backup``: a consistent SQLite copy taken while the service writes, and restorable."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.db import Database
from service.uow import UnitOfWork
from tests.cli.test_cli import INIT


@pytest.fixture
def sqlite_only(db_kind: str) -> None:
    if db_kind != "sqlite":
        pytest.skip("entente backup copies the embedded SQLite database only")


def entente(data_dir: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ENTENTE_DATA_DIR": str(data_dir), **extra_env}
    if "ENTENTE_DATABASE_URL" not in extra_env:
        env.pop("ENTENTE_DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "service", *args],
        env=env, cwd=data_dir, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path, sqlite_only: None) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    result = entente(data, *INIT, "--admin-password", "a long enough password")
    assert result.returncode == 0, result.stderr
    return data


async def keep_writing(
    url: str, written: list[int], warm: asyncio.Event, stop: asyncio.Event
) -> None:
    """Audit entries committed one after another, as a busy service would."""
    database = Database(url)
    try:
        while not stop.is_set():
            async with UnitOfWork(database).transaction() as tx:
                tx.audit("backup.probe", entity_type="probe", entity_id=str(len(written)))
            written.append(1)
            if len(written) >= 20:
                warm.set()
            await asyncio.sleep(0.002)
    finally:
        await database.dispose()


async def test_a_backup_taken_while_writing_restores_with_a_valid_audit_chain(data_dir, tmp_path):
    url = f"sqlite+aiosqlite:///{data_dir / 'entente.db'}"
    written: list[int] = []
    warm, stop = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(keep_writing(url, written, warm, stop))
    await asyncio.wait_for(warm.wait(), timeout=30)
    before = len(written)
    result = await asyncio.to_thread(entente, data_dir, "backup", str(tmp_path / "copy.db"))
    during = len(written) - before
    stop.set()
    await asyncio.wait_for(writer, timeout=30)

    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout
    assert "audit chain of the copy valid" in result.stdout
    assert during > 0  # the service's writes went on while the copy was taken
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(tmp_path / "copy.db", restored / "entente.db")
    verified = entente(restored, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    entries = int(verified.stdout.split(": ")[1].split()[0])
    assert before < entries <= before + during + 10  # init wrote a handful of entries
    again = entente(restored, *INIT, "--admin-password", "a long enough password")
    assert "nothing changed" in again.stdout  # the host organization is in the copy


def test_a_backup_is_one_self_contained_file(data_dir, tmp_path):
    result = entente(data_dir, "backup", str(tmp_path / "copy.db"))
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy.db", "data"]
    verified = entente(
        data_dir, "audit", "verify", ENTENTE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/copy.db"
    )
    assert verified.returncode == 0, verified.stderr


def test_an_existing_file_is_replaced_only_with_force(data_dir, tmp_path):
    dest = tmp_path / "copy.db"
    dest.write_text("an older backup")

    refused = entente(data_dir, "backup", str(dest))
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert dest.read_text() == "an older backup"
    forced = entente(data_dir, "backup", str(dest), "--force")
    assert forced.returncode == 0, forced.stderr
    assert dest.read_bytes().startswith(b"SQLite format 3\x00")


def test_the_live_database_cannot_be_the_destination(data_dir):
    result = entente(data_dir, "backup", str(data_dir / "entente.db"), "--force")
    assert result.returncode == 1
    assert "live database" in result.stderr


def test_no_database_is_a_clear_error(tmp_path, sqlite_only):
    result = entente(tmp_path, "backup", str(tmp_path / "copy.db"))
    assert result.returncode == 1
    assert "no database at" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "copy.db").exists()


async def test_on_postgresql_backup_points_at_pg_dump(db_kind, empty_database_url, tmp_path):
    if db_kind == "postgres":
        url = await empty_database_url()
    else:
        url = "postgresql+asyncpg://postgres@127.0.0.1:1/none"  # refused before any connection
    result = await asyncio.to_thread(
        entente, tmp_path, "backup", str(tmp_path / "copy.db"), ENTENTE_DATABASE_URL=url
    )
    assert result.returncode == 1
    assert "pg_dump -Fc" in result.stderr
    assert "pg_restore" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "copy.db").exists()
