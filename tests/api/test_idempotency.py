"""``Idempotency-Key`` on POST: a colleague's or an outsider's request with your key is not
replayed. (Replays, other bodies and bad keys, each with what it stores: tests/abuse.)"""

from __future__ import annotations

from service.uow import UnitOfWork
from tests.api.support import ORGS, assert_problem, new_org
from tests.factories import PASSWORD, user_persona

REPLAYED = "idempotent-replayed"


def keyed(persona, key: str) -> dict[str, str]:
    return persona.headers | {"Idempotency-Key": key}


async def second_host_admin(app, client, world):
    user = {
        "organization_id": str(world.orgs["CA-GAC"].id),
        "username": "second-admin",
        "display_name": "Second Admin",
        "password": PASSWORD,
        "roles": ["admin"],
    }
    response = await client.post("/api/v1/users", json=user, headers=world.host_admin.headers)
    assert response.status_code == 201, response.text
    return await user_persona(app, UnitOfWork(app.state.database), "second-admin")


async def test_key_of_another_principal_is_not_replayed(app, client, world):
    first = await client.post(ORGS, json=new_org(), headers=keyed(world.host_admin, "shared-key"))
    assert first.status_code == 201, first.text

    colleague = await second_host_admin(app, client, world)
    response = await client.post(ORGS, json=new_org(), headers=keyed(colleague, "shared-key"))
    assert REPLAYED not in response.headers
    assert assert_problem(response, 409)["code"] == "conflict"  # it really ran: code taken

    outsider = await client.post(ORGS, json=new_org(), headers=keyed(world.officer, "shared-key"))
    assert REPLAYED not in outsider.headers
    assert_problem(outsider, 403)
