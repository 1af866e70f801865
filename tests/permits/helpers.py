"""What the permits tests look at: the API's answers and the rows a change leaves behind."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select, update

from service.events.models import OutboxEvent
from service.permits.models import Permit
from tests.domain import permit_body
from tests.factories import Persona, World


def permits_url(world: World, dialogue_id: UUID | None = None) -> str:
    return f"/api/v1/dialogues/{dialogue_id or world.dialogue_id}/permits"


async def register(
    client: httpx.AsyncClient, world: World, persona: Persona, number: str, **overrides: Any
) -> httpx.Response:
    body = permit_body(number, **overrides)
    return await client.post(permits_url(world), json=body, headers=persona.headers)


async def register_bulk(
    client: httpx.AsyncClient, world: World, persona: Persona, numbers: list[str]
) -> httpx.Response:
    body = {"permits": [permit_body(number) for number in numbers]}
    return await client.post(f"{permits_url(world)}/bulk", json=body, headers=persona.headers)


async def stored_numbers(app: Any) -> list[str]:
    async with app.state.database.sessions() as session:
        return sorted((await session.scalars(select(Permit.number))).all())


async def events(app: Any, type_: str) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.seq)
    async with app.state.database.sessions() as session:
        return list((await session.scalars(query)).all())


async def count_events(app: Any, prefix: str = "permit.") -> int:
    query = select(func.count()).where(OutboxEvent.type.startswith(prefix))
    async with app.state.database.sessions() as session:
        return await session.scalar(query.select_from(OutboxEvent))


async def set_validity(app: Any, permit_ids: list[UUID], valid_until: date) -> None:
    async with app.state.database.sessions() as session:
        await session.execute(
            update(Permit)
            .where(Permit.id.in_(permit_ids))
            .values(valid_from=valid_until - timedelta(days=30), valid_until=valid_until)
        )
        await session.commit()


async def status_of(app: Any, permit_id: UUID) -> str:
    async with app.state.database.sessions() as session:
        return await session.scalar(select(Permit.status).where(Permit.id == permit_id))
