"""Test messages, the delivery log, and redelivery through the API.

No worker runs here: deliveries are put in the states a worker would leave them in directly
through the session, and the tests look at what the API shows and requeues.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from service.db import utcnow
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.api.support import assert_problem
from tests.factories import audit_actions
from tests.webhooks import WEBHOOKS, admitting_loopback, stable, subscribe

SINCE = datetime(2026, 1, 10, tzinfo=UTC)


@pytest.fixture
def settings(settings):
    return admitting_loopback(settings)


@pytest.fixture
async def webhook(client, world) -> dict[str, Any]:
    return await subscribe(client, world.host_admin)


def url_of(webhook: dict[str, Any], suffix: str = "") -> str:
    return f"{WEBHOOKS}/{webhook['id']}{suffix}"


async def add_delivery(app, webhook: dict[str, Any], status: str, **columns: Any) -> str:
    """A delivery as a worker would have left it."""
    delivery = WebhookDelivery(
        subscription_id=uuid.UUID(webhook["id"]),
        message_id=uuid.uuid4(),
        event_type="notice.issued",
        status=status,
        attempts=columns.pop("attempts", 1),
        round_attempts=columns.pop("round_attempts", 1),
        next_attempt_at=utcnow(),
        **columns,
    )
    async with app.state.database.sessions() as session:
        session.add(delivery)
        await session.commit()
    return str(delivery.id)


async def delivery_row(app, delivery_id: str) -> WebhookDelivery:
    async with app.state.database.sessions() as session:
        return await session.get(WebhookDelivery, uuid.UUID(delivery_id))


async def disable(app) -> None:
    async with app.state.database.sessions() as session:
        await session.execute(update(WebhookSubscription).values(enabled=False))
        await session.commit()


async def test_a_test_message_appears_in_the_log_as_pending(app, client, world, webhook):
    response = await client.post(url_of(webhook, "/test"), headers=world.host_admin.headers)
    assert response.status_code == 202, response.text
    queued = response.json()
    listing = await client.get(url_of(webhook, "/deliveries"), headers=world.host_admin.headers)
    [item] = listing.json()["items"]
    assert item["id"] == queued["delivery_id"]
    assert item["message_id"] == queued["message_id"]
    assert item["event_type"] == "webhook.test"
    assert item["event_id"] is None
    assert item["status"] == "pending"
    assert item["attempts"] == 0


async def test_a_test_message_is_an_envelope_like_any_event(app, client, world, webhook):
    queued = (await client.post(url_of(webhook, "/test"), headers=world.host_admin.headers)).json()
    payload = (await delivery_row(app, queued["delivery_id"])).payload
    assert payload["id"] == queued["message_id"]
    assert payload["type"] == "webhook.test"
    assert payload["occurred_at"].endswith("Z")
    assert payload["dialogue_id"] is None
    assert payload["data"] == {
        "subscription_id": webhook["id"],
        "message": "Test message from Entente.",
    }


async def test_the_log_is_newest_first_and_filters_by_status(app, client, world, webhook):
    now = utcnow()
    old = await add_delivery(app, webhook, "failed", created_at=now - timedelta(hours=2))
    mid = await add_delivery(app, webhook, "delivered", created_at=now - timedelta(hours=1))
    new = await add_delivery(app, webhook, "failed", created_at=now)
    headers = world.host_admin.headers
    first = (await client.get(url_of(webhook, "/deliveries?limit=2"), headers=headers)).json()
    rest = await client.get(
        url_of(webhook, "/deliveries"), params={"cursor": first["next_cursor"]}, headers=headers
    )
    assert [d["id"] for d in first["items"] + rest.json()["items"]] == [new, mid, old]
    failed = await client.get(url_of(webhook, "/deliveries?status=failed"), headers=headers)
    assert [d["id"] for d in failed.json()["items"]] == [new, old]
    assert_problem(
        await client.get(url_of(webhook, "/deliveries?status=lost"), headers=headers), 422
    )


async def test_a_delivery_shows_its_attempts_oldest_first(app, client, world, webhook):
    delivery_id = await add_delivery(app, webhook, "delivered", attempts=2)
    start = utcnow() - timedelta(minutes=5)
    async with app.state.database.sessions() as session:
        for number, code in ((2, 200), (1, 503)):
            attempt = WebhookAttempt(
                delivery_id=uuid.UUID(delivery_id),
                number=number,
                status_code=code,
                latency_ms=40 * number,
                response_excerpt="<b>busy</b>" if code == 503 else "ok",
                worker="worker-1",
                created_at=start + timedelta(minutes=number),
            )
            session.add(attempt)
        await session.commit()
    response = await client.get(
        url_of(webhook, f"/deliveries/{delivery_id}"), headers=world.host_admin.headers
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == "delivered"
    log = detail["attempts_log"]
    assert [a["number"] for a in log] == [1, 2]
    assert [a["status_code"] for a in log] == [503, 200]
    assert log[0]["response_excerpt"] == "<b>busy</b>"
    assert log[0]["latency_ms"] == 40
    assert log[0]["worker"] == "worker-1"
    assert datetime.fromisoformat(log[0]["attempted_at"]) == start + timedelta(minutes=1)


async def test_a_failed_delivery_is_redelivered(app, client, world, webhook):
    finished = utcnow() - timedelta(hours=1)
    delivery_id = await add_delivery(
        app, webhook, "failed", attempts=8, round_attempts=8, finished_at=finished
    )
    response = await client.post(
        url_of(webhook, f"/deliveries/{delivery_id}/redeliver"), headers=world.host_admin.headers
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["attempts"] == 8
    row = await delivery_row(app, delivery_id)
    assert row.round_attempts == 0
    assert row.finished_at is None
    assert row.next_attempt_at <= utcnow()


async def test_a_delivery_being_attempted_cannot_be_redelivered(app, client, world, webhook):
    lease = utcnow() + timedelta(seconds=60)
    delivery_id = await add_delivery(
        app, webhook, "delivering", claimed_until=lease, claimed_by="worker-1"
    )
    response = await client.post(
        url_of(webhook, f"/deliveries/{delivery_id}/redeliver"), headers=world.host_admin.headers
    )
    assert_problem(response, 409)
    row = await delivery_row(app, delivery_id)
    assert row.status == "delivering"
    assert row.claimed_by == "worker-1"


async def test_redeliver_failed_requeues_only_failed_deliveries_since(app, client, world, webhook):
    before = await add_delivery(app, webhook, "failed", created_at=SINCE - timedelta(seconds=1))
    at = await add_delivery(app, webhook, "failed", created_at=SINCE)
    after = await add_delivery(app, webhook, "failed", created_at=SINCE + timedelta(days=1))
    delivered = await add_delivery(app, webhook, "delivered", created_at=SINCE + timedelta(days=1))
    response = await client.post(
        url_of(webhook, "/redeliver-failed"),
        json={"since": "2026-01-10T00:00:00Z"},
        headers=world.host_admin.headers,
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"count": 2}
    statuses = {d: (await delivery_row(app, d)).status for d in (before, at, after, delivered)}
    assert statuses == {before: "failed", at: "pending", after: "pending", delivered: "delivered"}
    assert (await delivery_row(app, at)).round_attempts == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"since": "2999-01-01T00:00:00Z"},
        {"since": "2026-01-10T00:00:00"},
        {"since": 1767225600},
    ],
)
async def test_redeliver_failed_needs_a_past_rfc3339_time(client, world, webhook, body):
    response = await client.post(
        url_of(webhook, "/redeliver-failed"), json=body, headers=world.host_admin.headers
    )
    assert_problem(response, 422)


async def test_a_disabled_webhook_neither_tests_nor_redelivers(app, client, world, webhook):
    delivery_id = await add_delivery(app, webhook, "failed")
    await disable(app)
    headers = world.host_admin.headers
    calls = [
        (url_of(webhook, "/test"), None),
        (url_of(webhook, f"/deliveries/{delivery_id}/redeliver"), None),
        (url_of(webhook, "/redeliver-failed"), {"since": "2026-01-01T00:00:00Z"}),
    ]
    for path, body in calls:
        problem = assert_problem(await client.post(path, json=body, headers=headers), 409)
        assert "enable it first" in problem["detail"]
    assert (await delivery_row(app, delivery_id)).status == "failed"
    async with app.state.database.sessions() as session:
        assert len((await session.scalars(select(WebhookDelivery))).all()) == 1


async def test_another_organizations_deliveries_answer_like_random_ids(app, client, world, webhook):
    theirs = await subscribe(client, world.other_admin)
    their_delivery = await add_delivery(app, theirs, "failed")
    headers = world.host_admin.headers
    pairs = [
        (
            f"{url_of(theirs)}/deliveries/{their_delivery}",
            f"{url_of(theirs)}/deliveries/{uuid.uuid4()}",
        ),
        (
            f"{url_of(webhook)}/deliveries/{their_delivery}",
            f"{url_of(webhook)}/deliveries/{uuid.uuid4()}",
        ),
    ]
    for foreign_path, random_path in pairs:
        for suffix, method in (("", "GET"), ("/redeliver", "POST")):
            foreign = await client.request(method, foreign_path + suffix, headers=headers)
            random = await client.request(method, random_path + suffix, headers=headers)
            assert stable(assert_problem(foreign, 404)) == stable(assert_problem(random, 404))
    assert (await delivery_row(app, their_delivery)).status == "failed"


async def test_redelivery_and_test_requests_are_audited(app, client, world, webhook):
    headers = world.host_admin.headers
    await client.post(url_of(webhook, "/test"), headers=headers)
    delivery_id = await add_delivery(app, webhook, "failed", created_at=SINCE)
    await client.post(url_of(webhook, f"/deliveries/{delivery_id}/redeliver"), headers=headers)
    await client.post(
        url_of(webhook, "/redeliver-failed"), json={"since": SINCE.isoformat()}, headers=headers
    )
    assert await audit_actions(app, entity_id=webhook["id"]) == [
        "webhook.created",
        "webhook.test_requested",
        "webhook.redelivery_requested",
        "webhook.redelivery_requested",
    ]


async def test_deleting_a_webhook_removes_its_deliveries_and_attempts(app, client, world, webhook):
    delivery_id = await add_delivery(app, webhook, "failed")
    async with app.state.database.sessions() as session:
        session.add(WebhookAttempt(delivery_id=uuid.UUID(delivery_id), number=1, status_code=500))
        await session.commit()
    response = await client.delete(url_of(webhook), headers=world.host_admin.headers)
    assert response.status_code == 204
    async with app.state.database.sessions() as session:
        assert (await session.scalars(select(WebhookDelivery))).all() == []
        assert (await session.scalars(select(WebhookAttempt))).all() == []
