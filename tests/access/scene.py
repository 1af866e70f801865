"""The objects every cell of the matrix is called against, built once in the seed dialogue.

Each object is in the state its routes need to succeed: an assurance ``requested`` to submit,
one ``submitted`` to withdraw, accept or reject, a draft a colleague of its drafter may issue,
an issued notice to acknowledge, a webhook with a delivery to redeliver. Cells never spoil them:
each cell runs inside a SAVEPOINT that is rolled back after it (see ``undone``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from service.parties import service as party_service
from service.parties.schemas import ClientCreate, OrganizationCreate
from service.uow import UnitOfWork
from tests.access.callers import Cast, cast
from tests.assurances.helpers import add_requested
from tests.consultations.helpers import open_consultation, post
from tests.domain import add_assurance, add_permits
from tests.factories import World
from tests.notices.helpers import draft, drafted_and_issued
from tests.webhooks import subscribe


@dataclass
class Scene:
    world: World
    cast: Cast
    ids: dict[str, str]  # path parameter name -> the id it takes in the matrix
    connection: AsyncConnection  # the one the app's sessions join: cells nest in its SAVEPOINTs

    def path(self, template: str, ids: dict[str, str]) -> str:
        """The route's path with the scene's objects; ``ids`` names others for some parameters."""
        return PARAMETER.sub(lambda m: self.ids[ids.get(m.group(1), m.group(1))], template)


PARAMETER = re.compile(r"\{([^}]+)\}")


def random_ids(template: str) -> str:
    return PARAMETER.sub(lambda _match: str(uuid.uuid4()), template)


@asynccontextmanager
async def undone(connection: AsyncConnection) -> AsyncIterator[None]:
    """Whatever the block writes is rolled back (the app's sessions nest inside this)."""
    savepoint = await connection.begin_nested()
    try:
        yield
    finally:
        await savepoint.rollback()


async def build_scene(
    app: Any, client: httpx.AsyncClient, world: World, connection: AsyncConnection
) -> Scene:
    people = await cast(app, world)
    permits = await add_permits(app, world, 3, prefix="MATRIX")
    requested = await add_requested(app, world, [permits[0].id])
    submitted = await add_assurance(app, world, [permits[0].id], status="submitted")
    consultation = await open_consultation(client, world)
    await post(client, world.diplomat, consultation["id"], "Our answer.")
    drafted = await draft(client, world, "suspension", [permits[1].id])
    issued = await drafted_and_issued(client, world, "suspension", [permits[2].id])
    webhook = await subscribe(client, world.host_admin)
    delivery = await test_delivery(client, world, webhook["id"])
    ids = {
        "dialogue_id": world.dialogue_id,
        "permit_id": permits[0].id,
        "requested_id": requested.id,
        "assurance_id": submitted.id,
        "consultation_id": consultation["id"],
        "draft_id": drafted["id"],
        "notice_id": issued["id"],
        "webhook_id": webhook["id"],
        "delivery_id": delivery,
        "org_id": world.orgs["TR-MFA"].id,
        "user_id": world.diplomat.id,
        "client_id": await counterpart_client(app, world),
        "new_observer_id": await new_observer(app, world),
    }
    return Scene(world, people, {name: str(value) for name, value in ids.items()}, connection)


async def test_delivery(client: httpx.AsyncClient, world: World, webhook_id: str) -> str:
    response = await client.post(
        f"/api/v1/webhooks/{webhook_id}/test", headers=world.host_admin.headers
    )
    assert response.status_code == 202, response.text
    return response.json()["delivery_id"]


async def counterpart_client(app: Any, world: World) -> Any:
    """An API client of TR-MFA: what its admins (and the host's) manage."""
    data = ClientCreate(
        organization_id=world.orgs["TR-MFA"].id, name="ministry system", scopes=["notices:read"]
    )
    uow = UnitOfWork(app.state.database)
    created, _ = await party_service.create_client(uow, world.host_admin.principal, data=data)
    return created.id


async def new_observer(app: Any, world: World) -> Any:
    """An observer organization not yet in the dialogue, for adding observers."""
    data = OrganizationCreate(code="CA-RCMP", name="Federal Police", country="CA", kind="observer")
    uow = UnitOfWork(app.state.database)
    org = await party_service.create_organization(uow, world.host_admin.principal, data=data)
    return org.id
