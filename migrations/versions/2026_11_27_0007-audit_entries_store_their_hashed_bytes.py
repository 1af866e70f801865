"""audit entries store the bytes their hash covers; their columns are generated from them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:30:00.000000

Until now verification rebuilt each entry's canonical JSON from its columns, at about 8 us per
entry. Each entry now keeps that JSON (``canonical``) and the columns are generated from it, so
they cannot disagree with what was hashed and verification only hashes stored bytes. Existing
entries get the canonical JSON of their columns, which is what was hashed when they were written:
a chain that verified before still verifies, and an entry edited before still fails.
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# (name, type, kind, nullable) of the columns generated from ``canonical``, in hashed order.
FIELDS = (
    ("at", sa.DateTime(timezone=True), "time", False),
    ("actor_type", sa.String(16), "text", False),
    ("actor_id", sa.Uuid(), "uuid", True),
    ("actor_name", sa.String(200), "text", True),
    ("org_id", sa.Uuid(), "uuid", True),
    ("action", sa.String(80), "text", False),
    ("entity_type", sa.String(60), "text", True),
    ("entity_id", sa.String(200), "text", True),
    ("dialogue_id", sa.Uuid(), "uuid", True),
    ("request_id", sa.String(64), "text", True),
    ("client_addr", sa.String(64), "text", True),
    ("details", JSON, "json", False),
)
INDEXES = {
    "ix_audit_entry_action_seq": ["action", "seq"],
    "ix_audit_entry_actor_id_seq": ["actor_id", "seq"],
    "ix_audit_entry_dialogue_id_seq": ["dialogue_id", "seq"],
    "ix_audit_entry_org_id_seq": ["org_id", "seq"],
}
# Text in ISO 8601 reads the same whatever DateStyle is, so the function is truly immutable.
CREATE_TIME_FUNCTION = """
CREATE FUNCTION entente_utc_time(text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT $1::timestamp AT TIME ZONE 'UTC' $$
"""
BATCH = 5_000


def sqlite_expression(name: str, kind: str) -> str:
    value = f"json_extract(canonical, '$.{name}')"
    if kind == "time":
        return f"substr({value}, 1, 10) || ' ' || substr({value}, 12, 15)"
    if kind == "uuid":
        return f"replace({value}, '-', '')"
    return value


def postgres_expression(name: str, kind: str) -> str:
    if kind == "json":
        return f"(canonical::jsonb -> '{name}')"
    value = f"(canonical::jsonb ->> '{name}')"
    if kind == "time":
        return f"entente_utc_time{value}"
    if kind == "uuid":
        return f"{value}::uuid"
    return value


def upgrade() -> None:
    op.add_column("audit_entry", sa.Column("canonical", sa.Text(), nullable=True))
    fill_canonical()
    if op.get_bind().dialect.name == "postgresql":
        generate_postgres_columns()
    else:
        rebuild_sqlite_table(generated=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, *_ in FIELDS:
            op.execute(f"ALTER TABLE audit_entry ALTER COLUMN {name} DROP EXPRESSION")
        op.drop_column("audit_entry", "canonical")
        op.execute("DROP FUNCTION entente_utc_time(text)")
    else:
        rebuild_sqlite_table(generated=False)


# ---- the canonical JSON of stored entries (audit.chain's form, frozen here) ----


def timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(row: sa.Row) -> str:
    fields = {}
    for name in ["seq", *(name for name, *_ in FIELDS)]:
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = timestamp(value)
        elif value is not None and not isinstance(value, int | str | dict | list):
            value = str(value)
        fields[name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fill_canonical() -> None:
    entries = sa.table(
        "audit_entry",
        sa.column("seq", sa.BigInteger()),
        sa.column("canonical", sa.Text()),
        *(sa.column(name, type_) for name, type_, *_ in FIELDS),
    )
    update = (
        sa.update(entries)
        .where(entries.c.seq == sa.bindparam("row_seq"))
        .values(canonical=sa.bindparam("row_canonical"))
    )
    bind, last = op.get_bind(), 0
    while True:
        query = entries.select().where(entries.c.seq > last).order_by(entries.c.seq).limit(BATCH)
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(update, [{"row_seq": r.seq, "row_canonical": canonical(r)} for r in rows])
        last = rows[-1].seq


# ---- the columns ----


def generate_postgres_columns() -> None:
    op.execute(CREATE_TIME_FUNCTION)
    actions = [f"DROP COLUMN {name}" for name, *_ in FIELDS]
    for name, type_, kind, nullable in FIELDS:
        sql_type = type_.compile(dialect=op.get_bind().dialect)
        actions.append(
            f"ADD COLUMN {name} {sql_type} GENERATED ALWAYS AS"
            f" ({postgres_expression(name, kind)}) STORED{'' if nullable else ' NOT NULL'}"
        )
    actions.append("ALTER COLUMN canonical SET NOT NULL")
    op.execute(f"ALTER TABLE audit_entry {', '.join(actions)}")  # one rewrite of the table
    create_indexes()


def rebuild_sqlite_table(generated: bool) -> None:
    """SQLite cannot turn a column into a generated one: a new table takes the rows."""
    columns = [
        sa.Column(
            name,
            type_,
            sa.Computed(sqlite_expression(name, kind)) if generated else None,
            nullable=nullable,
        )
        for name, type_, kind, nullable in FIELDS
    ]
    kept = ["seq", "prev_hash", "hash", *(["canonical"] if generated else [])]
    op.create_table(
        "audit_entry_new",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        *([sa.Column("canonical", sa.Text(), nullable=False)] if generated else []),
        sa.Column("hash", sa.String(length=64), nullable=False),
        *columns,
        # SQLite's constraint names are the table's own; these are the names the models give.
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entry"),
        sa.UniqueConstraint("hash", name="uq_audit_entry_hash"),
    )
    copied = kept if generated else [*kept, *(name for name, *_ in FIELDS)]
    names = ", ".join(copied)
    op.execute(f"INSERT INTO audit_entry_new ({names}) SELECT {names} FROM audit_entry")  # noqa: S608
    op.drop_table("audit_entry")
    op.rename_table("audit_entry_new", "audit_entry")
    create_indexes()


def create_indexes() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_entry", columns, unique=False)
