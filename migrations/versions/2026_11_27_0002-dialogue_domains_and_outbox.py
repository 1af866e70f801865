"""permits, assurances, consultations, notices, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:40:38.819410
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialogue_id", sa.Uuid(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("seq", name=op.f("uq_outbox_event_seq")),
    )
    op.create_index(
        "ix_outbox_event_dialogue_id_seq", "outbox_event", ["dialogue_id", "seq"], unique=False
    )

    op.create_table(
        "outbox_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_outbox_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_head")),
    )
    outbox_head = sa.table("outbox_head", sa.column("id"), sa.column("seq"))
    op.bulk_insert(outbox_head, [{"id": 1, "seq": 0}])
    op.create_table(
        "notice_counter",
        sa.Column("authority_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["organization.id"],
            name=op.f("fk_notice_counter_authority_id_organization"),
        ),
        sa.PrimaryKeyConstraint("authority_id", "year", name=op.f("pk_notice_counter")),
    )
    op.create_table(
        "consultation",
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("opened_by", sa.Uuid(), nullable=True),
        sa.Column("opened_by_side", sa.String(length=16), nullable=False),
        sa.Column("awaiting_side", sa.String(length=16), nullable=True),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closed_by", sa.Uuid(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialogue_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'awaiting_response', 'closed')", name=op.f("ck_consultation_status")
        ),
        sa.CheckConstraint(
            "topic IN ('end_use_inquiry', 'allegation', 'pre_licensing', 'general')",
            name=op.f("ck_consultation_topic"),
        ),
        sa.ForeignKeyConstraint(
            ["dialogue_id"], ["dialogue.id"], name=op.f("fk_consultation_dialogue_id_dialogue")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation")),
    )
    op.create_index(
        "ix_consultation_dialogue_id_created_at",
        "consultation",
        ["dialogue_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_consultation_status_response_due_at",
        "consultation",
        ["status", "response_due_at"],
        unique=False,
    )

    op.create_table(
        "decision_notice",
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.String(length=1000), nullable=False),
        sa.Column("classification", sa.String(length=40), nullable=False),
        sa.Column("supersedes_id", sa.Uuid(), nullable=True),
        sa.Column("drafted_by", sa.Uuid(), nullable=False),
        sa.Column("author_ids", JSON, nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_jws", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialogue_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('suspension', 'cancellation', 'reinstatement', 'general')",
            name=op.f("ck_decision_notice_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'issued', 'acknowledged')", name=op.f("ck_decision_notice_status")
        ),
        sa.ForeignKeyConstraint(
            ["dialogue_id"], ["dialogue.id"], name=op.f("fk_decision_notice_dialogue_id_dialogue")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["decision_notice.id"],
            name=op.f("fk_decision_notice_supersedes_id_decision_notice"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_notice")),
        sa.UniqueConstraint("reference", name=op.f("uq_decision_notice_reference")),
    )
    op.create_index(
        "ix_decision_notice_dialogue_id_created_at",
        "decision_notice",
        ["dialogue_id", "created_at", "id"],
        unique=False,
    )

    op.create_table(
        "end_use_assurance",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_user", sa.String(length=200), nullable=True),
        sa.Column("end_use", sa.String(length=2000), nullable=True),
        sa.Column("destination_country", sa.String(length=2), nullable=True),
        sa.Column("retransfer_clause", sa.Boolean(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("signatory_name", sa.String(length=200), nullable=True),
        sa.Column("signatory_title", sa.String(length=200), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("register_number", sa.String(length=100), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("consent_to_verification", sa.Boolean(), nullable=True),
        sa.Column("submitted_by", sa.Uuid(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("breached_by_notice_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialogue_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'submitted', 'accepted', 'rejected', 'withdrawn', 'breached')",
            name=op.f("ck_end_use_assurance_status"),
        ),
        sa.ForeignKeyConstraint(
            ["dialogue_id"], ["dialogue.id"], name=op.f("fk_end_use_assurance_dialogue_id_dialogue")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_end_use_assurance")),
    )
    op.create_index(
        "ix_end_use_assurance_dialogue_id_created_at",
        "end_use_assurance",
        ["dialogue_id", "created_at", "id"],
        unique=False,
    )

    op.create_table(
        "permit",
        sa.Column("authority_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("number_key", sa.String(length=128), nullable=False),
        sa.Column("exporter", sa.String(length=200), nullable=False),
        sa.Column("consignee", sa.String(length=200), nullable=False),
        sa.Column("end_user", sa.String(length=200), nullable=False),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dialogue_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'suspended', 'cancelled', 'expired')",
            name=op.f("ck_permit_status"),
        ),
        sa.CheckConstraint("valid_from <= valid_until", name=op.f("ck_permit_validity")),
        sa.ForeignKeyConstraint(
            ["authority_id"], ["organization.id"], name=op.f("fk_permit_authority_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["dialogue_id"], ["dialogue.id"], name=op.f("fk_permit_dialogue_id_dialogue")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit")),
        sa.UniqueConstraint(
            "authority_id", "number_key", name=op.f("uq_permit_authority_id_number_key")
        ),
    )
    op.create_index(
        "ix_permit_dialogue_id_created_at",
        "permit",
        ["dialogue_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_permit_status_valid_until", "permit", ["status", "valid_until"], unique=False
    )

    op.create_table(
        "assurance_permit",
        sa.Column("assurance_id", sa.Uuid(), nullable=False),
        sa.Column("permit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assurance_id"],
            ["end_use_assurance.id"],
            name=op.f("fk_assurance_permit_assurance_id_end_use_assurance"),
        ),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["permit.id"], name=op.f("fk_assurance_permit_permit_id_permit")
        ),
        sa.PrimaryKeyConstraint("assurance_id", "permit_id", name=op.f("pk_assurance_permit")),
    )
    op.create_index(
        op.f("ix_assurance_permit_permit_id"), "assurance_permit", ["permit_id"], unique=False
    )

    op.create_table(
        "consultation_assurance",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("assurance_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assurance_id"],
            ["end_use_assurance.id"],
            name=op.f("fk_consultation_assurance_assurance_id_end_use_assurance"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_assurance_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "assurance_id", name=op.f("pk_consultation_assurance")
        ),
    )
    op.create_table(
        "consultation_message",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("dialogue_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("author_name", sa.String(length=150), nullable=False),
        sa.Column("author_org_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("classification", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("response_requested_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_org_id"],
            ["organization.id"],
            name=op.f("fk_consultation_message_author_org_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_message_consultation_id_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["dialogue_id"],
            ["dialogue.id"],
            name=op.f("fk_consultation_message_dialogue_id_dialogue"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_message")),
    )
    op.create_index(
        "ix_consultation_message_consultation_id_created_at",
        "consultation_message",
        ["consultation_id", "created_at", "id"],
        unique=False,
    )

    op.create_table(
        "consultation_permit",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("permit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_permit_consultation_id_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["permit.id"], name=op.f("fk_consultation_permit_permit_id_permit")
        ),
        sa.PrimaryKeyConstraint(
            "consultation_id", "permit_id", name=op.f("pk_consultation_permit")
        ),
    )
    op.create_table(
        "consultation_read",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("read_up_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_by", sa.Uuid(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_consultation_read_consultation_id_consultation"),
        ),
        sa.PrimaryKeyConstraint("consultation_id", "side", name=op.f("pk_consultation_read")),
    )
    op.create_table(
        "notice_breached_assurance",
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("assurance_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assurance_id"],
            ["end_use_assurance.id"],
            name=op.f("fk_notice_breached_assurance_assurance_id_end_use_assurance"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["decision_notice.id"],
            name=op.f("fk_notice_breached_assurance_notice_id_decision_notice"),
        ),
        sa.PrimaryKeyConstraint(
            "notice_id", "assurance_id", name=op.f("pk_notice_breached_assurance")
        ),
    )
    op.create_table(
        "notice_permit",
        sa.Column("notice_id", sa.Uuid(), nullable=False),
        sa.Column("permit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["decision_notice.id"],
            name=op.f("fk_notice_permit_notice_id_decision_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["permit.id"], name=op.f("fk_notice_permit_permit_id_permit")
        ),
        sa.PrimaryKeyConstraint("notice_id", "permit_id", name=op.f("pk_notice_permit")),
    )
    op.create_index(
        op.f("ix_notice_permit_permit_id"), "notice_permit", ["permit_id"], unique=False
    )

    op.create_table(
        "permit_status_change",
        sa.Column("permit_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["decision_notice.id"],
            name=op.f("fk_permit_status_change_notice_id_decision_notice"),
        ),
        sa.ForeignKeyConstraint(
            ["permit_id"], ["permit.id"], name=op.f("fk_permit_status_change_permit_id_permit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_status_change")),
    )
    op.create_index(
        "ix_permit_status_change_permit_id_at",
        "permit_status_change",
        ["permit_id", "at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_permit_status_change_permit_id_at", table_name="permit_status_change")
    op.drop_table("permit_status_change")
    op.drop_index(op.f("ix_notice_permit_permit_id"), table_name="notice_permit")
    op.drop_table("notice_permit")
    op.drop_table("notice_breached_assurance")
    op.drop_table("consultation_read")
    op.drop_table("consultation_permit")
    op.drop_index(
        "ix_consultation_message_consultation_id_created_at", table_name="consultation_message"
    )
    op.drop_table("consultation_message")
    op.drop_table("consultation_assurance")
    op.drop_index(op.f("ix_assurance_permit_permit_id"), table_name="assurance_permit")
    op.drop_table("assurance_permit")
    op.drop_index("ix_permit_status_valid_until", table_name="permit")
    op.drop_index("ix_permit_dialogue_id_created_at", table_name="permit")
    op.drop_table("permit")
    op.drop_index("ix_end_use_assurance_dialogue_id_created_at", table_name="end_use_assurance")
    op.drop_table("end_use_assurance")
    op.drop_index("ix_decision_notice_dialogue_id_created_at", table_name="decision_notice")
    op.drop_table("decision_notice")
    op.drop_index("ix_consultation_status_response_due_at", table_name="consultation")
    op.drop_index("ix_consultation_dialogue_id_created_at", table_name="consultation")
    op.drop_table("consultation")
    op.drop_table("notice_counter")
    op.drop_table("outbox_head")
    op.drop_index("ix_outbox_event_dialogue_id_seq", table_name="outbox_event")
    op.drop_table("outbox_event")
