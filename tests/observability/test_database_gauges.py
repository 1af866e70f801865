"""Gauges read from the database at scrape time follow the outbox, deliveries and audit chain."""

from __future__ import annotations

from sqlalchemy import func, select

from service.app import create_app
from service.audit.models import AuditEntry
from service.config import Settings
from service.events.models import OutboxEvent
from service.webhooks import fanout
from tests.api.test_health import UNREACHABLE
from tests.domain import permit_body
from tests.factories import serving
from tests.observability.support import scrape, value
from tests.webhooks.receivers import Script, eventually


async def register_permit(client, world, number: str) -> None:
    response = await client.post(
        f"/api/v1/dialogues/{world.dialogue_id}/permits",
        json=permit_body(number),
        headers=world.officer.headers,
    )
    assert response.status_code == 201, response.text


async def count(app, column) -> int:
    async with app.state.database.sessions() as session:
        return await session.scalar(select(func.count(column)))


def deliveries(text: str, status: str) -> float | None:
    return value(text, "entente_webhook_deliveries", status=status)


async def test_gauges_follow_events_from_the_outbox_to_delivery(stage):
    stage.receiver.scripts["bad"] = Script(otherwise=500)
    await stage.subscribe("host_admin", "gac", event_types=["permit.*"])
    await stage.subscribe("host_admin", "bad", event_types=["permit.*"])
    await register_permit(stage.client, stage.world, "EXP-1")

    waiting = await scrape(stage.client)
    assert value(waiting, "entente_outbox_backlog") == await count(stage.app, OutboxEvent.seq)
    assert value(waiting, "entente_outbox_oldest_unfanned_age_seconds") > 0
    assert value(waiting, "entente_webhook_delivery_backlog") == 0

    await fanout.fan_out(stage.app.state.database)
    fanned = await scrape(stage.client)
    assert value(fanned, "entente_outbox_backlog") == 0
    assert value(fanned, "entente_outbox_oldest_unfanned_age_seconds") == 0
    assert deliveries(fanned, "pending") == 2
    assert value(fanned, "entente_webhook_delivery_backlog") == 2
    assert value(fanned, "entente_webhook_oldest_due_age_seconds") >= 0

    async with stage.worker().running():
        done = await eventually(lambda: finished(stage))

    assert deliveries(done, "failed") == 1  # "bad" used up its retries; "gac" was delivered
    assert value(done, "entente_webhook_delivery_backlog") == 0
    assert value(done, "entente_audit_chain_length") == await count(stage.app, AuditEntry.seq)
    assert value(done, "entente_database_up") == 1


async def finished(stage) -> str | None:
    text = await scrape(stage.client)
    return text if deliveries(text, "failed") == 1 and deliveries(text, "pending") == 0 else None


async def test_the_reading_is_cached_between_scrapes(app, client, world):
    app.state.metrics.gauges.cache_seconds = 3600
    before = value(await scrape(client), "entente_audit_chain_length")
    await register_permit(client, world, "EXP-1")

    assert value(await scrape(client), "entente_audit_chain_length") == before
    app.state.metrics.gauges.cache_seconds = 0
    assert value(await scrape(client), "entente_audit_chain_length") > before


async def test_without_a_database_the_gauges_are_absent_and_say_so(settings):
    broken = Settings(
        data_dir=settings.data_dir,
        database_url=UNREACHABLE,
        signing_key_file=settings.signing_key_file,
    )
    async with serving(create_app(broken)) as client:
        text = await scrape(client)
    assert value(text, "entente_database_up") == 0
    assert deliveries(text, "pending") is None
    assert value(text, "entente_audit_chain_length") is None
