"""What a user sees first: their dialogues, what awaits their side, and what happened lately.

Built only from the service layer's own queries, so it shows exactly what the API would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.auth.principal import Principal
from service.consultations import service as consultation_service
from service.consultations.schemas import ConsultationRead
from service.events import service as events_service
from service.events.models import OutboxEvent
from service.notices import service as notice_service
from service.notices.schemas import NoticeRead
from service.parties import dialogues as dialogue_service
from service.parties.schemas import DialogueRead
from service.uow import UnitOfWork

MAX = 200


@dataclass
class Inbox:
    dialogues: list[DialogueRead] = field(default_factory=list)
    awaiting: list[tuple[DialogueRead, ConsultationRead]] = field(default_factory=list)
    to_acknowledge: list[tuple[DialogueRead, NoticeRead]] = field(default_factory=list)
    activity: list[OutboxEvent] = field(default_factory=list)


async def build(uow: UnitOfWork, caller: Principal) -> Inbox:
    dialogues, _ = await dialogue_service.list_dialogues(uow, caller, limit=MAX, cursor=None)
    inbox = Inbox(dialogues=dialogues)
    for dialogue in dialogues:
        if dialogue.my_side == "observer":
            continue
        inbox.awaiting += [(dialogue, c) for c in await awaiting_my_side(uow, caller, dialogue)]
        if dialogue.my_side == "counterpart":
            inbox.to_acknowledge += [
                (dialogue, n) for n in await unacknowledged(uow, caller, dialogue)
            ]
    # Overdue first, then the nearest deadline.
    inbox.awaiting.sort(
        key=lambda pair: (not pair[1].overdue, pair[1].response_due_at or pair[1].created_at)
    )
    inbox.activity = await recent_activity(uow, caller)
    return inbox


async def awaiting_my_side(
    uow: UnitOfWork, caller: Principal, dialogue: DialogueRead
) -> list[ConsultationRead]:
    # The side in the query, not a filter after it: the page of MAX holds only our own.
    rows, _ = await consultation_service.list_consultations(
        uow,
        caller,
        dialogue_id=dialogue.id,
        status="awaiting_response",
        awaiting_side=dialogue.my_side,
        limit=MAX,
        cursor=None,
    )
    return rows


async def unacknowledged(
    uow: UnitOfWork, caller: Principal, dialogue: DialogueRead
) -> list[NoticeRead]:
    rows, _ = await notice_service.list_notices(
        uow, caller, dialogue_id=dialogue.id, status="issued", kind=None, limit=MAX, cursor=None
    )
    return rows


async def recent_activity(uow: UnitOfWork, caller: Principal, count: int = 15) -> list[Any]:
    async with uow.reading() as session:
        query = events_service.visible_events(caller).order_by(OutboxEvent.seq.desc()).limit(count)
        return list((await session.scalars(query)).all())
