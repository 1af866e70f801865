"""identity, dialogues and the audit trail

Revision ID: 0001
Revises:
Create Date: 2026-11-26 23:56:26.154943
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
GENESIS_HASH = "0" * 64

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("org_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity_type", sa.String(length=60), nullable=True),
        sa.Column("entity_id", sa.String(length=200), nullable=True),
        sa.Column("dialogue_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entry_hash")),
    )
    op.create_index("ix_audit_entry_action_seq", "audit_entry", ["action", "seq"], unique=False)
    op.create_index("ix_audit_entry_actor_id_seq", "audit_entry", ["actor_id", "seq"], unique=False)
    op.create_index(
        "ix_audit_entry_dialogue_id_seq", "audit_entry", ["dialogue_id", "seq"], unique=False
    )
    op.create_index("ix_audit_entry_org_id_seq", "audit_entry", ["org_id", "seq"], unique=False)

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    audit_head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    op.create_table(
        "idempotency_record",
        sa.Column("principal_key", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("principal_key", "key", name=op.f("pk_idempotency_record")),
    )
    op.create_index(
        op.f("ix_idempotency_record_created_at"), "idempotency_record", ["created_at"], unique=False
    )

    op.create_table(
        "organization",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("code_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("is_host", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('licensing_authority', 'counterpart_ministry', 'observer')",
            name=op.f("ck_organization_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("code_key", name=op.f("uq_organization_code_key")),
    )
    op.create_table(
        "signin_throttle",
        sa.Column("key", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signin_throttle")),
    )
    op.create_table(
        "api_client",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_api_client_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_client_client_id")),
    )
    op.create_index(
        "ix_api_client_organization_id_created_at",
        "api_client",
        ["organization_id", "created_at", "id"],
        unique=False,
    )

    op.create_table(
        "app_user",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("username_key", sa.String(length=300), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("external_issuer", sa.String(length=500), nullable=True),
        sa.Column("external_subject", sa.String(length=255), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_app_user_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint(
            "external_issuer",
            "external_subject",
            name=op.f("uq_app_user_external_issuer_external_subject"),
        ),
        sa.UniqueConstraint("username_key", name=op.f("uq_app_user_username_key")),
    )
    op.create_index(
        "ix_app_user_organization_id_created_at",
        "app_user",
        ["organization_id", "created_at", "id"],
        unique=False,
    )

    op.create_table(
        "dialogue",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("authority_id", sa.Uuid(), nullable=False),
        sa.Column("counterpart_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("authority_id <> counterpart_id", name=op.f("ck_dialogue_two_parties")),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["organization.id"],
            name=op.f("fk_dialogue_authority_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["counterpart_id"],
            ["organization.id"],
            name=op.f("fk_dialogue_counterpart_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialogue")),
    )
    op.create_index(
        "ix_dialogue_authority_id_created_at",
        "dialogue",
        ["authority_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_dialogue_counterpart_id_created_at",
        "dialogue",
        ["counterpart_id", "created_at", "id"],
        unique=False,
    )

    op.create_table(
        "dialogue_observer",
        sa.Column("dialogue_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dialogue_id"], ["dialogue.id"], name=op.f("fk_dialogue_observer_dialogue_id_dialogue")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_dialogue_observer_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint(
            "dialogue_id", "organization_id", name=op.f("pk_dialogue_observer")
        ),
    )
    op.create_index(
        op.f("ix_dialogue_observer_organization_id"),
        "dialogue_observer",
        ["organization_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dialogue_observer_organization_id"), table_name="dialogue_observer")
    op.drop_table("dialogue_observer")
    op.drop_index("ix_dialogue_counterpart_id_created_at", table_name="dialogue")
    op.drop_index("ix_dialogue_authority_id_created_at", table_name="dialogue")
    op.drop_table("dialogue")
    op.drop_index("ix_app_user_organization_id_created_at", table_name="app_user")
    op.drop_table("app_user")
    op.drop_index("ix_api_client_organization_id_created_at", table_name="api_client")
    op.drop_table("api_client")
    op.drop_table("signin_throttle")
    op.drop_table("organization")
    op.drop_index(op.f("ix_idempotency_record_created_at"), table_name="idempotency_record")
    op.drop_table("idempotency_record")
    op.drop_table("audit_head")
    op.drop_index("ix_audit_entry_org_id_seq", table_name="audit_entry")
    op.drop_index("ix_audit_entry_dialogue_id_seq", table_name="audit_entry")
    op.drop_index("ix_audit_entry_actor_id_seq", table_name="audit_entry")
    op.drop_index("ix_audit_entry_action_seq", table_name="audit_entry")
    op.drop_table("audit_entry")
