"""Helpers for the consultation tests: calls as a client would make them, and what they left."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from service.consultations.models import Consultation, Message, ReadReceipt
from service.db import utcnow
from service.events.models import OutboxEvent
from service.parties import service as party_service
from service.parties.schemas import UserCreate
from service.uow import UnitOfWork
from tests.factories import PASSWORD, Persona, World, user_persona


def dialogue_url(world: World) -> str:
    return f"/api/v1/dialogues/{world.dialogue_id}/consultations"


def url(consultation_id: UUID | str, tail: str = "") -> str:
    return f"/api/v1/consultations/{consultation_id}{tail}"


def in_days(days: float) -> str:
    return rfc3339(utcnow() + timedelta(days=days))


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def new_consultation(**overrides: Any) -> dict[str, Any]:
    body = {
        "subject": "Reports of MX-15D optics in a third country's armed conflict",
        "topic": "end_use_inquiry",
        "permit_ids": [],
        "assurance_ids": [],
    }
    return body | overrides


async def open_consultation(client, world: World, persona: Persona | None = None, **body) -> dict:
    persona = persona or world.officer
    response = await client.post(
        dialogue_url(world), json=new_consultation(**body), headers=persona.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def post(client, persona: Persona, consultation_id, body: str = "A question.", **extra):
    response = await client.post(
        url(consultation_id, "/messages"), json={"body": body, **extra}, headers=persona.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def fetch(client, persona: Persona, consultation_id) -> dict:
    response = await client.get(url(consultation_id), headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def count(app, model, *where) -> int:
    async with app.state.database.sessions() as session:
        query = select(func.count()).select_from(model)
        return await session.scalar(query.where(*where) if where else query)


async def events(app, type_: str) -> list[dict]:
    query = select(OutboxEvent.data).where(OutboxEvent.type == type_).order_by(OutboxEvent.seq)
    async with app.state.database.sessions() as session:
        return list((await session.scalars(query)).all())


async def rows_written(app) -> tuple[int, int, int, int]:
    """Counts of consultations, messages, read receipts and events: to prove nothing changed."""
    return (
        await count(app, Consultation),
        await count(app, Message),
        await count(app, ReadReceipt),
        await count(app, OutboxEvent),
    )


async def counterpart_officer(app, world: World) -> Persona:
    data = UserCreate(
        organization_id=world.orgs["TR-MFA"].id,
        username="tr-officer",
        display_name="TR officer",
        password=PASSWORD,
        roles=["officer"],
    )
    uow = UnitOfWork(app.state.database)
    await party_service.create_user(uow, world.host_admin.principal, data=data)
    return await user_persona(app, uow, "tr-officer")
