from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONType
from service.dialogue.models import DialogueScoped


class DecisionNotice(DialogueScoped):
    __tablename__ = "decision_notice"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'issued', 'acknowledged')", name="status"),
        CheckConstraint(
            "kind IN ('suspension', 'cancellation', 'reinstatement', 'general')", name="kind"
        ),
        Index("ix_decision_notice_dialogue_id_created_at", "dialogue_id", "created_at", "id"),
        Index(
            "ix_decision_notice_dialogue_id_status_created_at",
            "dialogue_id",
            "status",
            "created_at",
            "id",
        ),
    )

    reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    summary: Mapped[str] = mapped_column(String(500))
    rationale: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(String(1000))
    classification: Mapped[str] = mapped_column(String(40), default="UNCLASSIFIED")
    supersedes_id: Mapped[UUID | None] = mapped_column(ForeignKey("decision_notice.id"))
    drafted_by: Mapped[UUID]
    # Everyone who wrote or changed the draft: none of them may issue it (four-eyes).
    author_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    issued_by: Mapped[UUID | None]
    issued_at: Mapped[datetime | None]
    acknowledged_by: Mapped[UUID | None]
    acknowledged_at: Mapped[datetime | None]
    # The compact JWS over the notice's canonical form, made once when it is issued.
    signed_jws: Mapped[str | None] = mapped_column(Text)


class NoticePermit(Base):
    __tablename__ = "notice_permit"

    notice_id: Mapped[UUID] = mapped_column(ForeignKey("decision_notice.id"), primary_key=True)
    permit_id: Mapped[UUID] = mapped_column(ForeignKey("permit.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class NoticeBreachedAssurance(Base):
    __tablename__ = "notice_breached_assurance"

    notice_id: Mapped[UUID] = mapped_column(ForeignKey("decision_notice.id"), primary_key=True)
    assurance_id: Mapped[UUID] = mapped_column(ForeignKey("end_use_assurance.id"), primary_key=True)


class NoticeCounter(Base):
    """The last reference number per authority and year (``{CODE}-{YYYY}-{NNNN}``)."""

    __tablename__ = "notice_counter"

    authority_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)
