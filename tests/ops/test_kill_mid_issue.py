"""The API process killed (SIGKILL) while it issues a decision notice: all or nothing.

Issuing moves a notice, its permits and their history, and writes events and audit entries in one
transaction. A kill inside it must leave the draft as it was; a restarted API then issues it
once, when the client retries with its Idempotency-Key. Killed again right after that answer,
everything is there, and a worker started afterwards delivers each event.

The kill lands inside the transaction by design, not by luck: another session holds the audit
chain's head row, which the issue takes last, right before COMMIT; the test waits until
PostgreSQL shows the API's session waiting on that lock, kills the API, then lets go.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from service.app import create_app
from service.config import Settings
from service.db import Database
from service.notices.models import DecisionNotice
from service.permits.models import Permit, PermitStatusChange
from tests.domain import add_permits
from tests.factories import World, build_world, serving
from tests.notices.helpers import draft
from tests.ops import live
from tests.webhooks.receivers import Receiver, eventually, receiving

pytestmark = pytest.mark.postgres_only

KEY = "issue-after-crash-1"  # a client retries with the same Idempotency-Key
ISSUED = Counter({"permit.status_changed": 3, "notice.issued": 1})


@dataclass
class Scene:
    """A draft suspension of three active permits, a subscriber, and an API to kill."""

    database: Database
    client: httpx.AsyncClient  # in this process: the world's setup and the auditor's checks
    world: World
    receiver: Receiver
    settings: Settings
    notice: dict[str, Any]
    api: live.Process
    tmp_path: Path

    @property
    def notice_id(self) -> UUID:
        return UUID(self.notice["id"])

    async def issue(self) -> httpx.Response:
        headers = self.world.approver.headers | {"Idempotency-Key": KEY}
        async with live.calling(self.api) as client:
            return await client.post(
                f"/api/v1/notices/{self.notice_id}/issue", json={}, headers=headers
            )


@pytest.fixture
async def scene(settings: Settings, own_url: str, tmp_path: Path) -> AsyncIterator[Scene]:
    configured = live.shared_settings(settings, own_url)
    database = Database(own_url)
    app = create_app(configured, database=database)
    env = live.environment(configured, tmp_path, ENTENTE_IDEMPOTENCY_CLAIM_SECONDS="2")
    api = live.Process(env, tmp_path / "api.log")
    async with serving(app) as client, receiving() as receiver, live.running(api):
        world = await build_world(app, client)
        permits = await add_permits(app, world, 3)
        body = {"url": receiver.url("gac"), "event_types": live.ALL_EVENTS}
        hook = await client.post("/api/v1/webhooks", json=body, headers=world.host_admin.headers)
        assert hook.status_code == 201, hook.text
        notice = await draft(client, world, "suspension", [p.id for p in permits])
        yield Scene(database, client, world, receiver, configured, notice, api, tmp_path)
    await database.dispose()


async def test_killed_inside_the_issue_nothing_is_left_killed_after_it_everything_is(
    scene: Scene,
):
    before = await live.marks(scene.database)
    await scene.api.start()
    waiting = await killed_while_issuing(scene)

    assert "audit_head" in waiting["query"]  # the kill landed inside the transaction, at its end
    assert await issue_state(scene) == ("draft", None, {"active": 3}, 0)
    assert await live.since(scene.database, before) == ([], [])
    await assert_chain_verifies(scene)

    await scene.api.start()  # a new process; the client retries as it would after a lost answer
    retried = await scene.issue()
    await scene.api.kill()  # right after the answer

    assert retried.status_code == 200, retried.text
    reference = retried.json()["reference"]
    assert await issue_state(scene) == ("issued", reference, {"suspended": 3}, 3)
    actions, events = await live.since(scene.database, before)
    assert Counter(actions) == ISSUED
    assert Counter(event.type for event in events) == ISSUED
    await assert_chain_verifies(scene)
    await assert_delivered_once(scene, {str(event.id) for event in events})


async def killed_while_issuing(scene: Scene) -> dict[str, Any]:
    """SIGKILL while the issue waits for the audit head; the session that waited."""
    url = scene.settings.resolved_database_url
    async with live.row_locked(url, "audit_head") as lock:
        request = asyncio.create_task(scene.issue())
        waiting = await live.blocked_by(lock)
        await scene.api.kill()
    await live.backend_gone(url, waiting["pid"])  # PostgreSQL has ended what it was doing
    with pytest.raises(httpx.TransportError):
        await request
    return waiting


async def assert_delivered_once(scene: Scene, expected: set[str]) -> None:
    """A worker started after the kill delivers each event, once."""
    worker = live.Process(scene.api.env, scene.tmp_path / "worker.log", worker="after-kill")
    async with live.running(worker):
        await worker.start()
        await eventually(lambda: scene.receiver.ids("gac") >= expected, within=30)
    arrived = [a.headers["webhook-id"] for a in scene.receiver.arrivals["gac"]]
    assert sorted(i for i in arrived if i in expected) == sorted(expected)


async def issue_state(scene: Scene) -> tuple[str, str | None, dict[str, int], int]:
    """The notice's status and reference, its permits' statuses, and their status changes."""
    async with scene.database.sessions() as session:
        notice = await session.get(DecisionNotice, scene.notice_id)
        assert notice is not None
        ids = [UUID(i) for i in scene.notice["permit_ids"]]
        statuses = await session.scalars(select(Permit.status).where(Permit.id.in_(ids)))
        changes = await session.scalars(
            select(PermitStatusChange.id).where(PermitStatusChange.permit_id.in_(ids))
        )
        return notice.status, notice.reference, dict(Counter(statuses.all())), len(changes.all())


async def assert_chain_verifies(scene: Scene) -> None:
    verify = await scene.client.get("/api/v1/audit/verify", headers=scene.world.auditor.headers)
    assert verify.status_code == 200, verify.text
    assert verify.json()["valid"] is True, verify.json()
