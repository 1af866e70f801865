from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from service.db import Entity, utcnow


class DialogueScoped(Entity):
    """A row that lives in exactly one dialogue (permits, assurances, consultations, notices)."""

    __abstract__ = True

    @declared_attr
    def dialogue_id(cls) -> Mapped[UUID]:
        return mapped_column(ForeignKey("dialogue.id"))

    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def audit_dialogue_id(self) -> UUID:
        return self.dialogue_id
