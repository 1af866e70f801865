"""The ``entente`` command as an operator runs it: a real process against a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from service.app import create_app
from service.config import Settings
from service.db import build_engine

ROOT = Path(__file__).resolve().parents[2]
# An intruder's edit of entry 5's action, in the hashed JSON its columns are generated from.
FORGE_ACTION = (
    'UPDATE audit_entry SET canonical = replace(canonical, \'"action":"\', \'"action":"x\')'
    " WHERE seq = 5"
)
INIT = [
    "init",
    "--org-code",
    "CA-GAC",
    "--org-name",
    "Global Affairs Canada",
    "--country",
    "CA",
    "--admin-username",
    "gac-admin",
]


@pytest.fixture
async def entente(empty_database_url, tmp_path):
    url = await empty_database_url()
    env = {**os.environ, "ENTENTE_DATA_DIR": str(tmp_path), "ENTENTE_DATABASE_URL": url}
    env.pop("ENTENTE_ADMIN_PASSWORD", None)

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "service", *args],
            env={**env, **extra_env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    run.url = url  # type: ignore[attr-defined]
    return run


async def execute(url: str, statement: str) -> None:
    engine = build_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


def test_init_creates_the_host_once(entente):
    first = entente(*INIT, "--admin-password", "a long enough password")
    assert first.returncode == 0, first.stderr
    assert "created host organization CA-GAC" in first.stdout
    second = entente(*INIT, ENTENTE_ADMIN_PASSWORD="another long password")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout


def test_init_without_a_password_says_how_to_give_one(entente):
    result = entente(*INIT)
    assert result.returncode == 1
    assert "ENTENTE_ADMIN_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_refuses_a_short_password(entente):
    result = entente(*INIT, "--admin-password", "short")
    assert result.returncode == 1
    assert "12 characters" in result.stderr


def test_demo_loads_the_seed_case_once_and_says_how_to_sign_in(entente):
    first = entente("demo")
    assert first.returncode == 0, first.stderr
    assert "demo data loaded" in first.stdout
    assert "gac-officer" in first.stdout
    assert "tr-diplomat" in first.stdout
    assert "password:" in first.stdout
    second = entente("demo")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout


async def test_audit_verify_names_the_first_tampered_entry(entente):
    assert entente("demo").returncode == 0
    intact = entente("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "audit chain valid" in intact.stdout
    await execute(entente.url, FORGE_ACTION)
    broken = entente("audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at entry 5" in broken.stderr


def test_db_upgrade_is_repeatable(entente):
    for _ in range(2):
        result = entente("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "newest schema" in result.stdout


def test_unreachable_database_is_a_clear_error(entente):
    result = entente(
        "db", "upgrade", ENTENTE_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/none"
    )
    assert result.returncode == 1
    assert "cannot migrate" in result.stderr
    assert "Traceback" not in result.stderr


def test_openapi_writes_the_apps_document(entente, tmp_path):
    result = entente("openapi", "--output", str(tmp_path / "api.json"))
    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "api.json").read_text())
    assert written == create_app(Settings()).openapi()


def test_invalid_configuration_names_the_variable(entente):
    issuers = (
        '[{"issuer": "x", "jwks_url": "http://idp/jwks", "audience": "e", "algorithms": ["HS256"]}]'
    )
    result = entente("db", "upgrade", ENTENTE_TRUSTED_ISSUERS=issuers)
    assert result.returncode == 1
    assert "ENTENTE_TRUSTED_ISSUERS" in result.stderr
    assert "asymmetric" in result.stderr
    assert "Traceback" not in result.stderr
