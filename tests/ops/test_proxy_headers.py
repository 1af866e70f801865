"""Behind a reverse proxy the audit trail names the caller, and only a trusted proxy says who."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from service.db import build_engine
from tests.cli.test_cli import INIT
from tests.ops import processes
from tests.webhooks.receivers import free_port

CALLER = "203.0.113.7"


async def audited_addresses(url: str) -> list[str | None]:
    engine = build_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT client_addr FROM audit_entry WHERE action LIKE 'auth.%' ORDER BY seq")
            )
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def failed_sign_in_through(env: dict[str, str], log: Path) -> None:
    port = free_port()
    process = processes.start_api(env, port, log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        await processes.until_ready(process, base_url, log)
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            answer = await client.post(
                "/oauth/token",
                data={"grant_type": "password", "username": "gac-admin", "password": "wrong"},
                headers={"X-Forwarded-For": CALLER},
            )
        assert answer.status_code in (400, 401)
    finally:
        await processes.stop([process])


@pytest.mark.parametrize(
    ("trusted", "audited"), [("127.0.0.1", CALLER), (None, "127.0.0.1")], ids=["proxy", "direct"]
)
async def test_the_audited_address_is_the_callers_only_behind_a_trusted_proxy(
    empty_database_url, tmp_path: Path, trusted: str | None, audited: str
):
    url = await empty_database_url()
    env = processes.environment(ENTENTE_DATA_DIR=str(tmp_path), ENTENTE_DATABASE_URL=url)
    if trusted:
        env["ENTENTE_FORWARDED_ALLOW_IPS"] = trusted
    result = await asyncio.to_thread(
        processes.entente, *INIT, "--admin-password", "a long enough password", env=env
    )
    assert result.returncode == 0, result.stderr
    await failed_sign_in_through(env, tmp_path / "serve.log")
    assert await audited_addresses(url) == [audited]
