"""HTTP load from a separate process: wrk, driven by a generated Lua script.

``run_wrk(base_url, requests)`` sends ``requests`` in turn (each connection takes the next one:
several tokens and bodies rotate), first for ``warmup`` seconds that are not counted, then for
``duration`` seconds measured. The Lua script's ``done()`` prints one JSON line with the count,
the latency percentiles and the number of non-2xx answers, which is parsed here.

Why ``-t1``: this machine has 2 cores shared by the server under test, the database and the
load generator. wrk's one thread easily drives 32 connections at a few thousand requests/s
while using a small share of one core; a second thread would only take CPU from the server.
The concurrency (32 connections) is what the issue fixes, not the thread count.

wrk measures from the moment it writes a request, on each connection in a closed loop (no
coordinated-omission correction): at fixed concurrency that is what the targets ask for.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Row

CONNECTIONS = 32
THREADS = 1
MARKER = "BENCH_JSON "


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    """One request of the rotation: ``path`` from the server's root, ``body`` sent as-is."""

    method: str
    path: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def rows(self, scenario: str, database: str, subject: str, round_: int) -> list[Row]:
        """rps, p50, p90, p99 and failures (non-2xx + socket errors) as rows."""
        figures = [
            ("rps", self.rps, "req/s"),
            ("p50_ms", self.p50_ms, "ms"),
            ("p90_ms", self.p90_ms, "ms"),
            ("p99_ms", self.p99_ms, "ms"),
            ("failures", self.non_2xx + self.socket_errors, "requests"),
        ]
        return [
            Row(scenario, database, subject, metric, round(value, 2), unit, round_)
            for metric, value, unit in figures
        ]


def wrk_path() -> str:
    """wrk's path; installed with apt-get when missing and we are root (as in CI)."""
    found = shutil.which("wrk")
    if not found and os.geteuid() == 0 and shutil.which("apt-get"):
        # A fresh machine may have no package lists yet: update once, then install.
        wait = ["-o", "DPkg::Lock::Timeout=300"]
        for command in (
            ["apt-get", *wait, "update", "-q"],
            ["apt-get", *wait, "install", "-y", "-q", "wrk"],
        ):
            subprocess.run(command, check=False, capture_output=True, timeout=600)  # noqa: S603
        found = shutil.which("wrk")
    if not found:
        raise LoadError("wrk is not installed: run `apt-get install -y wrk` as root")
    return found


def lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\r", "\\r") + '"'


def lua_request(request: Request) -> str:
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in request.headers.items())
    body = lua_string(request.body) if request.body is not None else "nil"
    return (
        f"{{method = {lua_string(request.method)}, path = {lua_string(request.path)}, "
        f"headers = {{{headers}}}, body = {body}}}"
    )


SCRIPT = """
local rotation = {
%s
}
-- globals, not locals: done() reads each thread's "bad" with thread:get
counter = 0
bad = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  local r = rotation[(counter %% #rotation) + 1]
  return wrk.format(r.method, r.path, r.headers, r.body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%%d,"duration_us":%%d,"non_2xx":%%d,"socket_errors":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d}\\n',
    summary.requests, summary.duration, non2xx, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def write_script(requests: list[Request], directory: Path) -> Path:
    if not requests:
        raise LoadError("no requests to send")
    path = directory / "load.lua"
    rows = ",\n".join(lua_request(r) for r in requests)
    path.write_text(SCRIPT % (rows, MARKER))
    return path


async def wrk(base_url: str, script: Path, seconds: int, connections: int, threads: int) -> str:
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    command += ["--timeout", "10s", "-s", str(script), base_url]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        async with asyncio.timeout(seconds + 30):
            out, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise LoadError(f"wrk did not finish within {seconds + 30} s") from None
    if process.returncode != 0:
        raise LoadError(f"wrk failed ({process.returncode}): {out.decode(errors='replace')}")
    return out.decode(errors="replace")


def parse(output: str) -> LoadResult:
    line = next((x for x in output.splitlines() if x.startswith(MARKER)), None)
    if line is None:
        raise LoadError(f"no result from wrk:\n{output}")
    found = json.loads(line[len(MARKER) :])
    return LoadResult(
        requests=found["requests"],
        seconds=found["duration_us"] / 1e6,
        non_2xx=found["non_2xx"],
        socket_errors=found["socket_errors"],
        p50_ms=found["p50_us"] / 1000,
        p90_ms=found["p90_us"] / 1000,
        p99_ms=found["p99_us"] / 1000,
        max_ms=found["max_us"] / 1000,
    )


async def run_wrk(
    base_url: str,
    requests: list[Request],
    *,
    duration: float,
    warmup: float = 3,
    connections: int = CONNECTIONS,
    threads: int = THREADS,
) -> LoadResult:
    """Warm up (not counted), then measure for ``duration`` seconds (whole seconds, >= 1)."""
    with tempfile.TemporaryDirectory(prefix="entente-wrk-") as tmp:
        script = write_script(requests, Path(tmp))
        if warmup > 0:
            await wrk(base_url, script, max(1, round(warmup)), connections, threads)
        output = await wrk(base_url, script, max(1, round(duration)), connections, threads)
    return parse(output)
