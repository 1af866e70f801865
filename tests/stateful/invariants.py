"""What must hold after every step, read from the database the service wrote.

- every permit's status is the replay of its history, and the model's;
- the events since the example began are exactly the changes the model saw succeed, and
  replaying them gives every object's stored status (no event without its change, no change
  without its event); each has the audit entry of the same name;
- every refusal (403, 404) is an audit entry, and the chain verifies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select

from service.assurances.models import EndUseAssurance
from service.audit import service as audit_service
from service.audit.models import AuditEntry, AuditHead
from service.consultations.models import Consultation
from service.events.models import OutboxEvent, OutboxHead
from service.notices.models import DecisionNotice
from service.permits.models import Permit, PermitStatusChange
from tests.stateful.model import Model

# SPEC section 4: every change emits one of these, and is audited under the same name.
EVENT_TYPES = frozenset(
    {
        "dialogue.opened",
        "permit.registered",
        "permit.status_changed",
        "assurance.requested",
        "assurance.submitted",
        "assurance.accepted",
        "assurance.rejected",
        "assurance.withdrawn",
        "assurance.breached",
        "consultation.opened",
        "consultation.message_posted",
        "consultation.response_overdue",
        "consultation.closed",
        "notice.issued",
        "notice.acknowledged",
    }
)


@dataclass(frozen=True)
class Start:
    """Where the chain and the outbox stood when the example began."""

    audit_seq: int
    outbox_seq: int


async def start_of(database: Any) -> Start:
    async with database.sessions() as session:
        audit_seq = await session.scalar(select(AuditHead.seq))
        outbox_seq = await session.scalar(select(OutboxHead.seq))
    return Start(audit_seq, outbox_seq)


def event_entity(event: OutboxEvent) -> tuple[str, str]:
    """The object an event is about, and the status it reports for it."""
    data = event.data
    if event.type == "permit.status_changed":
        return data["permit"]["id"], data["to_status"]
    if event.type == "consultation.message_posted":
        return data["consultation"]["id"], data["consultation"]["status"]
    if event.type.startswith("notice."):
        return data["notice"]["id"], data["notice"]["status"]
    return data["id"], data["status"]


def audited_entity(event: OutboxEvent) -> str:
    """The entity of the event's audit entry (a posted message is audited as the message)."""
    if event.type == "consultation.message_posted":
        return event.data["message"]["id"]
    return event_entity(event)[0]


async def check_all(database: Any, dialogue_id: UUID, start: Start, model: Model) -> None:
    async with database.sessions() as session:
        stored = await statuses(session, dialogue_id)
        events = list(
            await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.seq > start.outbox_seq)
                .order_by(OutboxEvent.seq)
            )
        )
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.seq > start.audit_seq).order_by(AuditEntry.seq)
            )
        )
        await check_histories(session, stored["permit"], model)
        verification = await audit_service.verify(session)
    assert verification.valid, verification
    check_against_model(stored, model)
    check_events(events, stored, model, dialogue_id)
    check_audit(entries, events, model)


async def statuses(session: Any, dialogue_id: UUID) -> dict[str, dict[str, str]]:
    found = {}
    for kind, table in (
        ("permit", Permit),
        ("assurance", EndUseAssurance),
        ("consultation", Consultation),
        ("notice", DecisionNotice),
    ):
        rows = await session.execute(
            select(table.id, table.status).where(table.dialogue_id == dialogue_id)
        )
        found[kind] = {str(row_id): status for row_id, status in rows}
    return found


async def check_histories(session: Any, permits: dict[str, str], model: Model) -> None:
    """Each permit's history, replayed from `active`, ends in its status."""
    changes = await session.scalars(
        select(PermitStatusChange)
        .where(PermitStatusChange.permit_id.in_([UUID(p) for p in permits]))
        .order_by(PermitStatusChange.at, PermitStatusChange.created_at)
    )
    replayed = dict.fromkeys(permits, "active")
    for change in changes:
        permit_id = str(change.permit_id)
        assert change.from_status == replayed[permit_id], (permit_id, change.from_status)
        assert str(change.notice_id) in model.notices, change.notice_id
        replayed[permit_id] = change.to_status
    assert replayed == permits


def check_against_model(stored: dict[str, dict[str, str]], model: Model) -> None:
    assert stored["permit"] == model.permits
    assert stored["assurance"] == {i: a.status for i, a in model.assurances.items()}
    assert stored["consultation"] == {i: c.status for i, c in model.consultations.items()}
    assert stored["notice"] == {i: n.status for i, n in model.notices.items()}


def check_events(
    events: list[OutboxEvent], stored: dict[str, dict[str, str]], model: Model, dialogue_id: UUID
) -> None:
    assert all(event.dialogue_id == dialogue_id for event in events), events
    seen = Counter((event.type, event_entity(event)[0]) for event in events)
    assert seen == model.events
    replayed: dict[str, str] = {}
    for event in events:
        entity, status = event_entity(event)
        replayed[entity] = status
    for kind, rows in stored.items():
        for entity, status in rows.items():
            if kind == "notice" and status == "draft":
                assert entity not in replayed, f"a draft {entity} has events"
                continue
            assert replayed.get(entity) == status, (kind, entity, status, replayed.get(entity))


def check_audit(entries: list[AuditEntry], events: list[OutboxEvent], model: Model) -> None:
    audited = Counter((e.action, e.entity_id) for e in entries if e.action in EVENT_TYPES)
    assert audited == Counter((event.type, audited_entity(event)) for event in events)
    denials = sum(1 for entry in entries if entry.action == "access.denied")
    assert denials == model.denials, (denials, model.denials)
