from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import BigInteger, CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, JSONType


class OutboxEvent(Base):
    """An event, written in the transaction of the change it reports (transactional outbox).

    ``seq`` is given at commit time under the ``outbox_head`` lock, so the order of ``seq`` is the
    order in which events became visible: a reader paging with ``after=<seq>`` never skips an
    event that commits late.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_dialogue_id_seq", "dialogue_id", "seq"),
        Index("ix_outbox_event_organization_id_seq", "organization_id", "seq"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    dialogue_id: Mapped[UUID | None]
    # Set for events addressed to one organization rather than to a dialogue's parties.
    organization_id: Mapped[UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class OutboxHead(Base):
    __tablename__ = "outbox_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
