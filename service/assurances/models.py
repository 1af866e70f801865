from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.dialogue.models import DialogueScoped

ASSURANCE_STATUSES = ("requested", "submitted", "accepted", "rejected", "withdrawn", "breached")


class EndUseAssurance(DialogueScoped):
    """An end-use assurance; the certificate fields are empty while it is only ``requested``."""

    __tablename__ = "end_use_assurance"
    __table_args__ = (
        CheckConstraint(
            "status IN ('requested', 'submitted', 'accepted', 'rejected', 'withdrawn', 'breached')",
            name="status",
        ),
        Index("ix_end_use_assurance_dialogue_id_created_at", "dialogue_id", "created_at", "id"),
    )

    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[UUID | None]
    requested_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    end_user: Mapped[str | None] = mapped_column(String(200))
    end_use: Mapped[str | None] = mapped_column(String(2000))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    retransfer_clause: Mapped[bool | None]
    valid_until: Mapped[date | None] = mapped_column(Date)
    signatory_name: Mapped[str | None] = mapped_column(String(200))
    signatory_title: Mapped[str | None] = mapped_column(String(200))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    register_number: Mapped[str | None] = mapped_column(String(100))
    issue_date: Mapped[date | None] = mapped_column(Date)
    consent_to_verification: Mapped[bool | None]
    submitted_by: Mapped[UUID | None]
    submitted_at: Mapped[datetime | None]
    decided_by: Mapped[UUID | None]
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(2000))
    breached_by_notice_id: Mapped[UUID | None]


class AssurancePermit(Base):
    __tablename__ = "assurance_permit"

    assurance_id: Mapped[UUID] = mapped_column(ForeignKey("end_use_assurance.id"), primary_key=True)
    permit_id: Mapped[UUID] = mapped_column(ForeignKey("permit.id"), primary_key=True, index=True)
