"""A real HTTP receiver on 127.0.0.1 for webhook tests, served by uvicorn in the test's loop.

Each path (``/hooks/<name>``) has a script of answers (status codes, with an optional delay) and
keeps what arrived: headers, body, and when. It also tracks requests in flight per
``webhook-id``, so a test can prove no delivery was attempted by two workers at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import uvicorn


@dataclass
class Arrival:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Script:
    answers: list[int] = field(default_factory=list)  # consumed in order, then `otherwise`
    otherwise: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else self.otherwise


class Receiver:
    def __init__(self) -> None:
        self.scripts: dict[str, Script] = defaultdict(Script)
        self.arrivals: dict[str, list[Arrival]] = defaultdict(list)
        self.in_flight: dict[str, int] = defaultdict(int)
        self.overlaps: list[str] = []  # webhook-ids seen twice at the same time
        self.port = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    def ids(self, name: str) -> set[str]:
        return {a.headers["webhook-id"] for a in self.arrivals[name]}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        name = scope["path"].rsplit("/", 1)[-1]
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = await read_body(receive)
        key = headers.get("webhook-id", "")
        self.in_flight[key] += 1
        if self.in_flight[key] > 1:
            self.overlaps.append(key)
        try:
            script = self.scripts[name]
            status = script.next_status()
            await asyncio.sleep(script.delay)
            self.arrivals[name].append(Arrival(headers, body, time.monotonic()))
            extra = [(k.encode(), v.encode()) for k, v in script.headers.items()]
            await send({"type": "http.response.start", "status": status, "headers": extra})
            await send({"type": "http.response.body", "body": script.body})
        finally:
            self.in_flight[key] -= 1


async def read_body(receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def serve(app, port: int | None = None) -> AsyncIterator[int]:
    """Serve an ASGI app on 127.0.0.1 until the block ends; yields the port."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def receiving(port: int | None = None) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serve(receiver, port) as bound:
        receiver.port = bound
        yield receiver


async def eventually(check, within: float = 15.0, interval: float = 0.05):
    """Wait until ``check()`` (sync or async) is truthy; its value. Fails after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(interval)
