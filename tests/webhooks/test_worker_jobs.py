"""The worker's other duties: periodic jobs, endpoint health, wake-ups, fairness, egress."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select, update

from service.app import create_app
from service.db import utcnow
from service.permits.models import Permit
from service.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import audit_actions, running
from tests.ops.processes import until_logged
from tests.webhooks.conftest import worker_settings
from tests.webhooks.processes import environment, start_worker
from tests.webhooks.receivers import Script, eventually
from tests.webhooks.test_crash_safety import register_permits, stopped


async def change(stage, model, row_id, **values) -> None:
    async with stage.app.state.database.sessions() as session:
        await session.execute(update(model).where(model.id == UUID(str(row_id))).values(**values))
        await session.commit()


async def subscription(stage, row_id) -> WebhookSubscription:
    async with stage.app.state.database.sessions() as session:
        return await session.get(WebhookSubscription, UUID(str(row_id)))


def types(stage, name: str) -> list[str]:
    return [json.loads(a.body)["type"] for a in stage.receiver.arrivals[name]]


async def test_the_worker_expires_permits_and_subscribers_hear_of_it(stage):
    await stage.subscribe("tr_admin", "ministry", event_types=["permit.status_changed"])
    await register_permits(stage, 1)
    async with stage.app.state.database.sessions() as session:
        permit = (await session.scalars(select(Permit))).one()
    await change(stage, Permit, permit.id, valid_until=utcnow().date() - timedelta(days=1))

    async with stage.worker().running():
        arrival = (await eventually(lambda: stage.receiver.arrivals["ministry"]))[0]

    data = json.loads(arrival.body)["data"]
    assert (data["from_status"], data["to_status"]) == ("active", "expired")


async def test_an_endpoint_failing_too_long_is_disabled_and_its_organization_told(stage):
    stage.receiver.scripts["broken"] = Script(otherwise=500)
    broken = await stage.subscribe("host_admin", "broken", event_types=["permit.*"])
    await stage.subscribe("host_admin", "ops", event_types=["webhook.*"])
    await change(
        stage, WebhookSubscription, broken["id"], failing_since=utcnow() - timedelta(days=6)
    )

    async with stage.worker().running():
        await register_permits(stage, 2)
        arrival = (await eventually(lambda: stage.receiver.arrivals["ops"]))[0]
        row = await eventually(lambda: _disabled(stage, broken["id"]))

    told = json.loads(arrival.body)
    assert told["type"] == "webhook.disabled"
    assert told["data"]["subscription_id"] == broken["id"]
    assert "failed since" in row.disabled_reason
    shown = await stage.client.get(
        f"/api/v1/webhooks/{broken['id']}", headers=stage.world.host_admin.headers
    )
    assert shown.json()["enabled"] is False
    assert "webhook.disabled" in await audit_actions(stage.app)
    feed = await stage.client.get(
        "/api/v1/events?types=webhook.disabled", headers=stage.world.host_admin.headers
    )
    assert [e["type"] for e in feed.json()["items"]] == ["webhook.disabled"]
    others = await stage.client.get(
        "/api/v1/events?types=webhook.disabled", headers=stage.world.tr_admin.headers
    )
    assert others.json()["items"] == []


async def test_one_success_ends_a_failure_streak(stage):
    subscription_ = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    await change(
        stage, WebhookSubscription, subscription_["id"], failing_since=utcnow() - timedelta(hours=1)
    )
    async with stage.worker().running():
        await register_permits(stage, 1)
        await eventually(lambda: stage.receiver.arrivals["gac"])
        row = await eventually(lambda: _healed(stage, subscription_["id"]))

    assert row.enabled


async def test_old_delivery_logs_are_pruned(stage):
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker().running():
        await register_permits(stage, 2)
        await eventually(lambda: len(stage.receiver.arrivals["gac"]) == 2)
    rows = await _deliveries(stage)
    await change(stage, WebhookDelivery, rows[0].id, finished_at=utcnow() - timedelta(days=31))

    async with stage.worker().running():
        await eventually(lambda: _count_is(stage, 1))

    assert (await _deliveries(stage))[0].id == rows[1].id


async def test_an_address_refused_at_delivery_time_is_not_contacted(stage):
    subscription_ = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker(webhook_allowed_networks=[], webhook_retry_schedule=[]).running():
        await register_permits(stage, 1)
        failed = await eventually(lambda: _failed(stage, subscription_["id"]))

    assert "loopback" in failed.last_error
    assert stage.receiver.arrivals["gac"] == []


async def test_a_slow_endpoint_does_not_hold_up_the_others(stage):
    stage.receiver.scripts["slow"] = Script(delay=1.5)
    await stage.subscribe("host_admin", "slow", event_types=["permit.*"])
    await stage.subscribe("tr_admin", "fast", event_types=["permit.*"])
    async with stage.worker(worker_concurrency=8, worker_per_endpoint=2).running():
        expected = await register_permits(stage, 12)
        await eventually(lambda: stage.receiver.ids("fast") == expected)
        slow_so_far = len(stage.receiver.arrivals["slow"])

    assert slow_so_far < len(expected)  # the fast endpoint did not wait for the slow one


async def test_a_commit_wakes_the_in_process_worker_at_once(stage):
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker(worker_poll_seconds=600, worker_jobs_interval_seconds=600).running():
        await register_permits(stage, 1)
        await eventually(lambda: stage.receiver.arrivals["gac"], within=10)


async def test_a_commit_wakes_a_worker_in_another_process(stage, tmp_path):
    """NOTIFY on PostgreSQL, ``PRAGMA data_version`` on SQLite; polling would take 10 minutes.

    The 10 s bound starts once the worker has started: starting a process (imports, the
    SQLite migration check) took longer than that with both suites running side by side."""
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    env = environment(
        stage.settings,
        tmp_path,
        ENTENTE_WORKER_POLL_SECONDS="600",
        ENTENTE_WORKER_JOBS_INTERVAL_SECONDS="600",
    )
    worker = start_worker(env, "listener", tmp_path / "worker.log")
    try:
        await until_logged(worker, tmp_path / "worker.log", "worker listener started")
        await register_permits(stage, 1)
        await eventually(lambda: stage.receiver.arrivals["gac"], within=10)
        await register_permits_more(stage)
        await eventually(lambda: len(stage.receiver.arrivals["gac"]) == 2, within=10)
    finally:
        worker.terminate()
        assert await stopped(worker) == 0


async def register_permits_more(stage) -> None:
    from tests.domain import permit_body

    response = await stage.client.post(
        f"/api/v1/dialogues/{stage.world.dialogue_id}/permits",
        json=permit_body("EXP-LATE"),
        headers=stage.world.officer.headers,
    )
    assert response.status_code == 201, response.text


async def test_serve_runs_the_worker_in_process(stage, settings, committed_database):
    configured = worker_settings(settings, serve_worker=True)
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with running(create_app(configured, database=committed_database)):
        await register_permits(stage, 1)
        await eventually(lambda: stage.receiver.arrivals["gac"])


async def _deliveries(stage) -> list[WebhookDelivery]:
    async with stage.app.state.database.sessions() as session:
        query = select(WebhookDelivery).order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        return list((await session.scalars(query)).all())


async def _count_is(stage, count: int) -> bool:
    return len(await _deliveries(stage)) == count


async def _disabled(stage, row_id) -> WebhookSubscription | None:
    row = await subscription(stage, row_id)
    return row if not row.enabled else None


async def _healed(stage, row_id) -> WebhookSubscription | None:
    row = await subscription(stage, row_id)
    return row if row.failing_since is None else None


async def _failed(stage, row_id) -> WebhookDelivery | None:
    rows = [r for r in await _deliveries(stage) if str(r.subscription_id) == str(row_id)]
    return rows[0] if rows and rows[0].status == "failed" else None
