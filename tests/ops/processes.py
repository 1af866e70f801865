"""Entente as an operator runs it: the CLI and long-running ``serve``/``worker`` processes.

Everything listens on 127.0.0.1 and every wait is bounded; ``stop`` sends SIGTERM and kills what
has not exited in time, so a failing test leaves no process behind.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx


def environment(**values: str) -> dict[str, str]:
    """This environment without any inherited ``ENTENTE_`` setting, plus ``values``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ENTENTE_")}
    return {**inherited, "PYTHONUNBUFFERED": "1", **values}


def entente(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run one ``entente`` command to completion."""
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "service", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_api(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


async def until_ready(process: subprocess.Popen, base_url: str, log: Path, within: float = 90):
    """Wait until ``/readyz`` answers 200; fail at once if the process has exited."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            alive(process, log)
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{base_url} not ready within {within} s:\n{tail(log)}")


async def until_logged(process: subprocess.Popen, log: Path, line: str, within: float = 90):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        alive(process, log)
        if line in tail(log, lines=1000):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{line!r} not logged within {within} s:\n{tail(log)}")


def alive(process: subprocess.Popen, log: Path) -> None:
    if process.poll() is not None:
        raise AssertionError(f"process exited with {process.returncode}:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


async def stop(processes: list[subprocess.Popen], within: float = 30) -> list[int]:
    """SIGTERM every process still running, wait, then SIGKILL the stragglers; exit codes.

    A process that had to be killed reports -9, so a test can tell a clean stop from a kill.
    """
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + within
    for process in processes:
        try:
            await asyncio.to_thread(process.wait, max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait, 10)
    return [process.returncode for process in processes]
