"""Use cases for consultations: open, post immutable messages, read, close, and deadlines."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.assurances.models import EndUseAssurance
from service.audit.service import SYSTEM
from service.auth.principal import Principal
from service.consultations import repository
from service.consultations.models import (
    Consultation,
    ConsultationAssurance,
    ConsultationPermit,
    Message,
    ReadReceipt,
)
from service.consultations.schemas import (
    ConsultationClose,
    ConsultationCreate,
    ConsultationRead,
    MessageCreate,
    MessagePosted,
    MessageRead,
    ReadReceiptRead,
    ResponseOverdue,
)
from service.db import utcnow
from service.dialogue import access
from service.dialogue.access import Action, Standing
from service.errors import InvalidInput, StateConflict
from service.permits.models import Permit
from service.uow import Transaction, UnitOfWork

OTHER_SIDE = {"authority": "counterpart", "counterpart": "authority"}
DERIVED = {"permit_ids", "assurance_ids", "overdue", "read_receipts"}
CONSULTATION_FIELDS = tuple(name for name in ConsultationRead.model_fields if name not in DERIVED)


def is_overdue(consultation: Consultation, now: datetime) -> bool:
    due = consultation.response_due_at
    return consultation.status == "awaiting_response" and due is not None and due < now


def view(
    consultation: Consultation,
    permit_ids: list[UUID],
    assurance_ids: list[UUID],
    receipts: Sequence[Any],
    now: datetime | None = None,
) -> ConsultationRead:
    return ConsultationRead.model_validate(
        {
            **{name: getattr(consultation, name) for name in CONSULTATION_FIELDS},
            "permit_ids": permit_ids,
            "assurance_ids": assurance_ids,
            "overdue": is_overdue(consultation, now or utcnow()),
            "read_receipts": [ReadReceiptRead.model_validate(r) for r in receipts],
        }
    )


async def views(
    session: AsyncSession, rows: Sequence[Consultation], now: datetime | None = None
) -> list[ConsultationRead]:
    found = await repository.details(session, [row.id for row in rows])
    return [view_with(row, found, now) for row in rows]


def view_with(
    consultation: Consultation, found: repository.Details, now: datetime | None = None
) -> ConsultationRead:
    key = consultation.id
    return view(consultation, found.permits[key], found.assurances[key], found.receipts[key], now)


def message_view(message: Message, other_receipt: ReadReceipt | None) -> MessageRead:
    read = other_receipt is not None and message.created_at <= other_receipt.read_up_to
    return MessageRead(
        id=message.id,
        consultation_id=message.consultation_id,
        dialogue_id=message.dialogue_id,
        body=message.body,
        classification=message.classification,
        sha256=message.sha256,
        author_id=message.author_id,
        author_name=message.author_name,
        organization_id=message.author_org_id,
        side=message.side,
        response_requested_by=message.response_requested_by,
        read_by_other_side=read,
        created_at=message.created_at,
    )


def apply_message(consultation: Consultation, side: str, requested_by: datetime | None) -> None:
    """The awaiting_response state machine: the awaited side answers, a request awaits the other."""
    if consultation.status == "awaiting_response" and consultation.awaiting_side == side:
        consultation.status = "open"
        consultation.awaiting_side = None
        consultation.response_due_at = None
        consultation.overdue_notified_at = None
    if requested_by is not None:
        consultation.status = "awaiting_response"
        consultation.awaiting_side = OTHER_SIDE[side]
        consultation.response_due_at = requested_by
        consultation.overdue_notified_at = None


async def check_links(session: AsyncSession, dialogue_id: UUID, data: ConsultationCreate) -> None:
    permits = await repository.missing_ids(session, Permit, dialogue_id, data.permit_ids)
    assurances = await repository.missing_ids(
        session, EndUseAssurance, dialogue_id, data.assurance_ids
    )
    if permits or assurances:
        raise InvalidInput(
            "Linked permits and assurances must exist in this dialogue.",
            unknown_permit_ids=[str(each) for each in permits],
            unknown_assurance_ids=[str(each) for each in assurances],
        )


async def open_consultation(
    uow: UnitOfWork, caller: Principal, *, dialogue_id: UUID, data: ConsultationCreate
) -> ConsultationRead:
    async with uow.transaction() as tx:
        standing = await access.permitted(tx.session, caller, dialogue_id, Action.CONSULT)
        await check_links(tx.session, dialogue_id, data)
        consultation = Consultation(
            dialogue_id=dialogue_id,
            subject=data.subject,
            topic=data.topic,
            status="open",
            opened_by=caller.id,
            opened_by_side=standing.side.value,
        )
        tx.session.add(consultation)
        await tx.session.flush()
        tx.session.add_all(
            [
                ConsultationPermit(consultation_id=consultation.id, permit_id=p)
                for p in data.permit_ids
            ]
            + [
                ConsultationAssurance(consultation_id=consultation.id, assurance_id=a)
                for a in data.assurance_ids
            ]
        )
        opened = view(consultation, sorted(data.permit_ids), sorted(data.assurance_ids), [])
        tx.emit("consultation.opened", opened, dialogue_id=dialogue_id)
        tx.audit("consultation.opened", consultation, details=data.model_dump(mode="json"))
    return opened


async def post_message(
    uow: UnitOfWork, caller: Principal, *, consultation_id: UUID, data: MessageCreate
) -> MessageRead:
    async with uow.transaction() as tx:
        consultation, standing = await load_for_writing(tx, caller, consultation_id, Action.CONSULT)
        if consultation.status == "closed":
            raise StateConflict("The consultation is closed; it takes no more messages.")
        side = standing.side.value
        # Read before the consultation changes, so that this query has nothing to flush first.
        found = await repository.details(tx.session, [consultation.id])
        message = Message(
            consultation_id=consultation.id,
            dialogue_id=consultation.dialogue_id,
            author_id=caller.id,
            author_name=caller.name,
            author_org_id=caller.org_id,
            side=side,
            body=data.body,
            classification=data.classification,
            sha256=hashlib.sha256(data.body.encode("utf-8")).hexdigest(),
            response_requested_by=data.response_requested_by,
        )
        tx.add_at_commit(message)  # with the journal: one trip less under the write lock
        apply_message(consultation, side, data.response_requested_by)
        await tx.session.flush()  # the consultation, if the message changed it
        posted = message_view(message, None)
        current = view_with(consultation, found)
        tx.emit(
            "consultation.message_posted",
            MessagePosted(message=posted, consultation=current),
            dialogue_id=consultation.dialogue_id,
        )
        tx.audit("consultation.message_posted", message, details=message_details(message))
    return posted


def message_details(message: Message) -> dict[str, object]:
    # The hash, not the body: the chain then proves the message unaltered without repeating it.
    return {
        "consultation_id": str(message.consultation_id),
        "sha256": message.sha256,
        "classification": message.classification,
        "side": message.side,
        "response_requested_by": iso(message.response_requested_by),
    }


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def load_for_writing(
    tx: Transaction, caller: Principal, consultation_id: UUID, action: Action
) -> tuple[Consultation, Standing]:
    consultation, standing = await access.load_scoped(
        tx.session, caller, Consultation, consultation_id, action, for_update=True
    )
    access.require(caller, standing, action)
    return consultation, standing


async def mark_read(
    uow: UnitOfWork, caller: Principal, *, consultation_id: UUID
) -> ConsultationRead:
    async with uow.transaction() as tx:
        consultation, standing = await load_for_writing(tx, caller, consultation_id, Action.CONSULT)
        # The row lock orders this after any message being posted, so "up to" misses none.
        last = await repository.last_message_at(tx.session, consultation.id)
        up_to = last or consultation.created_at
        receipt = await repository.receipt(tx.session, consultation.id, standing.side.value)
        if receipt is None:
            receipt = ReadReceipt(consultation_id=consultation.id, side=standing.side.value)
            tx.session.add(receipt)
        receipt.read_up_to = max(up_to, receipt.read_up_to or up_to)
        receipt.read_by, receipt.read_at = caller.id, utcnow()
        await tx.session.flush()
        tx.audit(
            "consultation.read",
            consultation,
            details={"side": receipt.side, "read_up_to": iso(receipt.read_up_to)},
        )
        (current,) = await views(tx.session, [consultation])
    return current


async def close(
    uow: UnitOfWork, caller: Principal, *, consultation_id: UUID, data: ConsultationClose
) -> ConsultationRead:
    async with uow.transaction() as tx:
        consultation, _ = await load_for_writing(
            tx, caller, consultation_id, Action.CLOSE_CONSULTATION
        )
        if consultation.status == "closed":
            raise StateConflict("The consultation is closed already.")
        consultation.status, consultation.outcome = "closed", data.outcome
        consultation.closed_by, consultation.closed_at = caller.id, utcnow()
        consultation.awaiting_side = consultation.response_due_at = None
        await tx.session.flush()
        (closed,) = await views(tx.session, [consultation])
        tx.emit("consultation.closed", closed, dialogue_id=consultation.dialogue_id)
        tx.audit("consultation.closed", consultation, details={"outcome": data.outcome})
    return closed


async def readable(
    session: AsyncSession, caller: Principal, consultation_id: UUID
) -> tuple[Consultation, Standing]:
    consultation, standing = await access.load_scoped(
        session, caller, Consultation, consultation_id, Action.READ_CONSULTATIONS
    )
    access.require(caller, standing, Action.READ_CONSULTATIONS)
    return consultation, standing


async def get_consultation(
    uow: UnitOfWork, caller: Principal, *, consultation_id: UUID
) -> ConsultationRead:
    async with uow.reading() as session:
        consultation, _ = await readable(session, caller, consultation_id)
        (found,) = await views(session, [consultation])
    return found


async def list_consultations(
    uow: UnitOfWork,
    caller: Principal,
    *,
    dialogue_id: UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
    awaiting_side: str | None = None,
) -> tuple[list[ConsultationRead], str | None]:
    async with uow.reading() as session:
        await access.permitted(session, caller, dialogue_id, Action.READ_CONSULTATIONS)
        query = repository.in_dialogue(dialogue_id, status, awaiting_side)
        rows, next_cursor = await paginate(session, query, Consultation, limit=limit, cursor=cursor)
        return await views(session, rows), next_cursor


async def list_messages(
    uow: UnitOfWork,
    caller: Principal,
    *,
    consultation_id: UUID,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> tuple[list[MessageRead], str | None]:
    async with uow.reading() as session:
        consultation, _ = await readable(session, caller, consultation_id)
        query = repository.messages_of(consultation.id)
        rows, next_cursor = await paginate(
            session, query, Message, limit=limit, cursor=cursor, newest_first=newest_first
        )
        receipts = await repository.receipts_by_side(session, consultation.id)
    return [message_view(m, receipts.get(OTHER_SIDE[m.side])) for m in rows], next_cursor


async def message_classifications(
    uow: UnitOfWork, caller: Principal, *, consultation_id: UUID
) -> list[str]:
    """The markings of all the consultation's messages, for a page showing only some of them."""
    async with uow.reading() as session:
        consultation, _ = await readable(session, caller, consultation_id)
        return await repository.classifications(session, consultation.id)


async def flag_overdue(uow: UnitOfWork, *, now: datetime | None = None) -> int:
    """Report each consultation whose awaited answer is past its deadline, once; the count."""
    now = now or utcnow()
    async with uow.as_actor(SYSTEM).transaction() as tx:
        due = await repository.due_for_overdue_notice(tx.session, now)
        for consultation in due:
            consultation.overdue_notified_at = now
        await tx.session.flush()
        for consultation, current in zip(due, await views(tx.session, due, now), strict=True):
            data = ResponseOverdue(
                consultation=current,
                awaiting_side=consultation.awaiting_side,
                response_due_at=consultation.response_due_at,
            )
            tx.emit("consultation.response_overdue", data, dialogue_id=consultation.dialogue_id)
            tx.audit(
                "consultation.response_overdue",
                consultation,
                details={
                    "awaiting_side": consultation.awaiting_side,
                    "response_due_at": iso(consultation.response_due_at),
                },
            )
    return len(due)
