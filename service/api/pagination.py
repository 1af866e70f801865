"""Keyset pagination over ``(created_at, id)``: stable order, index-backed, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import InvalidInput

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (at most 200).")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class InvalidCursor(InvalidInput):
    code, title = "invalid-cursor", "Invalid cursor"


def encode_cursor(created_at: datetime, row_id: UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is not None:  # out-of-range instants fail here, not in the query
            moment = moment.astimezone(UTC)
        return moment, UUID(row_id)
    except (ValueError, TypeError, AttributeError, OverflowError, binascii.Error) as exc:
        raise InvalidCursor("The cursor is not one this service issued.") from exc


async def paginate(
    session: AsyncSession,
    query: Select[Any],
    model: Any,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> tuple[Sequence[Any], str | None]:
    """Keyset pagination over ``(created_at, id)``, oldest first unless ``newest_first``."""
    key = tuple_(model.created_at, model.id)
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        if created_at.tzinfo is None:
            raise InvalidCursor("The cursor is not one this service issued.")
        position = tuple_(created_at, row_id)
        query = query.where(key < position if newest_first else key > position)
    order = (model.created_at, model.id)
    if newest_first:
        order = (model.created_at.desc(), model.id.desc())
    query = query.order_by(*order).limit(limit + 1)
    rows = (await session.scalars(query)).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.created_at, last.id)


def encode_position(position: int) -> str:
    """An opaque cursor for lists ordered by an integer sequence (audit entries, events)."""
    return base64.urlsafe_b64encode(str(position).encode()).decode().rstrip("=")


def decode_position(cursor: str) -> int:
    try:
        position = int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("The cursor is not one this service issued.") from exc
    if not 0 <= position < 2**63:
        raise InvalidCursor("The cursor is not one this service issued.")
    return position
