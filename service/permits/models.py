from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Entity, JSONType
from service.dialogue.models import DialogueScoped

PERMIT_STATUSES = ("active", "suspended", "cancelled", "expired")


class Permit(DialogueScoped):
    __tablename__ = "permit"
    __table_args__ = (
        # A permit number is unique per licensing authority (SPEC section 3).
        UniqueConstraint("authority_id", "number_key"),
        CheckConstraint("status IN ('active', 'suspended', 'cancelled', 'expired')", name="status"),
        CheckConstraint("valid_from <= valid_until", name="validity"),
        Index("ix_permit_dialogue_id_created_at", "dialogue_id", "created_at", "id"),
        Index("ix_permit_status_valid_until", "status", "valid_until"),
    )

    authority_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    number: Mapped[str] = mapped_column(String(64))
    number_key: Mapped[str] = mapped_column(String(128))
    exporter: Mapped[str] = mapped_column(String(200))
    consignee: Mapped[str] = mapped_column(String(200))
    end_user: Mapped[str] = mapped_column(String(200))
    destination_country: Mapped[str] = mapped_column(String(2))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    registered_by: Mapped[UUID | None]


class PermitStatusChange(Entity):
    """One step of a permit's history, with the notice that caused it (none for expiry)."""

    __tablename__ = "permit_status_change"
    __table_args__ = (Index("ix_permit_status_change_permit_id_at", "permit_id", "at", "id"),)

    permit_id: Mapped[UUID] = mapped_column(ForeignKey("permit.id"))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    notice_id: Mapped[UUID | None] = mapped_column(ForeignKey("decision_notice.id"))
    at: Mapped[datetime]
