"""The bare write: verify the token, then the three inserts of a posted message in one transaction.

``POST /write/consultations/{id}/messages`` writes what the project's ``post_message`` writes:

1. the ``consultation_message`` row (same columns, the body's SHA-256);
2. the ``audit_entry`` row, numbered and chained after ``audit_head`` (``UPDATE ... RETURNING``
   takes the head's row lock as the project's ``SELECT ... FOR UPDATE`` does), its canonical JSON
   and hash by the project's own ``service.audit.chain``, then the head moved on;
3. the ``outbox_event`` row, numbered after ``outbox_head`` the same way.

What it leaves out, on purpose (the least the write needs): no access check or row lock on the
consultation, no read of its links and receipts for the event payload (the event carries the
message only), no ``NOTIFY``, no idempotency, request-id or metrics middleware. The few facts a
message needs beyond the token (the consultation's dialogue, the caller's side and username) are
read once per consultation and user, then kept in memory.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.bare.common import Claims, Engine, writer
from service.audit.chain import canonical, link
from service.audit.models import AuditEntry, AuditHead
from service.consultations.models import Consultation, Message
from service.events.models import OutboxEvent, OutboxHead
from service.parties.models import Dialogue, User

router = APIRouter()
ACTION = "consultation.message_posted"
AUDIT_HEAD = AuditHead.__table__
OUTBOX_HEAD = OutboxHead.__table__
NEXT_AUDIT = (
    update(AUDIT_HEAD)
    .where(AUDIT_HEAD.c.id == 1)
    .values(seq=AUDIT_HEAD.c.seq + 1)
    .returning(AUDIT_HEAD.c.seq, AUDIT_HEAD.c.hash)
)
MOVE_AUDIT = update(AUDIT_HEAD).where(AUDIT_HEAD.c.id == 1)
NEXT_OUTBOX = (
    update(OUTBOX_HEAD)
    .where(OUTBOX_HEAD.c.id == 1)
    .values(seq=OUTBOX_HEAD.c.seq + 1)
    .returning(OUTBOX_HEAD.c.seq)
)
known: dict[tuple[UUID, UUID, UUID], dict[str, Any]] = {}


class Posted(BaseModel):
    body: str
    classification: str = "UNCLASSIFIED"


async def facts(conn: AsyncConnection, consultation_id: UUID, user_id: UUID, org_id: UUID) -> dict:
    """The dialogue, the caller's side and username: read once, then remembered."""
    key = (consultation_id, user_id, org_id)
    if key not in known:
        c, d, u = Consultation.__table__, Dialogue.__table__, User.__table__
        query = select(c.c.dialogue_id, d.c.authority_id).join(d, d.c.id == c.c.dialogue_id)
        dialogue_id, authority_id = (
            await conn.execute(query.where(c.c.id == consultation_id))
        ).one()
        username = await conn.scalar(select(u.c.username).where(u.c.id == user_id))
        side = "authority" if org_id == authority_id else "counterpart"
        known[key] = {"dialogue_id": dialogue_id, "side": side, "author_name": username}
    return known[key]


def message_row(consultation_id: UUID, claims: dict, found: dict, posted: Posted) -> dict:
    return {
        "id": uuid.uuid4(),
        "created_at": datetime.now(UTC),
        "consultation_id": consultation_id,
        "author_id": UUID(claims["sub"].partition(":")[2]),
        "author_org_id": UUID(claims["org"]),
        "body": posted.body,
        "classification": posted.classification,
        "sha256": hashlib.sha256(posted.body.encode()).hexdigest(),
        "response_requested_by": None,
        **found,
    }


def audit_row(seq: int, prev_hash: str, message: dict) -> dict:
    entry = {
        "seq": seq,
        "at": message["created_at"],
        "actor_type": "user",
        "actor_id": message["author_id"],
        "actor_name": message["author_name"],
        "org_id": message["author_org_id"],
        "action": ACTION,
        "entity_type": "consultation_message",
        "entity_id": str(message["id"]),
        "dialogue_id": message["dialogue_id"],
        "request_id": uuid.uuid4().hex,
        "client_addr": "127.0.0.1",
        "details": {
            "consultation_id": str(message["consultation_id"]),
            "sha256": message["sha256"],
            "classification": message["classification"],
            "side": message["side"],
            "response_requested_by": None,
        },
    }
    text = canonical(SimpleNamespace(**entry)).decode()
    return {"seq": seq, "prev_hash": prev_hash, "canonical": text, "hash": link(prev_hash, text)}


def outbox_row(seq: int, message: dict) -> dict:
    data = {key: str(value) for key, value in message.items() if value is not None}
    return {
        "id": uuid.uuid4(),
        "seq": seq,
        "type": ACTION,
        "occurred_at": message["created_at"],
        "dialogue_id": message["dialogue_id"],
        "organization_id": None,
        "data": {"message": data},
    }


@router.post("/write/consultations/{consultation_id}/messages", status_code=201)
async def post_message(
    consultation_id: UUID, posted: Posted, claims: Claims, engine: Engine
) -> dict[str, str]:
    user_id, org_id = UUID(claims["sub"].partition(":")[2]), UUID(claims["org"])
    async with writer(engine) as conn:
        found = await facts(conn, consultation_id, user_id, org_id)
        message = message_row(consultation_id, claims, found, posted)
        await conn.execute(insert(Message.__table__), message)
        seq, prev_hash = (await conn.execute(NEXT_AUDIT)).one()
        entry = audit_row(seq, prev_hash, message)
        await conn.execute(insert(AuditEntry.__table__), entry)
        await conn.execute(MOVE_AUDIT.values(hash=entry["hash"]))
        outbox_seq = (await conn.execute(NEXT_OUTBOX)).scalar_one()
        await conn.execute(insert(OutboxEvent.__table__), outbox_row(outbox_seq, message))
    return {"id": str(message["id"]), "sha256": message["sha256"]}
