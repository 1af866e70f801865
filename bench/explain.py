"""The plans of the project's own read queries, as the read scenario's note shows them.

The inbox (``service.web.inbox.build``) and a page of messages
(``consultation_service.list_messages``, with a cursor deep in the thread) run in this process
against the loaded database while an engine hook records each SQL statement with its
parameters; each ``SELECT`` is then explained on the same database: ``EXPLAIN (ANALYZE,
BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import event

from bench.dataset import Loaded
from service.auth import identity
from service.consultations import service as consultation_service
from service.db import Database
from service.parties.repository import user_by_username
from service.uow import UnitOfWork
from service.web import inbox


async def captured(loaded: Loaded, username: str, cursor: str | None) -> list[tuple[str, Any]]:
    """Each SELECT the inbox and a page of messages run: (label, statement, parameters)."""
    database = Database(loaded.url)
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    try:
        async with database.sessions() as session:
            user, org = await user_by_username(session, username) or (None, None)
        caller = identity.user_principal(user, org)
        event.listen(database.engine.sync_engine, "before_cursor_execute", record)
        uow = UnitOfWork(database)
        await inbox.build(uow, caller)
        statements.append(("-- messages page", None))
        await consultation_service.list_messages(
            uow, caller, consultation_id=UUID(loaded.target_id), limit=50, cursor=cursor
        )
    finally:
        await database.dispose()
    return statements


async def explained(loaded: Loaded, statements: list[tuple[str, Any]]) -> list[str]:
    database = Database(loaded.url)
    sqlite = loaded.url.startswith("sqlite")
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS) "
    found = []
    try:
        async with database.engine.connect() as conn:
            for statement, parameters in statements:
                if parameters is None:
                    found.append(statement)
                    continue
                result = await conn.exec_driver_sql(prefix + statement, parameters)
                lines = [" ".join(str(v) for v in row[-1:]) for row in result]
                found.append(f"{statement}\n  parameters: {parameters}\n  " + "\n  ".join(lines))
    finally:
        await database.dispose()
    return found


async def plans(loaded: Loaded, username: str, cursor: str | None) -> str:
    """The explained queries of the inbox and of a messages page, as text."""
    statements = await captured(loaded, username, cursor)
    title = f"== {loaded.messages} messages ({loaded.url.split('/')[-1]}) =="
    return "\n\n".join([title, *await explained(loaded, statements)])
