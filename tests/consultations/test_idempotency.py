"""A government system retrying a POST with the same Idempotency-Key gets the first answer."""

from __future__ import annotations

from service.consultations.models import Consultation, Message, ReadReceipt
from tests.api.support import assert_problem
from tests.consultations.helpers import (
    count,
    dialogue_url,
    events,
    new_consultation,
    open_consultation,
    url,
)
from tests.factories import audit_actions

REPLAYED = "idempotent-replayed"


def keyed(persona, key: str) -> dict[str, str]:
    return persona.headers | {"Idempotency-Key": key}


async def twice(client, path: str, headers: dict[str, str], body: dict | None = None):
    first = await client.post(path, json=body, headers=headers)
    second = await client.post(path, json=body, headers=headers)
    assert first.status_code < 300, first.text
    assert REPLAYED not in first.headers
    assert second.headers[REPLAYED] == "true"
    assert (second.status_code, second.content) == (first.status_code, first.content)
    return first.json()


async def test_opening_twice_opens_one(app, client, world):
    headers = keyed(world.officer, "open-1")
    opened = await twice(client, dialogue_url(world), headers, new_consultation())
    assert await count(app, Consultation) == 1
    assert [e["id"] for e in await events(app, "consultation.opened")] == [opened["id"]]


async def test_posting_twice_posts_one_message(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    headers = keyed(world.diplomat, "message-1")
    message = await twice(client, url(cid, "/messages"), headers, {"body": "Once only."})
    assert await count(app, Message) == 1
    assert [e["message"]["id"] for e in await events(app, "consultation.message_posted")] == [
        message["id"]
    ]
    other = await client.post(url(cid, "/messages"), json={"body": "Other."}, headers=headers)
    assert_problem(other, 422)
    assert await count(app, Message) == 1


async def test_marking_read_twice_records_once(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await twice(client, url(cid, "/read"), keyed(world.officer, "read-1"))
    assert await count(app, ReadReceipt) == 1
    assert (await audit_actions(app, entity_id=cid)).count("consultation.read") == 1


async def test_closing_twice_closes_once(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    closed = await twice(
        client, url(cid, "/close"), keyed(world.officer, "close-1"), {"outcome": "favorable"}
    )
    assert closed["status"] == "closed"
    assert len(await events(app, "consultation.closed")) == 1
    assert (await audit_actions(app, entity_id=cid)).count("consultation.closed") == 1
