"""Several processes write one SQLite file at once: two ``entente serve`` and an ``entente worker``.

SQLite admits one writer at a time across processes; a request that cannot get the write lock
within the busy timeout (short here, so some do not) answers 503 with Retry-After, never a 500
saying "database is locked". Every write answered 201 is stored, and the audit chain verifies.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from service.app import create_app
from service.config import Settings
from service.consultations.models import Message
from service.db import Database
from service.permits.models import Permit
from tests.consultations.helpers import open_consultation
from tests.domain import permit_body
from tests.factories import World, build_world, serving
from tests.ops import live
from tests.webhooks.receivers import Receiver, receiving

CLIENTS = 6  # per API process, each writing in turn
WRITES = 8  # per client


@dataclass
class Stage:
    database: Database
    client: httpx.AsyncClient  # in this process, for the auditor's check
    world: World
    consultation: str
    apis: list[live.Process]
    worker: live.Process
    receiver: Receiver


@pytest.fixture
async def stage(
    db_kind: str, settings: Settings, own_url: str, tmp_path: Path
) -> AsyncIterator[Stage]:
    if db_kind != "sqlite":
        pytest.skip("SQLite's single write lock, shared by processes")
    configured = live.shared_settings(settings, own_url)
    env = live.environment(configured, tmp_path, ENTENTE_SQLITE_BUSY_TIMEOUT_MS="150")
    apis = [live.Process(env, tmp_path / f"api-{n}.log") for n in (1, 2)]
    worker = live.Process(env, tmp_path / "worker.log", worker="contender")
    database = Database(own_url)
    app = create_app(configured, database=database)
    async with serving(app) as client, receiving() as receiver, live.running(*apis, worker):
        world = await build_world(app, client)
        consultation = (await open_consultation(client, world))["id"]
        body = {"url": receiver.url("gac"), "event_types": live.ALL_EVENTS}
        hook = await client.post("/api/v1/webhooks", json=body, headers=world.host_admin.headers)
        assert hook.status_code == 201, hook.text
        await asyncio.gather(*(process.start() for process in [*apis, worker]))
        yield Stage(database, client, world, consultation, apis, worker, receiver)
    await database.dispose()


async def test_writers_in_several_processes_get_201_or_503_never_500(stage: Stage):
    answers: list[tuple[str, httpx.Response]] = []
    async with live.calling(stage.apis[0]) as one, live.calling(stage.apis[1]) as two:
        await asyncio.gather(
            *(
                client_writes(api, stage, f"{n}-{c}", answers)
                for n, api in enumerate((one, two))
                for c in range(CLIENTS)
            )
        )

    for what, response in answers:
        assert response.status_code in (201, 503), f"{what}: {response.text[:500]}"
        if response.status_code == 503:
            assert response.headers["retry-after"] == "1", what
            assert response.json()["code"] == "unavailable", what
    assert len(answers) == 2 * CLIENTS * WRITES
    assert Counter(r.status_code for _, r in answers)[201] >= 1
    written = {what for what, response in answers if response.status_code == 201}
    assert written <= await stored(stage.database)
    for process in [*stage.apis, stage.worker]:
        assert "Traceback" not in process.log.read_text(), process.log
    verify = await stage.client.get("/api/v1/audit/verify", headers=stage.world.auditor.headers)
    assert verify.json()["valid"] is True, verify.text


async def client_writes(api: httpx.AsyncClient, stage: Stage, name: str, answers: list) -> None:
    """Messages and permits in turn, as fast as the answers come."""
    world = stage.world
    for n in range(WRITES):
        if n % 2:
            number = f"P-{name}-{n}"
            url = f"/api/v1/dialogues/{world.dialogue_id}/permits"
            response = await api.post(
                url, json=permit_body(number), headers=world.permit_system.headers
            )
            answers.append((number, response))
        else:
            body = f"message {name} {n}"
            url = f"/api/v1/consultations/{stage.consultation}/messages"
            persona = world.officer if n % 4 else world.diplomat
            response = await api.post(url, json={"body": body}, headers=persona.headers)
            answers.append((body, response))


async def stored(database: Database) -> set[str]:
    """Message bodies and permit numbers in the database."""
    async with database.sessions() as session:
        bodies = (await session.scalars(select(Message.body))).all()
        numbers = (await session.scalars(select(Permit.number))).all()
    return {*bodies, *numbers}
