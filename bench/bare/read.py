"""Bare reads: a diplomat's inbox and a page of a consultation's messages, nothing more.

The same indexed queries the project runs (keyset pagination over ``(created_at, id)``, pages of
50, the inbox's awaiting consultations, notices to acknowledge and latest events), on Core
tables through one connection, after an ES256 token check. No ORM, no principal loaded from the
database, no audit, no HTML: only what the read itself costs.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException
from sqlalchemy import and_, exists, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.bare.common import Claims, Engine
from service.api.pagination import decode_cursor, encode_cursor
from service.consultations.models import Consultation, Message, ReadReceipt
from service.events.models import OutboxEvent
from service.notices.models import DecisionNotice
from service.parties.models import Dialogue, DialogueObserver

router = APIRouter(prefix="/bare/read")
PAGE, MAX, ACTIVITY = 50, 200, 15
C, M, R = Consultation.__table__, Message.__table__, ReadReceipt.__table__
D, E, N = Dialogue.__table__, OutboxEvent.__table__, DecisionNotice.__table__
OTHER_SIDE = {"authority": "counterpart", "counterpart": "authority"}


def side_of(org: UUID, dialogue: Any) -> str:
    if dialogue.authority_id == org:
        return "authority"
    return "counterpart" if dialogue.counterpart_id == org else "observer"


async def dialogues(conn: AsyncConnection, org: UUID) -> list[Any]:
    observed = exists().where(
        DialogueObserver.dialogue_id == D.c.id, DialogueObserver.organization_id == org
    )
    query = select(D).where(or_(D.c.authority_id == org, D.c.counterpart_id == org, observed))
    query = query.order_by(D.c.created_at, D.c.id).limit(MAX + 1)
    return list((await conn.execute(query)).all())


async def awaiting(conn: AsyncConnection, dialogue_id: UUID, side: str) -> list[dict[str, Any]]:
    query = (
        select(C)
        .where(
            C.c.dialogue_id == dialogue_id,
            C.c.status == "awaiting_response",
            C.c.awaiting_side == side,
        )
        .order_by(C.c.created_at, C.c.id)
        .limit(MAX + 1)
    )
    rows = (await conn.execute(query)).all()
    ids = [row.id for row in rows]
    receipts = (await conn.execute(select(R).where(R.c.consultation_id.in_(ids)))).all()
    return [
        {"id": str(row.id), "subject": row.subject, "due": str(row.response_due_at),
         "read": [str(r.read_up_to) for r in receipts if r.consultation_id == row.id]}
        for row in rows
    ]  # fmt: skip


async def to_acknowledge(conn: AsyncConnection, dialogue_id: UUID) -> list[dict[str, Any]]:
    query = (
        select(N.c.id, N.c.reference, N.c.summary, N.c.issued_at)
        .where(N.c.dialogue_id == dialogue_id, N.c.status == "issued")
        .order_by(N.c.created_at, N.c.id)
        .limit(MAX + 1)
    )
    return [{"id": str(n.id), "reference": n.reference} for n in await conn.execute(query)]


async def activity(conn: AsyncConnection, org: UUID, dialogue_ids: list[UUID]) -> list[str]:
    query = (
        select(E.c.seq, E.c.type, E.c.occurred_at)
        .where(or_(E.c.dialogue_id.in_(dialogue_ids), E.c.organization_id == org))
        .order_by(E.c.seq.desc())
        .limit(ACTIVITY)
    )
    return [f"{e.occurred_at} {e.type}" for e in await conn.execute(query)]


@router.get("/inbox")
async def inbox(claims: Claims, engine: Engine) -> dict[str, Any]:
    org = UUID(claims["org"])
    found: dict[str, Any] = {"awaiting": [], "to_acknowledge": []}
    async with engine.connect() as conn:
        parties = [(d, side_of(org, d)) for d in await dialogues(conn, org)]
        for dialogue, side in parties:
            if side != "observer":
                found["awaiting"] += await awaiting(conn, dialogue.id, side)
            if side == "counterpart":
                found["to_acknowledge"] += await to_acknowledge(conn, dialogue.id)
        party_ids = [d.id for d, side in parties if side != "observer"]
        found["activity"] = await activity(conn, org, party_ids)
    return found


async def readable(conn: AsyncConnection, consultation_id: UUID, org: UUID) -> bool:
    party = or_(D.c.authority_id == org, D.c.counterpart_id == org)
    query = select(C.c.id).join(D, D.c.id == C.c.dialogue_id)
    return bool(await conn.scalar(query.where(and_(C.c.id == consultation_id, party))))


def page_query(consultation_id: UUID, cursor: str | None) -> Any:
    query = select(M).where(M.c.consultation_id == consultation_id)
    if cursor:
        query = query.where(tuple_(M.c.created_at, M.c.id) > tuple_(*decode_cursor(cursor)))
    return query.order_by(M.c.created_at, M.c.id).limit(PAGE + 1)


@router.get("/consultations/{consultation_id}/messages")
async def messages(
    consultation_id: UUID, claims: Claims, engine: Engine, cursor: str | None = None
) -> dict[str, Any]:
    async with engine.connect() as conn:
        if not await readable(conn, consultation_id, UUID(claims["org"])):
            raise HTTPException(404, "no such consultation")
        rows = (await conn.execute(page_query(consultation_id, cursor))).all()
        receipts = await conn.execute(select(R).where(R.c.consultation_id == consultation_id))
        read_up_to = {r.side: r.read_up_to for r in receipts}
    items = [message(row, read_up_to.get(OTHER_SIDE[row.side])) for row in rows[:PAGE]]
    last = rows[PAGE - 1] if len(rows) > PAGE else None
    return {"items": items, "next_cursor": last and encode_cursor(last.created_at, last.id)}


def message(row: Any, other_read: Any) -> dict[str, Any]:
    return {
        "id": str(row.id), "body": row.body, "side": row.side, "sha256": row.sha256,
        "author_name": row.author_name, "created_at": row.created_at.isoformat(),
        "read_by_other_side": other_read is not None and row.created_at <= other_read,
    }  # fmt: skip
