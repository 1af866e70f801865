"""Deliveries reach real receivers, signed, retried, logged; nothing is lost."""

from __future__ import annotations

import json
from uuid import UUID

from sqlalchemy import select
from standardwebhooks import Webhook

from service.webhooks.models import WebhookDelivery
from tests.domain import permit_body
from tests.webhooks.receivers import Script, eventually


async def register_permit(stage, number: str) -> dict:
    response = await stage.client.post(
        f"/api/v1/dialogues/{stage.world.dialogue_id}/permits",
        json=permit_body(number),
        headers=stage.world.officer.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(stage, subscription_id: str) -> list[dict]:
    response = await stage.client.get(
        f"/api/v1/webhooks/{subscription_id}/deliveries",
        headers=stage.world.host_admin.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_every_delivery_verifies_with_the_standard_webhooks_library(stage):
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker().running():
        permits = [await register_permit(stage, f"EXP-{n}") for n in range(3)]
        await eventually(lambda: len(stage.receiver.arrivals["gac"]) == 3)

    verifier = Webhook(subscription["secret"])
    bodies = [verifier.verify(a.body, a.headers) for a in stage.receiver.arrivals["gac"]]
    assert {b["data"]["id"] for b in bodies} == {p["id"] for p in permits}
    assert {b["type"] for b in bodies} == {"permit.registered"}
    assert all(
        a.headers["webhook-id"] == b["id"]
        for a, b in zip(stage.receiver.arrivals["gac"], bodies, strict=True)
    )


async def test_after_rotation_both_secrets_verify_during_the_overlap(stage):
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    rotated = await stage.client.post(
        f"/api/v1/webhooks/{subscription['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=stage.world.host_admin.headers,
    )
    assert rotated.status_code == 200, rotated.text
    async with stage.worker().running():
        await register_permit(stage, "EXP-1")
        arrival = (await eventually(lambda: stage.receiver.arrivals["gac"]))[0]

    assert len(arrival.headers["webhook-signature"].split(" ")) == 2
    Webhook(subscription["secret"]).verify(arrival.body, arrival.headers)
    Webhook(rotated.json()["secret"]).verify(arrival.body, arrival.headers)


async def test_a_rotation_without_overlap_signs_with_the_new_secret_only(stage):
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    rotated = await stage.client.post(
        f"/api/v1/webhooks/{subscription['id']}/rotate-secret",
        json={"overlap_seconds": 0},
        headers=stage.world.host_admin.headers,
    )
    async with stage.worker().running():
        await register_permit(stage, "EXP-1")
        arrival = (await eventually(lambda: stage.receiver.arrivals["gac"]))[0]

    Webhook(rotated.json()["secret"]).verify(arrival.body, arrival.headers)
    assert " " not in arrival.headers["webhook-signature"]


async def test_an_answer_500_is_retried_until_the_receiver_accepts(stage):
    stage.receiver.scripts["gac"] = Script(answers=[500, 503])
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker().running():
        await register_permit(stage, "EXP-1")
        await eventually(lambda: len(stage.receiver.arrivals["gac"]) == 3)
        delivered = await eventually(lambda: _delivered(stage, subscription["id"]))

    assert delivered["attempts"] == 3
    assert len(stage.receiver.ids("gac")) == 1  # the same webhook-id on every attempt
    detail = await _detail(stage, subscription["id"], delivered["id"])
    log = detail["attempts_log"]
    assert [a["status_code"] for a in log] == [500, 503, 200]
    assert all(a["latency_ms"] is not None for a in log)
    assert log[0]["response_excerpt"] == "ok"


async def test_a_receiver_that_never_answers_in_time_exhausts_the_schedule(stage):
    stage.receiver.scripts["gac"] = Script(delay=1.5)
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker(webhook_timeout_seconds=0.3).running():
        await register_permit(stage, "EXP-1")
        failed = await eventually(lambda: _with_status(stage, subscription["id"], "failed"))

    assert failed["attempts"] == 4  # the first try and three retries
    assert "No answer within 0.3 s" in failed["last_error"]


async def test_a_receiver_down_then_up_gets_the_delivery(stage):
    from tests.webhooks.receivers import free_port, receiving

    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/late"
    subscription = await stage.subscribe("host_admin", "late", url=url, event_types=["permit.*"])
    async with stage.worker(webhook_retry_schedule=[0.3] * 20).running():
        await register_permit(stage, "EXP-1")
        # Wait for a failed attempt on record: ``attempts`` counts a claim before its request.
        await eventually(lambda: _failed_once(stage, subscription["id"]))
        async with receiving(port) as late:
            await eventually(lambda: late.arrivals["late"])
            delivered = await eventually(lambda: _delivered(stage, subscription["id"]))

    assert delivered["attempts"] >= 2
    log = (await _detail(stage, subscription["id"], delivered["id"]))["attempts_log"]
    assert log[0]["status_code"] is None
    assert log[0]["error"]
    assert log[-1]["status_code"] == 200


async def test_a_redirect_is_not_followed(stage):
    stage.receiver.scripts["gac"] = Script(
        otherwise=302, headers={"location": "http://169.254.169.254/latest/meta-data/"}
    )
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    async with stage.worker(webhook_retry_schedule=[]).running():
        await register_permit(stage, "EXP-1")
        failed = await eventually(lambda: _with_status(stage, subscription["id"], "failed"))

    assert "Redirect (302) not followed" in failed["last_error"]
    assert len(stage.receiver.arrivals["gac"]) == 1


async def test_a_failed_delivery_can_be_redelivered(stage):
    stage.receiver.scripts["gac"] = Script(answers=[500])
    subscription = await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    base = f"/api/v1/webhooks/{subscription['id']}"
    async with stage.worker(webhook_retry_schedule=[]).running():
        await register_permit(stage, "EXP-1")
        failed = await eventually(lambda: _with_status(stage, subscription["id"], "failed"))
        response = await stage.client.post(
            f"{base}/deliveries/{failed['id']}/redeliver", headers=stage.world.host_admin.headers
        )
        assert response.status_code == 202, response.text
        delivered = await eventually(lambda: _delivered(stage, subscription["id"]))

    assert delivered["id"] == failed["id"]
    assert len(stage.receiver.ids("gac")) == 1
    assert len(stage.receiver.arrivals["gac"]) == 2


async def test_the_test_message_arrives_signed(stage):
    subscription = await stage.subscribe("host_admin", "gac", event_types=["notice.*"])
    async with stage.worker().running():
        sent = await stage.client.post(
            f"/api/v1/webhooks/{subscription['id']}/test", headers=stage.world.host_admin.headers
        )
        assert sent.status_code == 202, sent.text
        arrival = (await eventually(lambda: stage.receiver.arrivals["gac"]))[0]

    body = Webhook(subscription["secret"]).verify(arrival.body, arrival.headers)
    assert body["type"] == "webhook.test"
    assert arrival.headers["webhook-id"] == sent.json()["message_id"]


async def test_an_observer_receives_permits_but_never_consultations_or_assurances(stage):
    from tests.consultations.helpers import open_consultation

    await _observer_subscription(stage)
    await stage.subscribe("tr_admin", "ministry")
    async with stage.worker().running():
        await register_permit(stage, "EXP-1")
        await open_consultation(stage.client, stage.world)
        await eventually(
            lambda: {"permit.registered", "consultation.opened"} <= _types(stage, "ministry")
        )
        await eventually(lambda: "permit.registered" in _types(stage, "customs"))

    assert _types(stage, "customs") == {"permit.registered"}


async def _observer_subscription(stage) -> dict:
    """Customs subscribes to everything it may name; it still only gets what it may see."""
    from tests.factories import client_persona

    customs = await client_persona(stage.app, stage.world, "CA-CBSA", ["webhooks:manage"])
    stage.world.people["customs_system"] = customs
    return await stage.subscribe("customs_system", "customs")


def _types(stage, name: str) -> set[str]:
    return {json.loads(a.body)["type"] for a in stage.receiver.arrivals[name]}


async def _rows(stage, subscription_id: str) -> list[WebhookDelivery]:
    async with stage.app.state.database.sessions() as session:
        query = select(WebhookDelivery).where(
            WebhookDelivery.subscription_id == UUID(subscription_id)
        )
        return list((await session.scalars(query)).all())


async def _failed_once(stage, subscription_id: str) -> bool:
    return any(row.last_error for row in await _rows(stage, subscription_id))


async def _with_status(stage, subscription_id: str, status: str) -> dict | None:
    found = [d for d in await deliveries(stage, subscription_id) if d["status"] == status]
    return found[0] if found else None


async def _delivered(stage, subscription_id: str) -> dict | None:
    return await _with_status(stage, subscription_id, "delivered")


async def _detail(stage, subscription_id: str, delivery_id: str) -> dict:
    response = await stage.client.get(
        f"/api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}",
        headers=stage.world.host_admin.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()
