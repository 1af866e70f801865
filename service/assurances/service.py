"""Use cases for end-use assurances: the state machine of SPEC section 3.

requested (authority) → submitted (counterpart) → accepted | rejected (authority);
submitted → withdrawn (counterpart). ``breached`` is reached only through an issued notice
(``service.notices``), so nothing here offers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from service.api.pagination import paginate
from service.assurances import repository
from service.assurances.models import AssurancePermit, EndUseAssurance
from service.assurances.schemas import (
    AssuranceFields,
    AssuranceRead,
    AssuranceRequest,
    AssuranceSubmit,
    SignatoryRead,
)
from service.auth.principal import Principal
from service.db import utcnow
from service.dialogue import access
from service.dialogue.access import Action, Side, Standing
from service.errors import InvalidInput, StateConflict
from service.uow import Transaction, UnitOfWork


@dataclass(frozen=True)
class Step:
    """One transition: who may take it (by action), from which status, to which."""

    action: Action
    from_status: str
    to_status: str

    @property
    def event(self) -> str:
        return f"assurance.{self.to_status}"


SUBMIT = Step(Action.SUBMIT_ASSURANCE, "requested", "submitted")
ACCEPT = Step(Action.DECIDE_ASSURANCE, "submitted", "accepted")
REJECT = Step(Action.DECIDE_ASSURANCE, "submitted", "rejected")
WITHDRAW = Step(Action.SUBMIT_ASSURANCE, "submitted", "withdrawn")


def view(assurance: EndUseAssurance, permit_ids: Sequence[UUID]) -> AssuranceRead:
    """The API's (and the events') form of an assurance row and the permits it covers."""
    fields = {name: getattr(assurance, name, None) for name in AssuranceRead.model_fields}
    fields["permit_ids"] = list(permit_ids)
    fields["signatory"] = SignatoryRead(
        name=assurance.signatory_name, title=assurance.signatory_title
    )
    return AssuranceRead.model_validate(fields)


async def read(session: AsyncSession, assurance: EndUseAssurance) -> AssuranceRead:
    permit_ids = await repository.permit_ids_of(session, [assurance.id])
    return view(assurance, permit_ids[assurance.id])


async def record(
    tx: Transaction, assurance: EndUseAssurance, event: str, details: dict[str, Any]
) -> AssuranceRead:
    """The change's audit entry and outbox event, in the change's own transaction."""
    await tx.session.flush()
    data = await read(tx.session, assurance)
    tx.audit(event, assurance, details=details)
    tx.emit(event, data, dialogue_id=assurance.dialogue_id)
    return data


async def create(
    uow: UnitOfWork,
    caller: Principal,
    *,
    dialogue_id: UUID,
    data: AssuranceRequest | AssuranceSubmit,
) -> AssuranceRead:
    """The authority requests an assurance; the counterpart submits one unasked."""
    async with uow.transaction() as tx:
        found = await access.standing_for_reading(
            tx.session, caller, dialogue_id, Action.READ_ASSURANCES
        )
        if found.side is Side.AUTHORITY:
            access.require(caller, found, Action.REQUEST_ASSURANCE)
            if not isinstance(data, AssuranceRequest):
                raise InvalidInput("The authority requests an assurance: {permit_ids, due_at}.")
            return await add_request(tx, caller, found, data)
        access.require(caller, found, Action.SUBMIT_ASSURANCE)
        if not isinstance(data, AssuranceSubmit):
            raise InvalidInput("The counterpart submits the full assurance, not a request.")
        return await add_submission(tx, caller, found, data)


async def add_request(
    tx: Transaction, caller: Principal, found: Standing, data: AssuranceRequest
) -> AssuranceRead:
    check_due_at(data.due_at)
    permit_ids = await checked_permits(tx.session, found.dialogue.id, data.permit_ids)
    now = utcnow()
    assurance = EndUseAssurance(
        dialogue_id=found.dialogue.id,
        status="requested",
        requested_by=caller.id,
        requested_at=now,
        due_at=data.due_at,
        updated_at=now,
    )
    await add_with_permits(tx.session, assurance, permit_ids)
    details = {"permit_ids": [str(p) for p in permit_ids], "due_at": data.due_at.isoformat()}
    return await record(tx, assurance, "assurance.requested", details)


async def add_submission(
    tx: Transaction, caller: Principal, found: Standing, data: AssuranceSubmit
) -> AssuranceRead:
    check_certificate(data)
    permit_ids = await checked_permits(tx.session, found.dialogue.id, data.permit_ids)
    now = utcnow()
    assurance = EndUseAssurance(dialogue_id=found.dialogue.id, status="submitted", updated_at=now)
    fill_certificate(assurance, caller, data, now)
    await add_with_permits(tx.session, assurance, permit_ids)
    details = submission_details(data) | {"permit_ids": [str(p) for p in permit_ids]}
    return await record(tx, assurance, "assurance.submitted", details | {"requested": False})


async def add_with_permits(
    session: AsyncSession, assurance: EndUseAssurance, permit_ids: list[UUID]
) -> None:
    session.add(assurance)
    await session.flush()  # the links' foreign key needs the assurance row first
    session.add_all(AssurancePermit(assurance_id=assurance.id, permit_id=p) for p in permit_ids)


def check_due_at(due_at: datetime) -> None:
    if due_at.tzinfo is None:
        raise InvalidInput("due_at needs a time zone (RFC 3339, e.g. 2030-01-31T17:00:00Z).")
    if due_at <= utcnow():
        raise InvalidInput("due_at must be in the future.")


def check_certificate(data: AssuranceFields) -> None:
    if data.issue_date > data.valid_until:
        raise InvalidInput("The certificate's issue_date is after its valid_until.")


async def checked_permits(
    session: AsyncSession, dialogue_id: UUID, permit_ids: list[UUID]
) -> list[UUID]:
    """The permits, each once and each of this dialogue; otherwise 422 naming the odd ones."""
    repeated = sorted({str(p) for p in permit_ids if permit_ids.count(p) > 1})
    if repeated:
        raise InvalidInput(
            f"Permits listed more than once: {', '.join(repeated)}.", duplicate_permit_ids=repeated
        )
    known = await repository.permits_in_dialogue(session, dialogue_id, permit_ids)
    unknown = [str(p) for p in permit_ids if p not in known]
    if unknown:
        raise InvalidInput(
            f"No such permits in this dialogue: {', '.join(unknown)}.", unknown_permit_ids=unknown
        )
    return permit_ids


def fill_certificate(
    assurance: EndUseAssurance, caller: Principal, data: AssuranceFields, now: datetime
) -> None:
    for name, value in data.model_dump(exclude={"signatory", "permit_ids"}).items():
        setattr(assurance, name, value)
    assurance.signatory_name = data.signatory.name
    assurance.signatory_title = data.signatory.title
    assurance.submitted_by, assurance.submitted_at = caller.id, now


def submission_details(data: AssuranceFields) -> dict[str, Any]:
    return {
        "register_number": data.register_number,
        "document_sha256": data.document_sha256,
        "signatory": data.signatory.model_dump(),
    }


async def locked_for(
    tx: Transaction, caller: Principal, assurance_id: UUID, step: Step
) -> EndUseAssurance:
    """The assurance, locked until COMMIT, if the caller may take ``step`` from its status."""
    assurance, found = await access.load_scoped(
        tx.session, caller, EndUseAssurance, assurance_id, step.action, for_update=True
    )
    access.require(caller, found, step.action)
    if assurance.status != step.from_status:
        raise StateConflict(
            f"The assurance is {assurance.status}; only a {step.from_status} assurance "
            f"can become {step.to_status}.",
            current_status=assurance.status,
        )
    return assurance


def move(assurance: EndUseAssurance, step: Step, now: datetime) -> dict[str, Any]:
    """Set the new status; the audit details of the move."""
    assurance.status, assurance.updated_at = step.to_status, now
    return {"from_status": step.from_status, "to_status": step.to_status}


async def submit(
    uow: UnitOfWork, caller: Principal, *, assurance_id: UUID, data: AssuranceFields
) -> AssuranceRead:
    """The counterpart answers the authority's request with the certificate."""
    check_certificate(data)
    async with uow.transaction() as tx:
        assurance = await locked_for(tx, caller, assurance_id, SUBMIT)
        now = utcnow()
        fill_certificate(assurance, caller, data, now)
        details = move(assurance, SUBMIT, now) | submission_details(data) | {"requested": True}
        return await record(tx, assurance, SUBMIT.event, details)


async def decide(
    uow: UnitOfWork, caller: Principal, *, assurance_id: UUID, step: Step, reason: str | None
) -> AssuranceRead:
    async with uow.transaction() as tx:
        assurance = await locked_for(tx, caller, assurance_id, step)
        now = utcnow()
        details = move(assurance, step, now)
        assurance.decided_by, assurance.decided_at = caller.id, now
        assurance.decision_reason = reason
        if reason is not None:
            details["reason"] = reason
        return await record(tx, assurance, step.event, details)


async def accept(uow: UnitOfWork, caller: Principal, *, assurance_id: UUID) -> AssuranceRead:
    return await decide(uow, caller, assurance_id=assurance_id, step=ACCEPT, reason=None)


async def reject(
    uow: UnitOfWork, caller: Principal, *, assurance_id: UUID, reason: str
) -> AssuranceRead:
    return await decide(uow, caller, assurance_id=assurance_id, step=REJECT, reason=reason)


async def withdraw(uow: UnitOfWork, caller: Principal, *, assurance_id: UUID) -> AssuranceRead:
    async with uow.transaction() as tx:
        assurance = await locked_for(tx, caller, assurance_id, WITHDRAW)
        details = move(assurance, WITHDRAW, utcnow())
        return await record(tx, assurance, WITHDRAW.event, details)


async def get(uow: UnitOfWork, caller: Principal, *, assurance_id: UUID) -> AssuranceRead:
    async with uow.reading() as session:
        assurance, found = await access.load_scoped(
            session, caller, EndUseAssurance, assurance_id, Action.READ_ASSURANCES
        )
        access.require(caller, found, Action.READ_ASSURANCES)
        return await read(session, assurance)


async def list_assurances(
    uow: UnitOfWork,
    caller: Principal,
    *,
    dialogue_id: UUID,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[AssuranceRead], str | None]:
    async with uow.reading() as session:
        await access.permitted(session, caller, dialogue_id, Action.READ_ASSURANCES)
        query = repository.in_dialogue(dialogue_id, status)
        rows, next_cursor = await paginate(
            session, query, EndUseAssurance, limit=limit, cursor=cursor
        )
        permit_ids = await repository.permit_ids_of(session, [row.id for row in rows])
    return [view(row, permit_ids[row.id]) for row in rows], next_cursor
