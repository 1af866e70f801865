"""A permit's history: every status change, with the notice that caused it, oldest first."""

from __future__ import annotations

from uuid import UUID

from service.db import utcnow
from service.notices.models import DecisionNotice
from service.permits import transitions
from service.permits.models import Permit
from service.uow import UnitOfWork
from tests.domain import add_permits
from tests.factories import audit_actions
from tests.permits.helpers import events


async def issued_notice(app, world, kind: str, reference: str) -> DecisionNotice:
    """A notice as the notices domain leaves it once issued (only what the history needs)."""
    notice = DecisionNotice(
        dialogue_id=world.dialogue_id,
        reference=reference,
        kind=kind,
        status="issued",
        summary=f"{kind} of the permits",
        rationale="Reports of the optics in a third country's war.",
        legal_basis="Export and Import Permits Act, s. 10",
        drafted_by=world.officer.id,
        issued_by=world.approver.id,
        issued_at=utcnow(),
    )
    async with app.state.database.sessions() as session:
        session.add(notice)
        await session.commit()
    return notice


async def change(app, permit_id: UUID, to_status: str, notice=None) -> None:
    async with UnitOfWork(app.state.database).transaction() as tx:
        permit = await tx.session.get(Permit, permit_id)
        transitions.change_status(tx, permit, to_status, notice=notice)


async def history(client, world, permit_id, persona=None):
    persona = persona or world.officer
    url = f"/api/v1/permits/{permit_id}/history"
    response = await client.get(url, headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_new_permit_has_no_history(client, world, app):
    [permit] = await add_permits(app, world, 1)
    assert await history(client, world, permit.id) == []


async def test_history_lists_each_change_with_its_notice_oldest_first(client, world, app):
    [permit] = await add_permits(app, world, 1)
    suspension = await issued_notice(app, world, "suspension", "CA-GAC-2020-0001")
    reinstatement = await issued_notice(app, world, "reinstatement", "CA-GAC-2020-0002")
    cancellation = await issued_notice(app, world, "cancellation", "CA-GAC-2020-0003")
    await change(app, permit.id, "suspended", suspension)
    await change(app, permit.id, "active", reinstatement)
    await change(app, permit.id, "cancelled", cancellation)

    items = await history(client, world, permit.id, world.cbsa_officer)
    steps = [(i["from_status"], i["to_status"], i["notice_id"]) for i in items]
    assert steps == [
        ("active", "suspended", str(suspension.id)),
        ("suspended", "active", str(reinstatement.id)),
        ("active", "cancelled", str(cancellation.id)),
    ]
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    current = await client.get(f"/api/v1/permits/{permit.id}", headers=world.diplomat.headers)
    assert current.json()["status"] == "cancelled"


async def test_each_change_is_announced_with_the_notice_reference(client, world, app):
    [permit] = await add_permits(app, world, 1)
    suspension = await issued_notice(app, world, "suspension", "CA-GAC-2020-0001")
    await change(app, permit.id, "suspended", suspension)
    [event] = await events(app, "permit.status_changed")
    assert event.dialogue_id == world.dialogue_id
    assert event.data["permit"]["status"] == "suspended"
    assert event.data["notice_reference"] == "CA-GAC-2020-0001"
    assert event.data["notice_id"] == str(suspension.id)
    assert await audit_actions(app, entity_id=str(permit.id)) == ["permit.status_changed"]


async def test_history_is_for_the_dialogues_parties_only(client, world, app):
    [permit] = await add_permits(app, world, 1)
    await change(app, permit.id, "suspended")
    url = f"/api/v1/permits/{permit.id}/history"
    assert (await client.get(url, headers=world.other_auditor.headers)).status_code == 404
    assert len(await history(client, world, permit.id, world.tr_auditor)) == 1
