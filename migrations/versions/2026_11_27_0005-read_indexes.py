"""indexes for reads that must not grow with history (inbox, notices to acknowledge)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The inbox lists a dialogue's consultations awaiting an answer and its issued notices, in
# keyset order: with the status inside the index, those few rows are found without walking
# every consultation or notice the dialogue ever had.
INDEXES = {
    "ix_consultation_dialogue_id_status_created_at": (
        "consultation",
        ["dialogue_id", "status", "created_at", "id"],
    ),
    "ix_decision_notice_dialogue_id_status_created_at": (
        "decision_notice",
        ["dialogue_id", "status", "created_at", "id"],
    ),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
