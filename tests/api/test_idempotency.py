"""``Idempotency-Key`` on POST: a retry with the same key and body replays the first answer."""

from __future__ import annotations

from service.uow import UnitOfWork
from tests.api.support import ORGS, assert_problem, count_orgs, new_org
from tests.factories import PASSWORD, audit_actions, user_persona

REPLAYED = "idempotent-replayed"


def keyed(persona, key: str) -> dict[str, str]:
    return persona.headers | {"Idempotency-Key": key}


async def created_audit_entries(app) -> int:
    return len(await audit_actions(app, action="organization.created"))


async def test_same_key_and_body_replays_the_first_answer(app, client, world):
    orgs, entries = await count_orgs(app), await created_audit_entries(app)
    headers = keyed(world.host_admin, "create-bafa-1")
    first = await client.post(ORGS, json=new_org(), headers=headers)
    second = await client.post(ORGS, json=new_org(), headers=headers)

    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert second.headers[REPLAYED] == "true"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert await count_orgs(app) == orgs + 1
    assert await created_audit_entries(app) == entries + 1


async def test_same_key_with_another_body_is_refused(app, client, world):
    headers = keyed(world.host_admin, "create-bafa-2")
    first = await client.post(ORGS, json=new_org(), headers=headers)
    assert first.status_code == 201, first.text
    orgs = await count_orgs(app)

    other = await client.post(ORGS, json=new_org("DE-BMWK"), headers=headers)
    assert_problem(other, 422)
    assert REPLAYED not in other.headers
    assert await count_orgs(app) == orgs


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


async def test_a_refusal_is_replayed_too(app, client, world):
    duplicate = new_org("TR-MFA", country="TR", kind="counterpart_ministry")
    headers = keyed(world.host_admin, "duplicate-tr")
    first = await client.post(ORGS, json=duplicate, headers=headers)
    second = await client.post(ORGS, json=duplicate, headers=headers)

    assert_problem(first, 409)
    assert (second.status_code, second.content) == (409, first.content)
    assert second.headers[REPLAYED] == "true"


async def test_overlong_key_is_refused(app, client, world):
    orgs = await count_orgs(app)
    response = await client.post(ORGS, json=new_org(), headers=keyed(world.host_admin, "k" * 256))
    assert_problem(response, 422)
    assert await count_orgs(app) == orgs


async def test_key_of_255_characters_is_accepted(client, world):
    response = await client.post(ORGS, json=new_org(), headers=keyed(world.host_admin, "k" * 255))
    assert response.status_code == 201, response.text


async def test_blank_key_is_refused(app, client, world):
    orgs = await count_orgs(app)
    response = await client.post(ORGS, json=new_org(), headers=keyed(world.host_admin, "   "))
    assert_problem(response, 422)
    assert await count_orgs(app) == orgs
