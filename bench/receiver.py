"""A webhook receiver in its own process: answers every POST with 204 at once and records it.

Run as ``python -m bench.receiver``; it listens on a free port of 127.0.0.1 and prints
``PORT <n>`` on its first line. It speaks just enough HTTP/1.1 (keep-alive, ``Content-Length``
bodies, no chunked uploads) to stay out of the way of what is measured: each request costs a
few microseconds, and the arrival time (``time.time()``) is taken when the request's bytes are
read, before anything else is done with it.

Every ``POST`` (any path) is recorded: arrival time, path, the ``webhook-*`` headers and the body.
The bench reads the records back over three control paths:

- ``GET /_count``: how many requests have arrived;
- ``GET /_wait?n=N&timeout=T``: answers once N requests have arrived (or T seconds passed);
- ``GET /_records?since=I&bodies=0|1``: the records from index I on, each with the event
  ``type`` read from its JSON body, and the headers and body themselves when ``bodies=1``.

``RemoteReceiver`` starts the process and wraps these calls for the bench.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"
ROOT = Path(__file__).resolve().parent.parent
HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass
class Arrival:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes

    def export(self, bodies: bool) -> dict[str, Any]:
        try:
            kind = json.loads(self.body).get("type")
        except ValueError:
            kind = None
        record = {"at": self.at, "path": self.path, "id": self.headers.get("webhook-id")}
        record["type"] = kind
        if bodies:
            record["headers"] = self.headers
            record["body"] = self.body.decode("utf-8", errors="replace")
        return record


@dataclass
class Store:
    arrivals: list[Arrival] = field(default_factory=list)
    waiters: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    def add(self, arrival: Arrival) -> None:
        self.arrivals.append(arrival)
        if self.waiters:
            count = len(self.arrivals)
            for n, future in self.waiters:
                if n <= count and not future.done():
                    future.set_result(None)
            self.waiters = [(n, f) for n, f in self.waiters if not f.done()]

    async def wait(self, n: int, within: float) -> None:
        if len(self.arrivals) >= n:
            return
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((n, future))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, within)


class Connection(asyncio.Protocol):
    """One keep-alive connection; requests are answered in the order they arrive."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.pending: asyncio.Task[None] | None = None  # a control answer being prepared

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        at = time.time()
        self.buffer += data
        while (request := self.next_request()) is not None:
            method, target, headers, body = request
            if method == "POST":
                self.store.add(Arrival(at, target, headers, body))
                self.write(NO_CONTENT)
            else:
                self.pending = asyncio.ensure_future(self.control(self.pending, target))

    def next_request(self) -> tuple[str, str, dict[str, str], bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buffer[:end].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        kept = {name: headers[name] for name in HEADERS if name in headers}
        return method, target, kept, body

    async def control(self, previous: asyncio.Task[None] | None, target: str) -> None:
        if previous is not None:
            await previous  # keep answers in order
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        answer: Any = None
        if url.path == "/_count":
            answer = {"count": len(self.store.arrivals)}
        elif url.path == "/_wait":
            await self.store.wait(int(query["n"]), float(query.get("timeout", 30)))
            answer = {"count": len(self.store.arrivals)}
        elif url.path == "/_records":
            since, bodies = int(query.get("since", 0)), query.get("bodies") == "1"
            answer = [a.export(bodies) for a in self.store.arrivals[since:]]
        self.answer(answer)

    def answer(self, answer: Any) -> None:
        if answer is None:
            self.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            return
        body = json.dumps(answer).encode()
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        self.write(head.encode() + b"\r\n\r\n" + body)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve() -> None:
    store = Store()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Connection(store), "127.0.0.1", 0, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()


def event_loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def main() -> None:
    if event_loop_name() == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


class RemoteReceiver:
    """The receiver process, seen from the bench."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False)

    @classmethod
    async def start(cls) -> RemoteReceiver:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.receiver", cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        assert process.stdout is not None
        async with asyncio.timeout(10):
            line = (await process.stdout.readline()).decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the receiver did not start: {line!r}")
        return cls(process, int(line.split()[1]))

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    async def count(self) -> int:
        return (await self.http.get("/_count")).json()["count"]

    async def wait(self, n: int, within: float) -> int:
        """Wait until ``n`` requests have arrived; how many have (fewer after ``within`` s)."""
        params = {"n": n, "timeout": within}
        answer = await self.http.get("/_wait", params=params, timeout=within + 5)
        return answer.json()["count"]

    async def records(self, since: int, *, bodies: bool = False) -> list[dict[str, Any]]:
        params = {"since": since, "bodies": int(bodies)}
        return (await self.http.get("/_records", params=params, timeout=60)).json()

    async def stop(self) -> None:
        await self.http.aclose()
        if self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(5):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


if __name__ == "__main__":
    main()
