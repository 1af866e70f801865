"""The unit of work: one transaction per use case, committed once.

A service function opens ``uow.transaction()``; the change, its audit entries and its outbox
events go into the same session and are committed together before the function
returns, so a failed COMMIT surfaces as an error and never follows a 2xx. Any exception rolls
everything back, audit entries included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service import journal
from service.audit.service import ANONYMOUS, Actor, PendingEntry, RequestContext
from service.db import Database, begin_writing
from service.errors import StateConflict
from service.events import service as events_service
from service.events import signals
from service.events.service import PendingEvent


def is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint" in str(orig)


class Transaction:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.pending: list[PendingEntry] = []
        self.events: list[PendingEvent] = []
        self.wake = False  # set when this commit gives the webhook workers something to do
        self.rows: list[Any] = []  # new entities inserted at COMMIT, beside the journal's rows

    def add_at_commit(self, entity: Any) -> None:
        """Insert ``entity``, a new row that nothing here changes again, at COMMIT together with
        the audit entries and events (on SQLite in the same trip, while the write lock is held
        one trip less). The session does not track it; every column must be set."""
        self.rows.append(entity)

    def emit(
        self,
        type_: str,
        data: BaseModel | dict[str, Any],
        *,
        dialogue_id: UUID | None,
        organization_id: UUID | None = None,
    ) -> None:
        """Add an event to the outbox; it commits, or not, with everything else here."""
        self.events.append(events_service.pending(type_, data, dialogue_id, organization_id))

    def audit(
        self,
        action: str,
        entity: Any = None,
        *,
        details: dict[str, Any] | None = None,
        dialogue_id: UUID | None = None,
        actor: Actor | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
    ) -> None:
        self.pending.append(
            PendingEntry(
                action=action,
                actor=actor or self.actor,
                entity=entity,
                entity_type=entity_type,
                entity_id=entity_id,
                dialogue_id=dialogue_id,
                details=details or {},
            )
        )


class UnitOfWork:
    def __init__(
        self, database: Database, *, actor: Actor = ANONYMOUS, context: RequestContext | None = None
    ) -> None:
        self.database = database
        self.actor = actor
        self.context = context or RequestContext()

    def as_actor(self, actor: Actor) -> UnitOfWork:
        return UnitOfWork(self.database, actor=actor, context=self.context)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        # The write lock (SQLite) covers the transaction only: the next writer can start while
        # this session closes and its connection goes back to the pool.
        async with self.database.sessions() as session, self.database.writing():
            await begin_writing(session)
            tx = Transaction(session, self.actor)
            try:
                yield tx
                await session.flush()
                if tx.pending or tx.events or tx.rows:
                    connection = await session.connection()
                    await journal.record(
                        connection, tx.pending, tx.events, self.context, tx.rows, commit=True
                    )
                if tx.wake and not tx.events:  # inserted events wake the workers themselves
                    await signals.notify_in_transaction(session)
                await session.commit()
                if tx.events or tx.wake:
                    signals.wake_local()
            except IntegrityError as exc:
                await session.rollback()
                if is_unique_violation(exc):
                    # A concurrent request took the same name between our check and our insert.
                    raise StateConflict("A concurrent request created the same thing.") from exc
                raise
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only session for queries; nothing it does is committed."""
        async with self.database.sessions() as session:
            yield session
