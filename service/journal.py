"""Writing a unit of work's audit entries and events at COMMIT, in the fewest round trips.

Everything here runs while the transaction holds the ``audit_head`` row lock (and then the
``outbox_head`` one), so every writer of the service queues behind these statements: each round
trip saved here is saved for all of them. The order of the locks stays audit head first, outbox
head second, so no two writers can deadlock.

- The chain's tip is read and the entries' numbers reserved by one ``UPDATE ... RETURNING``,
  which also takes the audit head's lock (``audit.service.chain``).
- On PostgreSQL one more statement then writes the rest: the entries, the head's new hash, the
  outbox head moved on and the events numbered from it (data-modifying CTEs). Inserting events
  wakes the webhook workers (``NOTIFY`` from a trigger, migration 0006). Then COMMIT.
- On SQLite, whose writer holds the database's write lock for its whole transaction anyway, the
  same writes are plain statements (SQLite has no data-modifying CTEs), run together as one
  function: the tip is read, the entries linked and everything written without going back to
  the event loop in between, and the unit of work's COMMIT goes with them. A usual change's few
  rows are written right away on the event loop's thread (``sqlite_driver.right_away``); while
  the write lock is held, a trip to SQLite's thread would let the loop run other requests' work
  before the writer resumed, and every writer would wait for it. A bulk change's hundreds of
  rows go to SQLite's thread in one trip (``on_sqlite_thread``) instead of holding up the loop.
- On PostgreSQL, a change too large for one statement's parameters (a bulk of hundreds of
  permits) is written in plain statements too.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from typing import Any

import sqlalchemy
from sqlalchemy import Dialect, Select, Table, bindparam, insert, select, union_all, update
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from service.audit import service as audit_service
from service.audit.models import AuditEntry, AuditHead
from service.audit.service import PendingEntry, RequestContext
from service.events.models import OutboxEvent, OutboxHead
from service.events.service import PendingEvent
from service.sqlite_driver import on_sqlite_thread, right_away

ENTRIES = AuditEntry.__table__
EVENTS = OutboxEvent.__table__
AUDIT_HEAD = AuditHead.__table__
OUTBOX_HEAD = OutboxHead.__table__
EVENT_COLUMNS = ("id", "type", "occurred_at", "dialogue_id", "organization_id", "data")
# What is written of an entry; the database generates the rest from ``canonical``.
ENTRY_COLUMNS = ("seq", "prev_hash", "canonical", "hash")
# The audit head's hash moved on to the last new entry's (``:head_hash``).
MOVE_AUDIT_HEAD = (
    update(AUDIT_HEAD)
    .where(AUDIT_HEAD.c.id == 1)
    .values(hash=bindparam("head_hash", type_=AUDIT_HEAD.c.hash.type))
)


async def record(
    connection: AsyncConnection,
    pending: Sequence[PendingEntry],
    events: Sequence[PendingEvent],
    context: RequestContext,
    rows: Sequence[Any] = (),
    *,
    commit: bool = False,
) -> None:
    """Insert ``rows`` (new entities), chain ``pending`` onto the audit trail and number
    ``events`` into the outbox.

    ``commit``: the caller commits right after, so on SQLite the same trip ends with COMMIT
    (outside a savepoint only), and the session's own COMMIT finds nothing left to do.
    """
    if connection.dialect.name == "sqlite":
        inserts = [sqlite_insert(entity, connection.dialect) for entity in rows]
        drafts = audit_service.drafts(pending, context)
        values = event_values(events, connection.dialect)
        commit = commit and not connection.in_nested_transaction()
        small = len(inserts) + len(drafts) + len(values) <= RIGHT_AWAY_ROWS
        await (right_away if small else on_sqlite_thread)(
            connection, write_on_sqlite, inserts, drafts, values, commit, statement="journal"
        )
        return
    for entity in rows:
        await connection.execute(insert(entity.__table__), column_values(entity))
    if not pending and not events:
        return
    entries: list[dict[str, Any]] = []
    if pending:
        entries = await audit_service.chain(connection, pending, context)
    if fits_one_statement(entries, events):
        await connection.execute(*in_one_statement(entries, events))
        return
    if entries:
        await connection.execute(insert(ENTRIES), entries)
        await connection.execute(MOVE_AUDIT_HEAD, {"head_hash": entries[-1]["hash"]})
    if events:
        last = (await connection.execute(bump_outbox_head(len(events)))).scalar_one()
        await connection.execute(insert(EVENTS), event_rows(events, last))


# SQLite: the same writes in plain SQL. A few rows are written right away on the event loop's
# thread (``sqlite_driver.right_away``); a bulk change's hundreds go to SQLite's thread.
RIGHT_AWAY_ROWS = 64
RESERVE_SQL = "UPDATE audit_head SET seq = seq + ? WHERE id = 1 RETURNING seq, hash"
MOVE_HEAD_SQL = "UPDATE audit_head SET hash = ? WHERE id = 1"
BUMP_OUTBOX_SQL = "UPDATE outbox_head SET seq = seq + ? WHERE id = 1 RETURNING seq"


@functools.lru_cache(maxsize=64)
def insert_sql(table: Table, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """SQLite's ``INSERT`` of ``columns``, and the order its parameters come in."""
    compiled = insert(table).compile(dialect=sqlite_dialect(), column_keys=list(columns))
    return compiled.string, tuple(compiled.positiontup or ())


INSERT_ENTRIES_SQL, ENTRY_ORDER = insert_sql(ENTRIES, ENTRY_COLUMNS)
INSERT_EVENTS_SQL, EVENT_ORDER = insert_sql(EVENTS, ("seq", *EVENT_COLUMNS))


def write_on_sqlite(
    sqlite: sqlite3.Connection,
    inserts: list[tuple[str, tuple[Any, ...]]],
    drafts: list[dict[str, Any]],
    events: list[dict[str, Any]],
    commit: bool = False,
) -> None:
    """The rows inserted, the entries chained and inserted, the head moved, the events
    numbered and inserted; then COMMIT if asked."""
    for statement, values in inserts:
        sqlite.execute(statement, values)
    if drafts:
        ((last, prev_hash),) = sqlite.execute(RESERVE_SQL, (len(drafts),)).fetchall()
        rows = audit_service.linked(drafts, last - len(drafts) + 1, prev_hash)
        sqlite.executemany(INSERT_ENTRIES_SQL, [in_order(row, ENTRY_ORDER) for row in rows])
        sqlite.execute(MOVE_HEAD_SQL, (rows[-1]["hash"],))
    number_events_on_sqlite(sqlite, events)
    if commit:
        sqlite.commit()


def number_events_on_sqlite(sqlite: sqlite3.Connection, events: list[dict[str, Any]]) -> None:
    if events:
        ((last,),) = sqlite.execute(BUMP_OUTBOX_SQL, (len(events),)).fetchall()
        first = last - len(events) + 1
        rows = [in_order({**row, "seq": first + n}, EVENT_ORDER) for n, row in enumerate(events)]
        sqlite.executemany(INSERT_EVENTS_SQL, rows)


def in_order(row: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(row[name] for name in names)


def event_values(events: Sequence[PendingEvent], dialect: Dialect) -> list[dict[str, Any]]:
    """``EVENT_COLUMNS`` of each event as the driver takes them (SQLAlchemy's own conversions)."""
    converters = column_converters(EVENTS, EVENT_COLUMNS, dialect)
    return [
        {name: convert(getattr(event, name)) for name, convert in converters} for event in events
    ]


def column_values(entity: Any) -> dict[str, Any]:
    """Every column of a new ``entity``, by column key; a missing required value is a bug."""
    values = {}
    for key, attribute, required in mapped_columns(type(entity)):
        value = getattr(entity, attribute)
        if value is None and required:
            raise ValueError(f"{entity.__tablename__}.{key} must be set before COMMIT")
        values[key] = value
    return values


@functools.cache
def mapped_columns(entity_class: type) -> tuple[tuple[str, str, bool], ...]:
    """Each column of a mapped class: its key, the attribute holding it, whether it is required
    (looked up once per class, not on every write)."""
    mapper = sqlalchemy.inspect(entity_class)
    return tuple(
        (column.key, mapper.get_property_by_column(column).key, not column.nullable)
        for column in mapper.local_table.columns
    )


def sqlite_insert(entity: Any, dialect: Dialect) -> tuple[str, tuple[Any, ...]]:
    """SQLite's INSERT of ``entity`` and its values, converted as SQLAlchemy would."""
    values = column_values(entity)
    statement, order = insert_sql(entity.__table__, tuple(values))
    converters = dict(column_converters(entity.__table__, tuple(values), dialect))
    return statement, tuple(converters[name](values[name]) for name in order)


@functools.lru_cache(maxsize=64)
def column_converters(
    table: Table, names: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[str, Any], ...]:
    found = []
    for name in names:
        processor = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        found.append((name, processor or (lambda value: value)))
    return tuple(found)


def fits_one_statement(entries: list[dict[str, Any]], events: Sequence[PendingEvent]) -> bool:
    """Few enough rows for one statement's parameters (PostgreSQL takes at most 32,767)."""
    return len(entries) * len(ENTRY_COLUMNS) + len(events) * len(EVENT_COLUMNS) < 30_000


def bump_outbox_head(count: int) -> Any:
    """Reserve ``count`` event numbers; returns the last (the head's row stays locked)."""
    head = OUTBOX_HEAD.c
    return update(OUTBOX_HEAD).where(head.id == 1).values(seq=head.seq + count).returning(head.seq)


def event_rows(events: Sequence[PendingEvent], last: int) -> list[dict[str, Any]]:
    first = last - len(events) + 1
    return [
        {"seq": first + n, **{name: getattr(event, name) for name in EVENT_COLUMNS}}
        for n, event in enumerate(events)
    ]


def in_one_statement(
    entries: list[dict[str, Any]], events: Sequence[PendingEvent]
) -> tuple[Any, dict[str, Any]]:
    """PostgreSQL: the entries, the audit head's hash and the numbered events, as one statement
    and its parameters."""
    statement = one_statement_of_shape(len(entries), len(events))
    parameters: dict[str, Any] = {}
    for n, entry in enumerate(entries):
        parameters |= {f"entry{n}_{name}": value for name, value in entry.items()}
    for n, event in enumerate(events):
        parameters |= {f"event{n}_{name}": getattr(event, name) for name in EVENT_COLUMNS}
    if entries:
        parameters["head_hash"] = entries[-1]["hash"]
    return statement, parameters


@functools.lru_cache(maxsize=256)
def one_statement_of_shape(entry_count: int, event_count: int) -> Any:
    """Built once per number of entries and events, so SQLAlchemy compiles it once too.

    Rows come from ``SELECT``s of bound parameters: a multi-row ``VALUES`` would be compiled
    anew on every execution (SQLAlchemy does not cache it).
    """
    ctes = []
    if entry_count:
        rows = [bound_select(ENTRIES, f"entry{n}_", ENTRY_COLUMNS) for n in range(entry_count)]
        new_entries = (
            insert(ENTRIES).from_select(ENTRY_COLUMNS, union_all(*rows)).cte("new_entries")
        )
        if not event_count:
            return MOVE_AUDIT_HEAD.add_cte(new_entries)
        ctes = [new_entries, MOVE_AUDIT_HEAD.cte("moved_head")]
    tip = bump_outbox_head(event_count).cte("outbox_tip")
    rows = [
        bound_select(EVENTS, f"event{n}_", EVENT_COLUMNS)
        .add_columns((tip.c.seq - (event_count - 1 - n)).label("seq"))
        .select_from(tip)
        for n in range(event_count)
    ]
    events = insert(EVENTS).from_select([*EVENT_COLUMNS, "seq"], union_all(*rows))
    return events.add_cte(*ctes, tip)


def bound_select(table: Table, prefix: str, names: Sequence[str]) -> Select[Any]:
    """``SELECT :<prefix><name> AS <name>, ...`` typed as the table's columns."""
    return select(*(bindparam(prefix + n, type_=table.c[n].type).label(n) for n in names))
