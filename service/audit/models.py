"""The audit trail's tables.

An entry stores the exact bytes its hash covers: ``canonical``, the canonical JSON of the entry
(``audit.chain``), and ``hash = SHA-256(prev_hash ‖ canonical)``. Every other column is generated
by the database from ``canonical``, so the columns that are read, filtered and indexed can never
disagree with what was hashed, and verifying the chain needs only the stored bytes
(``audit.stored``). Migration 0007 defines the columns; ``FromCanonical`` renders the same
expressions, so the models and the migrated schema compare equal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, Computed, Index, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement

from service.db import Base, JSONType

GENESIS_HASH = "0" * 64


class FromCanonical(ColumnElement[Any]):
    """The SQL that reads one field of ``canonical`` as its column's type (text, time, UUID or
    JSON), on SQLite (virtual columns) and PostgreSQL (stored columns)."""

    inherit_cache = True

    def __init__(self, field: str, kind: str = "text") -> None:
        self.field, self.kind = field, kind


@compiles(FromCanonical, "sqlite")
def sqlite_field(element: FromCanonical, compiler: SQLCompiler, **kw: Any) -> str:
    value = f"json_extract(canonical, '$.{element.field}')"
    if element.kind == "time":  # 2026-11-27T10:00:00.000000Z as SQLite stores times
        return f"substr({value}, 1, 10) || ' ' || substr({value}, 12, 15)"
    if element.kind == "uuid":  # SQLite stores UUIDs as 32 hex digits
        return f"replace({value}, '-', '')"
    return value


@compiles(FromCanonical, "postgresql")
def postgres_field(element: FromCanonical, compiler: SQLCompiler, **kw: Any) -> str:
    if element.kind == "json":
        return f"(canonical::jsonb -> '{element.field}')"
    value = f"(canonical::jsonb ->> '{element.field}')"
    if element.kind == "time":
        return f"entente_utc_time{value}"
    if element.kind == "uuid":
        return f"{value}::uuid"
    return value


def generated(field: str, kind: str = "text") -> Computed:
    return Computed(FromCanonical(field, kind))


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
    prev_hash: Mapped[str] = mapped_column(String(64))
    canonical: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(generated("at", "time"))
    actor_type: Mapped[str] = mapped_column(String(16), generated("actor_type"))
    actor_id: Mapped[UUID | None] = mapped_column(generated("actor_id", "uuid"))
    actor_name: Mapped[str | None] = mapped_column(String(200), generated("actor_name"))
    org_id: Mapped[UUID | None] = mapped_column(generated("org_id", "uuid"))
    action: Mapped[str] = mapped_column(String(80), generated("action"))
    entity_type: Mapped[str | None] = mapped_column(String(60), generated("entity_type"))
    entity_id: Mapped[str | None] = mapped_column(String(200), generated("entity_id"))
    dialogue_id: Mapped[UUID | None] = mapped_column(generated("dialogue_id", "uuid"))
    request_id: Mapped[str | None] = mapped_column(String(64), generated("request_id"))
    client_addr: Mapped[str | None] = mapped_column(String(64), generated("client_addr"))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, generated("details", "json"))


class AuditHead(Base):
    """The chain's tip: one row, locked by each appending transaction just before it commits."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
