"""The data the fuzzer walks through: the seed case played to its end, plus objects left midway.

The test World's parties, the demo's own users (so ``demo_story`` plays the case over the API as
``entente demo`` does), and one object in each state a request might meet: active permits, a
requested assurance, an open consultation, a draft notice, a webhook with a delivery. Each id is
offered to the fuzzer under the path parameter that names it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx

from service import demo, demo_story
from service.uow import UnitOfWork
from tests.assurances.helpers import request_body
from tests.consultations.helpers import new_consultation
from tests.domain import permit_body
from tests.factories import PASSWORD, World, build_world
from tests.notices.helpers import notice_body

API = "/api/v1"


async def build(app: Any, client: httpx.AsyncClient) -> tuple[World, dict[str, list[str]]]:
    """The world and, per path parameter name, the ids of real objects."""
    world = await build_world(app, client)
    await add_demo_users(app, world)
    ids: dict[str, list[str]] = defaultdict(list)
    story = await demo_story.play(client, dialogue_id=str(world.dialogue_id), password=PASSWORD)
    ids["assurance_id"].append(story["assurance"])
    ids["consultation_id"].append(story["consultation"])
    await add_objects_midway(client, world, ids)
    ids["dialogue_id"] += [str(world.dialogue_id), str(world.other_dialogue_id)]
    ids["org_id"] += [str(org.id) for org in world.orgs.values()]
    await add_listed(client, world, ids)
    return world, dict(ids)


async def add_demo_users(app: Any, world: World) -> None:
    """The demo's users (``gac-officer``, ``tr-diplomat``, ...) beside the World's own."""
    admin = world.host_admin.principal
    uow = UnitOfWork(app.state.database).as_actor(admin.as_actor())
    for code, users in demo.USERS.items():
        for username, display_name, roles in users:
            await demo.ensure_user(
                uow, admin, world.orgs[code], username, display_name, roles, PASSWORD
            )


async def add_objects_midway(client: httpx.AsyncClient, world: World, ids) -> None:
    officer, diplomat = world.officer.headers, world.diplomat.headers
    d = f"{API}/dialogues/{world.dialogue_id}"
    permits = [
        await call(client, "POST", f"{d}/permits", officer, permit_body(f"FUZZ-{n}"))
        for n in range(3)
    ]
    permit_ids = [permit["id"] for permit in permits]
    ids["permit_id"] += permit_ids
    requested = await call(client, "POST", f"{d}/assurances", officer, request_body(permit_ids))
    ids["assurance_id"].append(requested["id"])
    consultation = await call(
        client, "POST", f"{d}/consultations", diplomat, new_consultation(permit_ids=permit_ids[:1])
    )
    ids["consultation_id"].append(consultation["id"])
    message = {"body": "Please confirm the consignee's address.", "classification": "UNCLASSIFIED"}
    thread = f"{API}/consultations/{consultation['id']}"
    await call(client, "POST", f"{thread}/messages", diplomat, message)
    drafted = await call(
        client, "POST", f"{d}/notices", officer, notice_body("suspension", permit_ids[:2])
    )
    ids["notice_id"].append(drafted["id"])


async def add_listed(client: httpx.AsyncClient, world: World, ids) -> None:
    """Ids the story left that only a list shows: permits, notices, users, a webhook."""
    officer, admin = world.officer.headers, world.host_admin.headers
    d = f"{API}/dialogues/{world.dialogue_id}"
    story_permits = await call(client, "GET", f"{d}/permits?limit=2&status=cancelled", officer)
    ids["permit_id"] += [permit["id"] for permit in story_permits["items"]]
    notices = await call(client, "GET", f"{d}/notices?status=acknowledged", officer)
    ids["notice_id"] += [notice["id"] for notice in notices["items"]]
    users = await call(client, "GET", f"{API}/users?limit=200", admin)
    # Only the demo's users: a fuzzed PATCH deactivating a party would end that party's run.
    demo_names = {name for users_ in demo.USERS.values() for name, _, _ in users_}
    ids["user_id"] += [user["id"] for user in users["items"] if user["username"] in demo_names]
    hook = {"url": "http://127.0.0.1:9/entente", "event_types": ["notice.*"]}
    webhook = await call(client, "POST", f"{API}/webhooks", admin, hook)
    ids["webhook_id"].append(webhook["id"])
    queued = await call(client, "POST", f"{API}/webhooks/{webhook['id']}/test", admin, {})
    ids["delivery_id"].append(queued["delivery_id"])
    gac = str(world.orgs["CA-GAC"].id)
    spare = {"organization_id": gac, "name": "spare", "scopes": ["permits:read"]}
    ids["client_id"].append((await call(client, "POST", f"{API}/clients", admin, spare))["id"])


async def call(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], body: Any = None
) -> Any:
    response = await client.request(method, url, json=body, headers=headers)
    assert response.status_code < 300, f"{method} {url}: {response.status_code} {response.text}"
    return response.json()
