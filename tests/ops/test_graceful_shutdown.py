"""SIGTERM to ``entente serve``: requests in flight finish, the worker stops, the exit status is 0.

A real ``entente serve`` on 127.0.0.1 gets a request whose body arrives in two halves, with the
SIGTERM in between; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen

import pytest

from tests.cli.test_cli import INIT
from tests.ops import processes
from tests.webhooks.receivers import free_port

PASSWORD = "a long enough password"
BODY = f"grant_type=password&username=gac-admin&password={PASSWORD.replace(' ', '+')}".encode()
GRACE = 10


@dataclass
class Api:
    process: Popen
    port: int
    log: Path


@pytest.fixture
async def initialized(empty_database_url, tmp_path: Path) -> dict[str, str]:
    env = processes.environment(
        ENTENTE_DATA_DIR=str(tmp_path),
        ENTENTE_DATABASE_URL=await empty_database_url(),
        ENTENTE_SERVE_WORKER="true",  # so the lifespan shutdown has a worker to stop
        ENTENTE_LOG_LEVEL="INFO",
    )
    result = await asyncio.to_thread(
        processes.entente, *INIT, "--admin-password", PASSWORD, env=env
    )
    assert result.returncode == 0, result.stderr
    return env


@asynccontextmanager
async def serving(env: dict[str, str], log: Path, grace: int) -> AsyncIterator[Api]:
    port = free_port()
    env = {**env, "ENTENTE_SHUTDOWN_GRACE_SECONDS": str(grace)}
    process = processes.start_api(env, port, log)
    try:
        await processes.until_ready(process, f"http://127.0.0.1:{port}", log)
        await processes.until_logged(process, log, "worker started")
        yield Api(process, port, log)
    finally:
        await processes.stop([process])


@pytest.fixture
async def api(initialized, tmp_path: Path) -> AsyncIterator[Api]:
    async with serving(initialized, tmp_path / "serve.log", GRACE) as started:
        yield started


@pytest.fixture
async def impatient_api(initialized, tmp_path: Path) -> AsyncIterator[Api]:
    async with serving(initialized, tmp_path / "serve.log", 2) as started:
        yield started


async def half_sent_request(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A token request whose headers and first half of the body are sent, the rest held back."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    head = (
        "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    )
    writer.write(head.encode() + BODY[: len(BODY) // 2])
    await writer.drain()
    await asyncio.sleep(0.5)  # the server has parsed the headers: the request is in flight
    return reader, writer


async def until_refused(port: int, within: float = 5) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            _, probe = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
        except ConnectionRefusedError:
            return
        probe.close()
        await asyncio.sleep(0.05)
    raise AssertionError(f"new connections still accepted {within} s after SIGTERM")


async def exit_code(api: Api, within: float) -> int:
    return await asyncio.to_thread(api.process.wait, within)


async def test_sigterm_finishes_the_request_in_flight_then_stops_the_worker_and_exits_0(api):
    reader, writer = await half_sent_request(api.port)

    api.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    await until_refused(api.port)
    writer.write(BODY[len(BODY) // 2 :])
    await writer.drain()
    response = await asyncio.wait_for(reader.read(), timeout=10)  # to EOF: the server closes
    writer.close()
    code = await exit_code(api, GRACE + 10)

    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), response
    assert b"connection: close" in head.lower()
    assert json.loads(body)["token_type"] == "Bearer"
    assert code == 0, processes.tail(api.log)
    assert time.monotonic() - signalled < GRACE
    assert "worker stopped" in processes.tail(api.log, lines=1000)


async def test_an_idle_server_stops_at_once(api):
    api.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert await exit_code(api, GRACE + 10) == 0, processes.tail(api.log)
    assert time.monotonic() - started < 5
    assert "worker stopped" in processes.tail(api.log, lines=1000)


async def test_a_request_stalled_past_the_grace_is_cut_off_and_the_process_still_exits_0(
    impatient_api,
):
    _, writer = await half_sent_request(impatient_api.port)

    impatient_api.process.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    code = await exit_code(impatient_api, 2 + 15)
    waited = time.monotonic() - signalled
    writer.close()

    assert code == 0, processes.tail(impatient_api.log)
    assert 1.5 <= waited < 2 + 10  # it waited for the request, but only for the grace
    assert "worker stopped" in processes.tail(impatient_api.log, lines=1000)
