"""What the notices tests look at: the API's answers and the rows an issue leaves behind."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select

from service.assurances.models import EndUseAssurance
from service.audit.models import AuditEntry
from service.events.models import OutboxEvent
from service.permits.models import Permit, PermitStatusChange
from service.uow import UnitOfWork
from tests.factories import PASSWORD, Persona, World, user_persona


def notices_url(world: World, dialogue_id: UUID | None = None) -> str:
    return f"/api/v1/dialogues/{dialogue_id or world.dialogue_id}/notices"


def notice_body(kind: str, permit_ids: list[Any], **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": kind,
        "permit_ids": [str(permit_id) for permit_id in permit_ids],
        "summary": f"{kind.capitalize()} of {len(permit_ids)} permits",
        "rationale": "Credible reports place the optics in a third country's armed conflict.",
        "legal_basis": "Export and Import Permits Act, s. 10(1)",
    }
    return body | overrides


async def draft(
    client: httpx.AsyncClient,
    world: World,
    kind: str,
    permit_ids: list[Any],
    *,
    persona: Persona | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    response = await client.post(
        notices_url(world),
        json=notice_body(kind, permit_ids, **overrides),
        headers=(persona or world.officer).headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def issue(
    client: httpx.AsyncClient, persona: Persona, notice_id: Any, key: str | None = None
) -> httpx.Response:
    headers = persona.headers | ({"Idempotency-Key": key} if key else {})
    return await client.post(f"/api/v1/notices/{notice_id}/issue", json={}, headers=headers)


async def acknowledge(
    client: httpx.AsyncClient, persona: Persona, notice_id: Any, key: str | None = None
) -> httpx.Response:
    headers = persona.headers | ({"Idempotency-Key": key} if key else {})
    return await client.post(f"/api/v1/notices/{notice_id}/acknowledge", json={}, headers=headers)


async def drafted_and_issued(
    client: httpx.AsyncClient, world: World, kind: str, permit_ids: list[Any], **overrides: Any
) -> dict[str, Any]:
    notice = await draft(client, world, kind, permit_ids, **overrides)
    response = await issue(client, world.approver, notice["id"])
    assert response.status_code == 200, response.text
    return response.json()


async def new_user(
    app: Any, client: httpx.AsyncClient, world: World, username: str, roles: list[str]
) -> Persona:
    """A user of CA-GAC created through the API by its admin, with a token."""
    body = {
        "organization_id": str(world.orgs["CA-GAC"].id),
        "username": username,
        "display_name": username,
        "password": PASSWORD,
        "roles": roles,
    }
    response = await client.post("/api/v1/users", json=body, headers=world.host_admin.headers)
    assert response.status_code == 201, response.text
    return await user_persona(app, UnitOfWork(app.state.database), username)


async def rows(app: Any, query: Any) -> list[Any]:
    async with app.state.database.sessions() as session:
        return list((await session.scalars(query)).all())


async def statuses(app: Any, permit_ids: list[Any]) -> dict[str, str]:
    query = select(Permit).where(Permit.id.in_([UUID(str(i)) for i in permit_ids]))
    return {permit.number: permit.status for permit in await rows(app, query)}


async def history(app: Any, permit_id: Any) -> list[PermitStatusChange]:
    query = (
        select(PermitStatusChange)
        .where(PermitStatusChange.permit_id == UUID(str(permit_id)))
        .order_by(PermitStatusChange.at, PermitStatusChange.created_at)
    )
    return await rows(app, query)


async def count_history(app: Any) -> int:
    return len(await rows(app, select(PermitStatusChange.id)))


async def events(app: Any, type_: str | None = None) -> list[OutboxEvent]:
    query = select(OutboxEvent).order_by(OutboxEvent.seq)
    if type_:
        query = query.where(OutboxEvent.type == type_)
    return await rows(app, query)


async def audit_entries(app: Any, action: str) -> list[AuditEntry]:
    return await rows(app, select(AuditEntry).where(AuditEntry.action == action))


async def assurance_status(app: Any, assurance_id: Any) -> EndUseAssurance:
    query = select(EndUseAssurance).where(EndUseAssurance.id == UUID(str(assurance_id)))
    [assurance] = await rows(app, query)
    return assurance


async def count(app: Any, model: Any) -> int:
    async with app.state.database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))
