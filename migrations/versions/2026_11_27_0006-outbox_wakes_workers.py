"""inserted outbox events wake the webhook workers (PostgreSQL NOTIFY from a trigger)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 08:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A statement-level trigger sends the wake-up inside the statement that inserts the events, so
# a writer needs no extra round trip for it while it holds the outbox head's lock. NOTIFY is
# delivered only if the transaction commits, and repeated ones in a transaction fold into one.
# SQLite has no NOTIFY: there the API wakes its in-process worker itself (events.signals).
CREATE_FUNCTION = """
CREATE FUNCTION entente_wake_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('entente_wake', '');
    RETURN NULL;
END;
$$
"""
CREATE_TRIGGER = """
CREATE TRIGGER outbox_event_wakes_workers AFTER INSERT ON outbox_event
FOR EACH STATEMENT EXECUTE FUNCTION entente_wake_workers()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CREATE_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER outbox_event_wakes_workers ON outbox_event")
    op.execute("DROP FUNCTION entente_wake_workers()")
