"""Expiry: permits past ``valid_until`` become ``expired``, through the one transition path."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.permits.service import expire_permits
from service.uow import UnitOfWork
from tests.domain import add_permits
from tests.permits.helpers import events, set_validity, status_of

TODAY = date.today()


async def scene(app, world) -> dict[str, object]:
    """One permit per case that matters, named by what expiry should do with it."""
    names = {
        "active_past": ("active", TODAY - timedelta(days=1)),
        "suspended_past": ("suspended", TODAY - timedelta(days=20)),
        "cancelled_past": ("cancelled", TODAY - timedelta(days=1)),
        "expired_past": ("expired", TODAY - timedelta(days=1)),
        "active_last_day": ("active", TODAY),
        "active_future": ("active", TODAY + timedelta(days=1)),
    }
    permits = {}
    for name, (status, valid_until) in names.items():
        [permit] = await add_permits(app, world, 1, status=status, prefix=name.upper())
        await set_validity(app, [permit.id], valid_until)
        permits[name] = permit
    return permits


async def run(app, **kwargs) -> int:
    return await expire_permits(UnitOfWork(app.state.database), today=TODAY, **kwargs)


async def test_only_active_or_suspended_permits_past_validity_expire(client, world, app):
    permits = await scene(app, world)
    assert await run(app) == 2
    statuses = {name: await status_of(app, p.id) for name, p in permits.items()}
    assert statuses == {
        "active_past": "expired",
        "suspended_past": "expired",
        "cancelled_past": "cancelled",
        "expired_past": "expired",
        "active_last_day": "active",
        "active_future": "active",
    }


async def test_expiry_is_kept_in_history_without_a_notice(client, world, app):
    permits = await scene(app, world)
    await run(app)
    for name, from_status in [("active_past", "active"), ("suspended_past", "suspended")]:
        url = f"/api/v1/permits/{permits[name].id}/history"
        response = await client.get(url, headers=world.cbsa_officer.headers)
        [step] = response.json()["items"]
        assert (step["from_status"], step["to_status"], step["notice_id"]) == (
            from_status,
            "expired",
            None,
        )
    untouched = f"/api/v1/permits/{permits['cancelled_past'].id}/history"
    assert (await client.get(untouched, headers=world.officer.headers)).json()["items"] == []


async def test_each_expiry_is_announced_and_audited_as_the_system(client, world, app):
    permits = await scene(app, world)
    await run(app)
    changed = await events(app, "permit.status_changed")
    expired_ids = {str(permits["active_past"].id), str(permits["suspended_past"].id)}
    assert {e.data["permit"]["id"] for e in changed} == expired_ids
    assert {e.data["to_status"] for e in changed} == {"expired"}
    assert {e.data["notice_id"] for e in changed} == {None}
    query = select(AuditEntry).where(AuditEntry.action == "permit.status_changed")
    async with app.state.database.sessions() as session:
        entries = (await session.scalars(query)).all()
    assert {e.entity_id for e in entries} == expired_ids
    assert {(e.actor_type, e.actor_name) for e in entries} == {("system", "entente")}
    assert {e.dialogue_id for e in entries} == {world.dialogue_id}


async def test_a_second_run_changes_nothing(client, world, app):
    await scene(app, world)
    assert await run(app) == 2
    assert await run(app) == 0
    assert len(await events(app, "permit.status_changed")) == 2


async def test_a_backlog_expires_in_batches(client, world, app):
    permits = await add_permits(app, world, 7)
    await set_validity(app, [p.id for p in permits], TODAY - timedelta(days=3))
    assert await run(app, batch_size=3) == 7
    assert {await status_of(app, p.id) for p in permits} == {"expired"}
    assert len(await events(app, "permit.status_changed")) == 7


async def test_today_defaults_to_the_current_date(client, world, app):
    [permit] = await add_permits(app, world, 1)
    await set_validity(app, [permit.id], TODAY - timedelta(days=400))
    assert await expire_permits(UnitOfWork(app.state.database)) == 1
    assert await status_of(app, permit.id) == "expired"
