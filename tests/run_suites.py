"""Run the whole suite on SQLite and on PostgreSQL at once (``make test``), then report both.

The two runs share nothing (each makes its own databases), so running them side by side halves
the wall time on a two-core machine. PostgreSQL is skipped with a notice when it does not answer,
unless ENTENTE_REQUIRE_POSTGRES=1 (set by .ci/run), which makes its absence a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from typing import IO

from tests.postgres_ready import ready


def start(database: str, log: IO[bytes]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pytest", f"--db={database}", "-p", "no:cacheprovider"]
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def databases(postgres: str) -> list[str] | None:
    """The databases to run on; None when PostgreSQL is required but absent."""
    if asyncio.run(ready(postgres)):
        os.environ["ENTENTE_TEST_POSTGRES"] = postgres
        return ["sqlite", "postgres"]
    if os.environ.get("ENTENTE_REQUIRE_POSTGRES") == "1":
        print(f"PostgreSQL is required but not reachable at {postgres}", file=sys.stderr)
        return None
    print(f"PostgreSQL not reachable at {postgres}: PostgreSQL run skipped")
    return ["sqlite"]


def main(postgres: str) -> int:
    names = databases(postgres)
    if names is None:
        return 1
    with contextlib.ExitStack() as stack:
        logs = {name: stack.enter_context(tempfile.TemporaryFile()) for name in names}
        processes = {name: start(name, log) for name, log in logs.items()}
        codes = {name: process.wait() for name, process in processes.items()}
        for name, log in logs.items():
            log.seek(0)
            print(f"\n===== the suite on {name} =====", flush=True)
            sys.stdout.buffer.write(log.read())
            sys.stdout.flush()
    for name, code in codes.items():
        print(f"{name}: {'passed' if code == 0 else f'FAILED (exit {code})'}")
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
