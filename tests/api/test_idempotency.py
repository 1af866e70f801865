"""``Idempotency-Key`` on POST: a colleague's or an outsider's request with your key is not
replayed; a key whose request never finished is refused with Retry-After, then lapses. (Replays,
other bodies and bad keys, each with what it stores: tests/abuse.)"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from service.api.idempotency import IdempotencyRecord, principal_key
from service.db import utcnow
from service.uow import UnitOfWork
from tests.api.support import ORGS, assert_problem, count_orgs, new_org
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


ORG_BODY = json.dumps(new_org()).encode()


def keyed_json(persona, key: str) -> dict[str, str]:
    return keyed(persona, key) | {"Content-Type": "application/json"}


async def leave_a_claim(app, persona, key: str, *, age_seconds: float) -> None:
    """What a process killed mid-request leaves: the key claimed, no answer stored."""
    async with app.state.database.sessions() as session:
        session.add(
            IdempotencyRecord(
                principal_key=principal_key(persona.principal),
                key=key,
                fingerprint=hashlib.sha256(ORGS.encode() + b"\n" + ORG_BODY).hexdigest(),
                created_at=utcnow() - timedelta(seconds=age_seconds),
            )
        )
        await session.commit()


async def test_a_key_still_claimed_is_refused_with_when_to_retry(app, client, world):
    await leave_a_claim(app, world.host_admin, "claimed", age_seconds=10)
    orgs = await count_orgs(app)
    headers = keyed_json(world.host_admin, "claimed")
    response = await client.post(ORGS, content=ORG_BODY, headers=headers)

    assert_problem(response, 409)
    assert 1 <= int(response.headers["retry-after"]) <= 50  # the default claim lasts 60 s
    assert await count_orgs(app) == orgs


async def test_a_claim_its_request_never_finished_lapses(app, client, world):
    await leave_a_claim(app, world.host_admin, "abandoned", age_seconds=61)
    orgs = await count_orgs(app)
    headers = keyed_json(world.host_admin, "abandoned")
    first = await client.post(ORGS, content=ORG_BODY, headers=headers)
    second = await client.post(ORGS, content=ORG_BODY, headers=headers)

    assert first.status_code == 201, first.text
    assert (second.status_code, second.content) == (201, first.content)
    assert second.headers[REPLAYED] == "true"
    assert await count_orgs(app) == orgs + 1
