"""PostgreSQL really stopped and started again while clients write, read and issue a notice.

On a cluster of the test's own (``tests.ops.private_postgres``), with an ``entente serve`` and an
``entente worker`` running on it: first a ``fast`` stop (sessions ended, clean shut-down), then
an ``immediate`` one (the crash-like stop: recovery from the WAL at the next start). While the
database is down every answer is 503 with Retry-After, never a 500 and never a trace in the
logs; once it is back the same API process serves writes again; every write that was
answered 2xx is stored, the audit chain verifies, and the worker delivers every event. Last, a
restart while nobody calls: the first write after it succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from service import migrate
from service.app import create_app
from service.config import Settings
from service.consultations.models import Message
from service.db import PING_AFTER_IDLE_SECONDS, Database
from service.notices.models import DecisionNotice
from tests.consultations.helpers import open_consultation
from tests.domain import add_permits
from tests.factories import World, build_world, serving
from tests.notices.helpers import draft
from tests.ops import live, private_postgres
from tests.webhooks.receivers import Receiver, eventually, receiving

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(bool(private_postgres.missing()), reason=str(private_postgres.missing())),
]

WRITERS = ("officer", "diplomat")


@dataclass
class Load:
    """What the clients were told, by phase: ``up``, ``down`` or ``back``."""

    phase: str = "up"
    answers: list[tuple[str, str, httpx.Response]] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # bodies of messages answered 201
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, what: str, response: httpx.Response) -> None:
        self.answers.append((self.phase, what, response))

    def summary(self) -> str:
        """Each phase's answers by status, and the last few answers (for failures)."""
        seen = Counter((p, what, r.status_code) for p, what, r in self.answers)
        last = [f"{p} {what} {r.status_code} {r.text[:200]}" for p, what, r in self.answers[-6:]]
        return "\n".join([str(dict(seen)), *last])

    def count(self, phase: str, status: int) -> int:
        return sum(1 for p, _, r in self.answers if p == phase and r.status_code == status)


@dataclass
class Stage:
    cluster: private_postgres.Cluster
    world: World
    consultation: str
    receiver: Receiver
    api: live.Process
    worker: live.Process
    mark: tuple[int, int]  # audit and outbox numbers when the subscriber subscribed


@pytest.fixture
async def cluster() -> AsyncIterator[private_postgres.Cluster]:
    cluster = await private_postgres.create()
    try:
        yield cluster
    finally:
        await private_postgres.destroy(cluster)


@pytest.fixture
async def stage(settings: Settings, cluster, tmp_path: Path) -> AsyncIterator[Stage]:
    await migrate.upgrade_async(cluster.url)
    configured = live.shared_settings(settings, cluster.url)
    env = live.environment(configured, tmp_path, ENTENTE_IDEMPOTENCY_CLAIM_SECONDS="2")
    api = live.Process(env, tmp_path / "api.log")
    worker = live.Process(env, tmp_path / "worker.log", worker="through-restarts")
    async with receiving() as receiver, live.running(api, worker):
        world, consultation, mark = await set_the_scene(configured, receiver)
        await asyncio.gather(api.start(), worker.start())
        yield Stage(cluster, world, consultation, receiver, api, worker, mark)


async def set_the_scene(settings: Settings, receiver: Receiver) -> tuple[World, str, tuple]:
    """Parties, a consultation, two permits and a subscriber; in this process, then let go."""
    database = Database(settings.resolved_database_url)
    app = create_app(settings, database=database)
    try:
        async with serving(app) as client:
            world = await build_world(app, client)
            await add_permits(app, world, 2)
            consultation = (await open_consultation(client, world))["id"]
            body = {"url": receiver.url("gac"), "event_types": live.ALL_EVENTS}
            headers = world.host_admin.headers
            hook = await client.post("/api/v1/webhooks", json=body, headers=headers)
            assert hook.status_code == 201, hook.text
            return world, consultation, await live.marks(database)
    finally:
        await database.dispose()


async def test_the_service_rides_out_a_fast_and_an_immediate_restart(stage: Stage):
    async with live.calling(stage.api) as api:
        for mode in ("fast", "immediate"):
            notice = await draft_notice(api, stage.world)
            load = Load()
            async with loaded(api, stage, notice, load):
                await restart(stage, load, mode)
            check_answers(load, mode)
            await check_stored(api, stage, load, notice)
        await quiet_restart(api, stage)
    assert stage.api.alive(), "the API was never restarted"
    assert "Traceback" not in stage.api.log.read_text()
    assert "Traceback" not in stage.worker.log.read_text()  # it waited for the database, calmly
    await check_delivered(stage)


async def draft_notice(api: httpx.AsyncClient, world: World) -> str:
    """A suspension of the world's permits, or their reinstatement once they are suspended."""
    url = f"/api/v1/dialogues/{world.dialogue_id}/permits"
    permits = (await api.get(url, headers=world.officer.headers)).json()["items"]
    kind = "reinstatement" if permits[0]["status"] == "suspended" else "suspension"
    return (await draft(api, world, kind, [p["id"] for p in permits]))["id"]


@contextlib.asynccontextmanager
async def loaded(api: httpx.AsyncClient, stage: Stage, notice: str, load: Load):
    """Two writers and a reader all along, and the notice issued as the database goes away."""
    clients = [writer(api, stage, name, load) for name in WRITERS] + [reader(api, stage, load)]
    tasks = [asyncio.create_task(client) for client in clients]
    await eventually(lambda: load.count("up", 201) >= len(WRITERS), within=30)
    tasks.append(asyncio.create_task(issuer(api, stage, notice, load)))
    try:
        yield
        await asyncio.wait_for(asyncio.shield(tasks[-1]), 60)
    finally:
        load.done.set()
        failed = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
    # Every request was answered: none timed out, no connection was dropped.
    assert [repr(e) for e in failed if isinstance(e, BaseException)] == []


async def restart(stage: Stage, load: Load, mode: str) -> None:
    load.phase = "down"
    await stage.cluster.stop(mode)
    await eventually(lambda: load.count("down", 503) >= 6, within=30)
    await stage.cluster.start()
    load.phase = "back"
    try:
        await eventually(lambda: load.count("back", 201) >= 2 * len(WRITERS), within=30)
    except AssertionError as exc:
        activity = await live.activity(stage.cluster.url)
        raise AssertionError(f"{mode}: no writes after:\n{load.summary()}\n{activity}") from exc


async def quiet_restart(api: httpx.AsyncClient, stage: Stage) -> None:
    """Stopped and started while no request runs: the first write afterwards succeeds (the
    pool's idle connections died with the server and are not handed out)."""
    quiet_since = time.monotonic()
    await stage.cluster.stop("fast")
    await stage.cluster.start()
    await asyncio.sleep(max(0.0, PING_AFTER_IDLE_SECONDS - (time.monotonic() - quiet_since)))
    url = f"/api/v1/consultations/{stage.consultation}/messages"
    body = {"body": "After a quiet restart"}
    response = await api.post(url, json=body, headers=stage.world.officer.headers)
    assert response.status_code == 201, response.text


async def writer(api: httpx.AsyncClient, stage: Stage, name: str, load: Load) -> None:
    url = f"/api/v1/consultations/{stage.consultation}/messages"
    headers = stage.world.people[name].headers
    n = 0
    while not load.done.is_set():
        body = f"{name} {load.phase} {n}"
        n += 1
        response = await api.post(url, json={"body": body}, headers=headers)
        load.record("message", response)
        if response.status_code == 201:
            load.written.append(body)
        await asyncio.sleep(0.05)


async def reader(api: httpx.AsyncClient, stage: Stage, load: Load) -> None:
    url = f"/api/v1/consultations/{stage.consultation}/messages?limit=5"
    while not load.done.is_set():
        load.record("read", await api.get(url, headers=stage.world.diplomat.headers))
        await asyncio.sleep(0.05)


async def issuer(api: httpx.AsyncClient, stage: Stage, notice: str, load: Load) -> None:
    """Issues as a client does: one Idempotency-Key, retried for as long as told to retry."""
    headers = stage.world.approver.headers | {"Idempotency-Key": f"issue-{notice}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await api.post(f"/api/v1/notices/{notice}/issue", json={}, headers=headers)
        load.record("issue", response)
        if "retry-after" not in response.headers:
            return
        await asyncio.sleep(0.2)


def check_answers(load: Load, mode: str) -> None:
    allowed = {"message": {201, 503}, "read": {200, 503}, "issue": {200, 409, 503}}
    for phase, what, response in load.answers:
        where = f"{mode} stop, {phase}: {what} {response.status_code} {response.text[:300]}"
        assert response.status_code in allowed[what], where
        if response.status_code == 503:
            assert response.headers.get("retry-after") == "1", where
            assert response.json()["code"] == "unavailable", where
    assert load.count("down", 503) >= 6


async def check_stored(api: httpx.AsyncClient, stage: Stage, load: Load, notice: str) -> None:
    """Every 201 is stored; the notice was issued once; the chain verifies (on the same API)."""
    database = Database(stage.cluster.url)
    try:
        async with database.sessions() as session:
            bodies = set((await session.scalars(select(Message.body))).all())
            issued = await session.get(DecisionNotice, UUID(notice))
    finally:
        await database.dispose()
    assert set(load.written) <= bodies, set(load.written) - bodies
    assert issued is not None
    assert issued.status == "issued"
    [last] = [r for _, what, r in load.answers if what == "issue"][-1:]
    assert last.status_code == 200 or "already issued" in last.text, last.text
    verify = await api.get("/api/v1/audit/verify", headers=stage.world.auditor.headers)
    assert verify.status_code == 200, verify.text
    assert verify.json()["valid"] is True, verify.json()


async def check_delivered(stage: Stage) -> None:
    """Every event since the subscription reaches the subscriber (at least once)."""
    database = Database(stage.cluster.url)
    try:
        _, events = await live.since(database, stage.mark)
    finally:
        await database.dispose()
    expected = {str(event.id) for event in events}
    assert len(expected) >= 10
    await eventually(lambda: stage.receiver.ids("gac") >= expected, within=60, interval=0.2)
    assert stage.worker.alive(), "the worker was never restarted"
