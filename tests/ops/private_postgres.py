"""A PostgreSQL 15 cluster of the test's own, which it may stop and start as an operator would.

The shared server on 127.0.0.1:5432 is never touched. The cluster lives in a temporary
directory, listens on a free port of 127.0.0.1 and on a socket in that directory, and runs
with ``fsync=off`` (speed; a stop of PostgreSQL, even ``immediate``, loses nothing the kernel
already has). ``initdb`` refuses to run as root, so under root the binaries run as the
``postgres`` user, who owns the directory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.webhooks.receivers import free_port

BIN = Path(os.environ.get("ENTENTE_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
OWNER = "postgres"


def missing() -> str | None:
    """Why no private cluster can be made here, or None."""
    if not all((BIN / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
        return f"PostgreSQL's initdb and pg_ctl are not in {BIN} (ENTENTE_TEST_POSTGRES_BIN)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser, and initdb refuses root"
    return None


@dataclass
class Cluster:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log(self) -> Path:
        return self.root / "postgres.log"

    async def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.root} -c fsync=off"
        )
        await self.pg_ctl("start", "-l", str(self.log), "-o", options)

    async def stop(self, mode: str) -> None:
        await self.pg_ctl("stop", "-m", mode)

    async def pg_ctl(self, *args: str) -> None:
        await run("pg_ctl", "-D", str(self.root / "data"), "-w", "-t", "30", *args)


async def create() -> Cluster:
    """A new cluster, started; ``destroy`` it in a finalizer."""
    root = Path(tempfile.mkdtemp(prefix="entente-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, OWNER, OWNER)
    cluster = Cluster(root, free_port())
    try:
        await run("initdb", "-D", str(root / "data"), "-U", "postgres", "--auth=trust",
                  "--no-sync", "--encoding=UTF8", "--no-instructions")  # fmt: skip
        await cluster.start()
    except BaseException:
        await destroy(cluster)
        raise
    return cluster


async def destroy(cluster: Cluster) -> None:
    if (cluster.root / "data" / "postmaster.pid").exists():
        await cluster.stop("immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)


async def run(program: str, *args: str) -> None:
    command = [str(BIN / program), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", OWNER, "--", *command]
    done = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{program} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
