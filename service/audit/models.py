from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONType

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One audited fact. Rows are only ever inserted (nothing in the service updates them)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_dialogue_id_seq", "dialogue_id", "seq"),
        Index("ix_audit_entry_org_id_seq", "org_id", "seq"),
        Index("ix_audit_entry_actor_id_seq", "actor_id", "seq"),
        Index("ix_audit_entry_action_seq", "action", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    org_id: Mapped[UUID | None]
    action: Mapped[str] = mapped_column(String(80))
    entity_type: Mapped[str | None] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    dialogue_id: Mapped[UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The chain's tip: one row, locked by each appending transaction just before it commits."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
