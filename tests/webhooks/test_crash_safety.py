"""Workers killed or stopped at any point lose nothing; several workers never double up."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlalchemy import func, select

from service.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.domain import permit_body
from tests.webhooks.processes import environment, start_worker
from tests.webhooks.receivers import Script, eventually


async def register_permits(stage, count: int) -> set[str]:
    """Register ``count`` permits; the ids of their ``permit.registered`` events."""
    url = f"/api/v1/dialogues/{stage.world.dialogue_id}/permits"
    for n in range(count):
        response = await stage.client.post(
            url, json=permit_body(f"EXP-{n}"), headers=stage.world.officer.headers
        )
        assert response.status_code == 201, response.text
    events = await stage.client.get(
        "/api/v1/events?types=permit.registered&limit=200", headers=stage.world.host_admin.headers
    )
    return {item["id"] for item in events.json()["items"]}


async def statuses(stage) -> dict[str, int]:
    async with stage.app.state.database.sessions() as session:
        rows = await session.execute(
            select(WebhookDelivery.status, func.count()).group_by(WebhookDelivery.status)
        )
        return dict(rows.all())


async def stopped(process) -> int:
    return await asyncio.to_thread(process.wait, 30)


async def test_a_worker_killed_mid_delivery_loses_nothing(stage, tmp_path):
    stage.receiver.scripts["gac"] = Script(delay=0.5)
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    env = environment(stage.settings, tmp_path)
    first = start_worker(env, "first", tmp_path / "worker.log")
    try:
        expected = await register_permits(stage, 12)
        await eventually(lambda: any(stage.receiver.in_flight.values()), within=30)
    finally:
        first.send_signal(signal.SIGKILL)
        await stopped(first)
    assert (await statuses(stage)).get("delivering"), "the kill should interrupt deliveries"

    second = start_worker(env, "second", tmp_path / "worker.log")
    try:
        await eventually(lambda: stage.receiver.ids("gac") == expected, within=60)
        await eventually(lambda: _all_delivered(stage, len(expected)), within=30)
    finally:
        second.terminate()
        assert await stopped(second) == 0


async def test_sigterm_finishes_what_is_in_flight_and_releases_the_rest(stage, tmp_path):
    stage.receiver.scripts["gac"] = Script(delay=0.8)
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    env = environment(stage.settings, tmp_path, ENTENTE_WORKER_CONCURRENCY="4")
    worker = start_worker(env, "graceful", tmp_path / "worker.log")
    try:
        await register_permits(stage, 10)
        await eventually(lambda: any(stage.receiver.in_flight.values()), within=30)
    finally:
        worker.terminate()
        assert await stopped(worker) == 0

    counts = await statuses(stage)
    assert "delivering" not in counts  # nothing left claimed by a worker that is gone
    assert counts.get("delivered", 0) >= 1
    assert counts.get("delivered", 0) + counts.get("pending", 0) == 10


@pytest.mark.postgres_only
async def test_two_workers_never_attempt_one_delivery_at_the_same_time(stage, tmp_path):
    stage.receiver.scripts["gac"] = Script(delay=0.05)
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    env = environment(stage.settings, tmp_path, ENTENTE_WORKER_PER_ENDPOINT="4")
    workers = [start_worker(env, name, tmp_path / "worker.log") for name in ("one", "two")]
    try:
        expected = await register_permits(stage, 60)
        await eventually(lambda: _all_delivered(stage, len(expected)), within=60)
    finally:
        for worker in workers:
            worker.terminate()
        assert [await stopped(w) for w in workers] == [0, 0]

    assert stage.receiver.ids("gac") == expected
    assert stage.receiver.overlaps == []
    assert len(stage.receiver.arrivals["gac"]) == len(expected)  # none sent twice
    assert await _workers_that_attempted(stage) == {"one", "two"}


async def _all_delivered(stage, count: int) -> bool:
    return (await statuses(stage)) == {"delivered": count}


async def _workers_that_attempted(stage) -> set[str]:
    async with stage.app.state.database.sessions() as session:
        return set((await session.scalars(select(WebhookAttempt.worker).distinct())).all())
