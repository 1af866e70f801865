from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, Entity
from service.dialogue.models import DialogueScoped


class Consultation(DialogueScoped):
    __tablename__ = "consultation"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'awaiting_response', 'closed')", name="status"),
        CheckConstraint(
            "topic IN ('end_use_inquiry', 'allegation', 'pre_licensing', 'general')", name="topic"
        ),
        Index("ix_consultation_dialogue_id_created_at", "dialogue_id", "created_at", "id"),
        Index(
            "ix_consultation_dialogue_id_status_created_at",
            "dialogue_id",
            "status",
            "created_at",
            "id",
        ),
        Index("ix_consultation_status_response_due_at", "status", "response_due_at"),
    )

    subject: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), default="open")
    opened_by: Mapped[UUID | None]
    opened_by_side: Mapped[str] = mapped_column(String(16))
    # The side whose answer is awaited, and until when (set by a message's response_requested_by).
    awaiting_side: Mapped[str | None] = mapped_column(String(16))
    response_due_at: Mapped[datetime | None]
    overdue_notified_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    closed_by: Mapped[UUID | None]
    closed_at: Mapped[datetime | None]


class ConsultationPermit(Base):
    __tablename__ = "consultation_permit"

    consultation_id: Mapped[UUID] = mapped_column(ForeignKey("consultation.id"), primary_key=True)
    permit_id: Mapped[UUID] = mapped_column(ForeignKey("permit.id"), primary_key=True)


class ConsultationAssurance(Base):
    __tablename__ = "consultation_assurance"

    consultation_id: Mapped[UUID] = mapped_column(ForeignKey("consultation.id"), primary_key=True)
    assurance_id: Mapped[UUID] = mapped_column(ForeignKey("end_use_assurance.id"), primary_key=True)


class Message(Entity):
    """Immutable: a correction is a new message."""

    __tablename__ = "consultation_message"
    __table_args__ = (
        Index("ix_consultation_message_consultation_id_created_at",
              "consultation_id", "created_at", "id"),
    )  # fmt: skip

    consultation_id: Mapped[UUID] = mapped_column(ForeignKey("consultation.id"))
    dialogue_id: Mapped[UUID] = mapped_column(ForeignKey("dialogue.id"))
    author_id: Mapped[UUID]
    author_name: Mapped[str] = mapped_column(String(150))
    author_org_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    side: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(40), default="UNCLASSIFIED")
    sha256: Mapped[str] = mapped_column(String(64))
    response_requested_by: Mapped[datetime | None]

    @property
    def audit_dialogue_id(self) -> UUID:
        return self.dialogue_id


class ReadReceipt(Base):
    """How far each side has read a consultation, and who read it last."""

    __tablename__ = "consultation_read"

    consultation_id: Mapped[UUID] = mapped_column(ForeignKey("consultation.id"), primary_key=True)
    side: Mapped[str] = mapped_column(String(16), primary_key=True)
    read_up_to: Mapped[datetime]
    read_by: Mapped[UUID]
    read_at: Mapped[datetime]
