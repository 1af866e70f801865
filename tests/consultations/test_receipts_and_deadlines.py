"""Read receipts per side, and deadlines that pass without an answer."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from sqlalchemy import select, update

from service.audit.models import AuditEntry
from service.consultations import service as consultation_service
from service.consultations.models import Consultation
from service.db import utcnow
from service.uow import UnitOfWork
from tests.consultations.helpers import events, fetch, in_days, open_consultation, post, url
from tests.domain import add_assurance, add_permits


async def mark_read(client, persona, cid) -> dict:
    response = await client.post(url(cid, "/read"), headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def read_flags(client, persona, cid) -> list[bool]:
    response = await client.get(url(cid, "/messages"), headers=persona.headers)
    assert response.status_code == 200, response.text
    return [m["read_by_other_side"] for m in response.json()["items"]]


async def test_each_side_records_its_own_reading(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await post(client, world.officer, cid, "First.")
    second = await post(client, world.officer, cid, "Second.")
    assert await read_flags(client, world.diplomat, cid) == [False, False]

    receipts = (await mark_read(client, world.diplomat, cid))["read_receipts"]

    (counterpart,) = receipts
    assert counterpart["side"] == "counterpart"
    assert counterpart["read_by"] == str(world.diplomat.id)
    assert counterpart["read_up_to"] == second["created_at"]
    assert counterpart["read_at"]
    assert await read_flags(client, world.officer, cid) == [True, True]

    await post(client, world.officer, cid, "Third, unread.")
    await post(client, world.diplomat, cid, "An answer, unread by the authority.")
    assert await read_flags(client, world.officer, cid) == [True, True, False, False]

    await mark_read(client, world.officer, cid)
    shown = await fetch(client, world.diplomat, cid)
    assert [r["side"] for r in shown["read_receipts"]] == ["authority", "counterpart"]
    assert await read_flags(client, world.officer, cid) == [True, True, False, True]


async def test_reading_again_moves_the_receipt_forward_and_names_the_reader(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await mark_read(client, world.officer, cid)  # nothing posted yet
    await post(client, world.diplomat, cid, "News.")

    (receipt,) = (await mark_read(client, world.officer, cid))["read_receipts"]

    assert receipt["side"] == "authority"
    assert await read_flags(client, world.diplomat, cid) == [True]
    reads = select(AuditEntry.action).where(AuditEntry.entity_id == cid)
    async with app.state.database.sessions() as session:
        actions = list((await session.scalars(reads)).all())
    assert actions.count("consultation.read") == 2


async def test_an_unanswered_deadline_is_reported_once(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await post(client, world.officer, cid, "Answer by Friday.", response_requested_by=in_days(2))
    uow = UnitOfWork(app.state.database)

    assert await consultation_service.flag_overdue(uow) == 0
    later = utcnow() + timedelta(days=3)
    assert await consultation_service.flag_overdue(uow, now=later) == 1
    assert await consultation_service.flag_overdue(uow, now=later) == 0

    (event,) = await events(app, "consultation.response_overdue")
    assert event["consultation"]["id"] == cid
    assert event["consultation"]["overdue"] is True
    assert event["awaiting_side"] == "counterpart"
    entry = await overdue_entry(app, cid)
    assert (entry.actor_type, entry.dialogue_id) == ("system", world.dialogue_id)
    assert entry.details["awaiting_side"] == "counterpart"


async def overdue_entry(app, cid: str) -> AuditEntry:
    query = select(AuditEntry).where(
        AuditEntry.entity_id == cid, AuditEntry.action == "consultation.response_overdue"
    )
    async with app.state.database.sessions() as session:
        (entry,) = (await session.scalars(query)).all()
    return entry


async def test_a_new_deadline_can_be_reported_again(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    uow = UnitOfWork(app.state.database)
    await post(client, world.officer, cid, "Answer?", response_requested_by=in_days(1))
    assert await consultation_service.flag_overdue(uow, now=utcnow() + timedelta(days=2)) == 1

    await post(
        client, world.diplomat, cid, "Late, but here, and you?", response_requested_by=in_days(1)
    )

    assert (await fetch(client, world.officer, cid))["awaiting_side"] == "authority"
    assert await consultation_service.flag_overdue(uow, now=utcnow() + timedelta(days=2)) == 1
    assert len(await events(app, "consultation.response_overdue")) == 2


async def test_answered_or_closed_consultations_are_never_overdue(app, client, world):
    answered = (await open_consultation(client, world))["id"]
    closed = (await open_consultation(client, world))["id"]
    for cid in (answered, closed):
        await post(client, world.officer, cid, "Answer?", response_requested_by=in_days(1))
    await post(client, world.diplomat, answered, "Answered.")
    await client.post(
        url(closed, "/close"), json={"outcome": "no_action"}, headers=world.officer.headers
    )

    later = utcnow() + timedelta(days=2)
    assert await consultation_service.flag_overdue(UnitOfWork(app.state.database), now=later) == 0


async def test_the_overdue_flag_shows_once_the_deadline_passed(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await post(client, world.officer, cid, "Answer?", response_requested_by=in_days(1))
    assert (await fetch(client, world.diplomat, cid))["overdue"] is False

    async with app.state.database.sessions() as session:
        past = utcnow() - timedelta(hours=1)
        await session.execute(
            update(Consultation).where(Consultation.id == UUID(cid)).values(response_due_at=past)
        )
        await session.commit()

    assert (await fetch(client, world.diplomat, cid))["overdue"] is True


async def test_a_message_event_carries_the_links_and_both_receipts(app, client, world):
    """Links of both kinds and the sides' receipts are read together; none stands in for another."""
    permits = await add_permits(app, world, 2)
    assurance = await add_assurance(app, world, [p.id for p in permits])
    permit_ids = sorted(str(p.id) for p in permits)
    cid = (
        await open_consultation(
            client, world, permit_ids=permit_ids, assurance_ids=[str(assurance.id)]
        )
    )["id"]
    await post(client, world.officer, cid, "First.")
    await mark_read(client, world.diplomat, cid)
    await mark_read(client, world.officer, cid)

    posted = await post(client, world.diplomat, cid, "An answer.")

    shown = await fetch(client, world.officer, cid)
    assert sorted(shown["permit_ids"]) == permit_ids
    assert shown["assurance_ids"] == [str(assurance.id)]
    receipts = {r["side"]: r for r in shown["read_receipts"]}
    assert sorted(receipts) == ["authority", "counterpart"]
    assert receipts["authority"]["read_by"] == str(world.officer.id)
    assert receipts["counterpart"]["read_by"] == str(world.diplomat.id)
    event = (await events(app, "consultation.message_posted"))[-1]
    assert event["message"]["id"] == posted["id"]
    assert event["consultation"] == shown
