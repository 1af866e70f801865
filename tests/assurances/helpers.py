"""Paths, bodies and database probes shared by the assurance tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select

from service.assurances.models import AssurancePermit, EndUseAssurance
from service.db import utcnow
from service.events.models import OutboxEvent
from service.permits.models import Permit
from service.uow import UnitOfWork
from tests.factories import PASSWORD, World, user_persona

API = "/api/v1"
SHA256 = "9f2b5c1e8d7a6b4c3f2e1d0c9b8a7f6e5d4c3b2a19f8e7d6c5b4a39281706f5e"


def collection(world: World) -> str:
    return f"{API}/dialogues/{world.dialogue_id}/assurances"


def step_path(assurance_id: UUID | str, step: str) -> str:
    return f"{API}/assurances/{assurance_id}/{step}"


def request_body(permit_ids: list[UUID], *, days: int = 14) -> dict[str, Any]:
    due_at = (utcnow() + timedelta(days=days)).isoformat()
    return {"permit_ids": [str(p) for p in permit_ids], "due_at": due_at}


def certificate(**overrides: Any) -> dict[str, Any]:
    today = date.today()
    body = {
        "end_user": "Turkish Armed Forces",
        "end_use": "Own use on the armed forces' UAVs; no re-export.",
        "destination_country": "TR",
        "retransfer_clause": True,
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "signatory": {"name": "A. Diplomat", "title": "Director General"},
        "document_sha256": SHA256,
        "register_number": "TR-EUC-2020-17",
        "issue_date": (today - timedelta(days=10)).isoformat(),
        "consent_to_verification": True,
    }
    return body | overrides


def submission(permit_ids: list[UUID], **overrides: Any) -> dict[str, Any]:
    return {"permit_ids": [str(p) for p in permit_ids]} | certificate(**overrides)


# The body each step takes, and the persona (attribute of World) allowed to take it.
STEP_BODIES: dict[str, dict[str, Any]] = {
    "submit": certificate(),
    "accept": {},
    "reject": {"reason": "The end user named is not the one on the permit."},
    "withdraw": {},
}
STEP_ACTORS = {
    "submit": "diplomat",
    "accept": "officer",
    "reject": "officer",
    "withdraw": "diplomat",
}


async def add_requested(app: Any, world: World, permit_ids: list[UUID]) -> EndUseAssurance:
    """A ``requested`` assurance with no certificate yet, written straight to the database."""
    now = utcnow()
    assurance = EndUseAssurance(
        dialogue_id=world.dialogue_id,
        status="requested",
        requested_by=world.officer.id,
        requested_at=now,
        due_at=now + timedelta(days=14),
    )
    async with app.state.database.sessions() as session:
        session.add(assurance)
        await session.flush()
        session.add_all(
            AssurancePermit(assurance_id=assurance.id, permit_id=pid) for pid in permit_ids
        )
        await session.commit()
    return assurance


async def add_foreign_permit(app: Any, world: World) -> Permit:
    """A permit of the unrelated GB-ECJU ↔ FR-MEAE dialogue."""
    today = date.today()
    permit = Permit(
        dialogue_id=world.other_dialogue_id,
        authority_id=world.orgs["GB-ECJU"].id,
        number="GB-0001",
        number_key="gb-0001",
        exporter="x",
        consignee="x",
        end_user="x",
        destination_country="FR",
        items=[],
        valid_from=today,
        valid_until=today + timedelta(days=1),
        status="active",
    )
    async with app.state.database.sessions() as session:
        session.add(permit)
        await session.commit()
    return permit


async def stored(app: Any, assurance_id: UUID | str) -> EndUseAssurance:
    async with app.state.database.sessions() as session:
        row = await session.get(EndUseAssurance, UUID(str(assurance_id)))
        assert row is not None
        return row


async def count_assurances(app: Any) -> int:
    async with app.state.database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(EndUseAssurance))


async def events(app: Any, prefix: str = "assurance.") -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.type.startswith(prefix))
    async with app.state.database.sessions() as session:
        return list((await session.scalars(query.order_by(OutboxEvent.seq))).all())


async def counterpart_officer(app: Any, world: World):
    """An officer of the counterpart ministry (the world has only its diplomat)."""
    from service.parties import service as party_service
    from service.parties.schemas import UserCreate

    uow = UnitOfWork(app.state.database)
    data = UserCreate(
        organization_id=world.orgs["TR-MFA"].id,
        username="tr-officer",
        display_name="TR officer",
        password=PASSWORD,
        roles=["officer"],
    )
    await party_service.create_user(uow, world.host_admin.principal, data=data)
    return await user_persona(app, uow, "tr-officer")
