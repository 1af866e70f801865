from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, Entity, JSONType

ORG_KINDS = ("licensing_authority", "counterpart_ministry", "observer")


class Organization(Entity):
    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('licensing_authority', 'counterpart_ministry', 'observer')", name="kind"
        ),
    )

    code: Mapped[str] = mapped_column(String(32))
    # NFKC + casefold of the code: "ca-gac" and "CA-GAC" are one organization.
    code_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(32))
    is_host: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class User(Entity):
    __tablename__ = "app_user"
    __table_args__ = (
        UniqueConstraint("external_issuer", "external_subject"),
        Index("ix_app_user_organization_id_created_at", "organization_id", "created_at", "id"),
    )

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    username: Mapped[str] = mapped_column(String(150))
    username_key: Mapped[str] = mapped_column(String(300), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(default=True)
    external_issuer: Mapped[str | None] = mapped_column(String(500))
    external_subject: Mapped[str | None] = mapped_column(String(255))


class ApiClient(Entity):
    __tablename__ = "api_client"
    __table_args__ = (
        Index("ix_api_client_organization_id_created_at", "organization_id", "created_at", "id"),
    )

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_digest: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(default=True)


class Dialogue(Entity):
    __tablename__ = "dialogue"
    __table_args__ = (
        CheckConstraint("authority_id <> counterpart_id", name="two_parties"),
        Index("ix_dialogue_authority_id_created_at", "authority_id", "created_at", "id"),
        Index("ix_dialogue_counterpart_id_created_at", "counterpart_id", "created_at", "id"),
    )

    title: Mapped[str] = mapped_column(String(200))
    authority_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    counterpart_id: Mapped[UUID] = mapped_column(ForeignKey("organization.id"))
    created_by: Mapped[UUID | None]

    @property
    def audit_dialogue_id(self) -> UUID:
        return self.id


class DialogueObserver(Base):
    __tablename__ = "dialogue_observer"

    dialogue_id: Mapped[UUID] = mapped_column(ForeignKey("dialogue.id"), primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(
        ForeignKey("organization.id"), primary_key=True, index=True
    )
    added_at: Mapped[datetime]


class SigninThrottle(Base):
    """Recent failed sign-ins per normalized username (or client id), shared by all replicas."""

    __tablename__ = "signin_throttle"

    key: Mapped[str] = mapped_column(String(320), primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
