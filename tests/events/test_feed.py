"""The events feed: what each side of a dialogue may see, in commit order, page by page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.events.models import OutboxEvent
from service.uow import UnitOfWork
from tests.factories import client_persona

FEED = "/api/v1/events"


async def emit(app, world, *types: str, dialogue_id=None) -> None:
    uow = UnitOfWork(app.state.database)
    async with uow.transaction() as tx:
        for type_ in types:
            tx.emit(type_, {"note": type_}, dialogue_id=dialogue_id or world.dialogue_id)


async def types_seen(client, persona, **params) -> list[str]:
    response = await client.get(FEED, params=params, headers=persona.headers)
    assert response.status_code == 200, response.text
    return [event["type"] for event in response.json()["items"]]


async def test_parties_see_their_dialogue_opening(client, world):
    assert await types_seen(client, world.officer) == ["dialogue.opened"]
    assert await types_seen(client, world.diplomat) == ["dialogue.opened"]
    assert await types_seen(client, world.other_admin) == ["dialogue.opened"]  # its own dialogue


async def test_events_come_in_commit_order_with_the_envelope(client, world, app):
    await emit(app, world, "permit.registered", "assurance.requested", "notice.issued")
    response = await client.get(FEED, headers=world.officer.headers)
    items = response.json()["items"]
    assert [e["type"] for e in items] == [
        "dialogue.opened",
        "permit.registered",
        "assurance.requested",
        "notice.issued",
    ]
    assert set(items[1]) == {"id", "type", "occurred_at", "dialogue_id", "data"}
    assert items[1]["dialogue_id"] == str(world.dialogue_id)
    assert items[1]["data"] == {"note": "permit.registered"}


async def test_observers_see_only_permits_and_notices(client, world, app):
    await emit(
        app,
        world,
        "permit.registered",
        "assurance.submitted",
        "consultation.message_posted",
        "notice.issued",
        "permit.status_changed",
    )
    seen = await types_seen(client, world.cbsa_officer)
    assert seen == ["permit.registered", "notice.issued", "permit.status_changed"]


async def test_outsiders_never_see_another_dialogues_events(client, world, app):
    await emit(app, world, "permit.registered", "notice.issued")
    seen = await types_seen(client, world.other_admin)
    assert seen == ["dialogue.opened"]
    response = await client.get(FEED, headers=world.other_admin.headers)
    assert str(world.dialogue_id) not in response.text


async def test_paging_with_the_cursor_resumes_where_it_stopped(client, world, app):
    await emit(app, world, *["permit.registered"] * 5)
    seen, after = [], None
    for _ in range(10):
        params = {"limit": 2} | ({"after": after} if after else {})
        page = (await client.get(FEED, params=params, headers=world.officer.headers)).json()
        if not page["items"]:
            break
        seen += [event["id"] for event in page["items"]]
        after = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 6
    await emit(app, world, "notice.issued")  # polling later picks up only what is new
    later = await client.get(FEED, params={"after": after}, headers=world.officer.headers)
    assert [e["type"] for e in later.json()["items"]] == ["notice.issued"]


async def test_type_filter_exact_and_by_family(client, world, app):
    await emit(app, world, "permit.registered", "permit.status_changed", "notice.issued")
    family = await types_seen(client, world.officer, types="permit.*")
    assert family == ["permit.registered", "permit.status_changed"]
    both = await types_seen(client, world.officer, types="notice.issued,dialogue.opened")
    assert both == ["dialogue.opened", "notice.issued"]


async def test_type_filter_allows_blanks_and_empty_entries(client, world, app):
    await emit(app, world, "permit.registered", "notice.issued")
    seen = await types_seen(client, world.officer, types=" permit.* ,, notice.issued ,")
    assert seen == ["permit.registered", "notice.issued"]


@pytest.mark.parametrize(
    "types", ["permit.deleted", "nothing.*", "*", "permit", "notice.issued,permit", "\tpermit.*"]
)
async def test_unknown_types_are_refused(client, world, types):
    response = await client.get(FEED, params={"types": types}, headers=world.officer.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("cursor", ["garbage", "LTE", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
async def test_tampered_cursors_are_refused(client, world, cursor):
    response = await client.get(FEED, params={"after": cursor}, headers=world.officer.headers)
    assert response.status_code == 422


async def test_clients_need_the_events_scope(client, world, app):
    without = await client_persona(app, world, "CA-GAC", ["permits:read"])
    assert (await client.get(FEED, headers=without.headers)).status_code == 403
    with_scope = await client_persona(app, world, "CA-GAC", ["events:read"])
    assert (await client.get(FEED, headers=with_scope.headers)).status_code == 200


async def test_events_commit_with_their_change_or_not_at_all(app, world):
    async def count() -> int:
        async with app.state.database.sessions() as session:
            return await session.scalar(select(func.count()).select_from(OutboxEvent))

    async def failing_change() -> None:
        async with UnitOfWork(app.state.database).transaction() as tx:
            tx.emit("permit.registered", {"n": 1}, dialogue_id=world.dialogue_id)
            tx.audit("test.failed")
            raise RuntimeError("the change fails after its event was emitted")

    before = await count()
    with pytest.raises(RuntimeError):
        await failing_change()
    assert await count() == before
    await emit(app, world, "permit.registered")
    assert await count() == before + 1


async def test_event_numbers_follow_commit_order(app, world):
    await emit(app, world, "permit.registered", "notice.issued")
    async with app.state.database.sessions() as session:
        seqs = (await session.scalars(select(OutboxEvent.seq).order_by(OutboxEvent.seq))).all()
    assert list(seqs) == list(range(seqs[0], seqs[0] + len(seqs)))
