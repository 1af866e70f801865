"""Opening, messaging, answering and closing a consultation, as the two sides would."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

from service.audit.models import AuditEntry
from service.consultations.models import Message
from service.permits.models import Permit
from tests.api.support import assert_problem
from tests.consultations.helpers import (
    count,
    dialogue_url,
    events,
    fetch,
    in_days,
    new_consultation,
    open_consultation,
    post,
    rows_written,
    url,
)
from tests.domain import add_assurance, add_permits
from tests.factories import audit_actions


async def test_opening_links_permits_and_assurances(app, client, world):
    permits = await add_permits(app, world, 2)
    assurance = await add_assurance(app, world, [p.id for p in permits])
    permit_ids = sorted(str(p.id) for p in permits)

    opened = await open_consultation(
        client, world, permit_ids=permit_ids, assurance_ids=[str(assurance.id)]
    )

    assert opened["status"] == "open"
    assert opened["dialogue_id"] == str(world.dialogue_id)
    assert sorted(opened["permit_ids"]) == permit_ids
    assert opened["assurance_ids"] == [str(assurance.id)]
    assert opened["opened_by"] == str(world.officer.id)
    assert opened["opened_by_side"] == "authority"
    assert (opened["awaiting_side"], opened["overdue"], opened["read_receipts"]) == (
        None,
        False,
        [],
    )
    assert await fetch(client, world.diplomat, opened["id"]) == opened
    assert [e["id"] for e in await events(app, "consultation.opened")] == [opened["id"]]
    assert await audit_actions(app, entity_id=opened["id"]) == ["consultation.opened"]


async def test_links_must_exist_in_this_dialogue(app, client, world):
    before = await rows_written(app)
    ghost_permit, ghost_assurance = str(uuid.uuid4()), str(uuid.uuid4())
    body = new_consultation(permit_ids=[ghost_permit], assurance_ids=[ghost_assurance])

    response = await client.post(dialogue_url(world), json=body, headers=world.officer.headers)

    problem = assert_problem(response, 422)
    assert problem["unknown_permit_ids"] == [ghost_permit]
    assert problem["unknown_assurance_ids"] == [ghost_assurance]
    assert await rows_written(app) == before


async def test_a_request_awaits_the_counterpart_until_it_answers(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    due = in_days(7)

    await post(client, world.officer, cid, "Where are the turrets?", response_requested_by=due)
    awaiting = await fetch(client, world.diplomat, cid)
    assert awaiting["status"] == "awaiting_response"
    assert awaiting["awaiting_side"] == "counterpart"
    assert awaiting["response_due_at"].replace("+00:00", "Z")[:19] == due[:19]

    await post(client, world.officer, cid, "A reminder, not an answer.")
    assert (await fetch(client, world.officer, cid))["awaiting_side"] == "counterpart"

    await post(client, world.diplomat, cid, "With the armed forces.")
    answered = await fetch(client, world.officer, cid)
    assert (answered["status"], answered["awaiting_side"], answered["response_due_at"]) == (
        "open",
        None,
        None,
    )


async def test_a_request_from_the_counterpart_awaits_the_authority(app, client, world):
    cid = (await open_consultation(client, world, world.diplomat))["id"]

    await post(client, world.diplomat, cid, "Why the suspension?", response_requested_by=in_days(3))
    assert (await fetch(client, world.officer, cid))["awaiting_side"] == "authority"

    # An answer that asks something back turns the wait around at once.
    await post(client, world.officer, cid, "Because. Confirm?", response_requested_by=in_days(5))
    turned = await fetch(client, world.officer, cid)
    assert (turned["status"], turned["awaiting_side"]) == ("awaiting_response", "counterpart")


async def test_a_message_is_stored_with_its_hash_and_author(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    body = "Güvence — 保证\nSecond line, trailing space "

    message = await post(client, world.diplomat, cid, body, classification="PROTECTED B")

    assert message["body"] == body
    assert message["sha256"] == hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert message["classification"] == "PROTECTED B"
    assert message["author_id"] == str(world.diplomat.id)
    assert message["author_name"] == world.diplomat.principal.name
    assert message["organization_id"] == str(world.orgs["TR-MFA"].id)
    assert message["side"] == "counterpart"
    assert message["consultation_id"] == cid
    assert message["created_at"]
    assert message["response_requested_by"] is None
    assert message["read_by_other_side"] is False
    default = await post(client, world.officer, cid, "Noted.")
    assert default["classification"] == "UNCLASSIFIED"


async def test_markup_is_kept_verbatim_as_json_text(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    script = "<script>alert(1)</script>"

    response = await client.post(
        url(cid, "/messages"), json={"body": script}, headers=world.officer.headers
    )

    assert response.headers["content-type"].startswith("application/json")
    assert '"body":"<script>alert(1)</script>"' in response.text
    listed = await client.get(url(cid, "/messages"), headers=world.diplomat.headers)
    assert listed.json()["items"][0]["body"] == script


async def test_messages_are_listed_oldest_first_in_pages(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    for index in range(5):
        author = world.officer if index % 2 == 0 else world.diplomat
        await post(client, author, cid, f"message {index}")

    bodies, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await client.get(url(cid, "/messages"), params=params, headers=world.officer.headers)
        assert page.status_code == 200, page.text
        bodies += [m["body"] for m in page.json()["items"]]
        pages += 1
        cursor = page.json()["next_cursor"]
        if not cursor:
            break

    assert bodies == [f"message {index}" for index in range(5)]
    assert pages == 3


async def test_consultations_are_listed_by_status(app, client, world):
    first = await open_consultation(client, world)
    second = await open_consultation(client, world, world.diplomat, subject="Second")
    await post(client, world.officer, second["id"], "Answer?", response_requested_by=in_days(2))

    everything = await client.get(dialogue_url(world), headers=world.diplomat.headers)
    waiting = await client.get(
        dialogue_url(world), params={"status": "awaiting_response"}, headers=world.officer.headers
    )
    paged = await client.get(
        dialogue_url(world), params={"limit": 1}, headers=world.officer.headers
    )

    assert [c["id"] for c in everything.json()["items"]] == [first["id"], second["id"]]
    assert [c["id"] for c in waiting.json()["items"]] == [second["id"]]
    assert [c["id"] for c in paged.json()["items"]] == [first["id"]]
    assert paged.json()["next_cursor"]


async def test_closing_records_the_outcome_once(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await post(client, world.officer, cid, "Answer?", response_requested_by=in_days(2))

    closed = await client.post(
        url(cid, "/close"), json={"outcome": "unfavorable"}, headers=world.officer.headers
    )

    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["status"], body["outcome"], body["closed_by"]) == (
        "closed",
        "unfavorable",
        str(world.officer.id),
    )
    assert body["closed_at"]
    assert (body["awaiting_side"], body["overdue"]) == (None, False)
    assert [e["outcome"] for e in await events(app, "consultation.closed")] == ["unfavorable"]
    before, entries = await rows_written(app), await count(app, AuditEntry)
    again = await client.post(
        url(cid, "/close"), json={"outcome": "resolved"}, headers=world.officer.headers
    )
    assert_problem(again, 409)
    assert (await fetch(client, world.officer, cid))["outcome"] == "unfavorable"
    assert (await rows_written(app), await count(app, AuditEntry)) == (before, entries)


async def test_a_closed_consultation_refuses_messages(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    await client.post(
        url(cid, "/close"), json={"outcome": "resolved"}, headers=world.officer.headers
    )
    before, entries = await rows_written(app), await count(app, AuditEntry)

    response = await client.post(
        url(cid, "/messages"), json={"body": "Too late?"}, headers=world.diplomat.headers
    )

    assert_problem(response, 409)
    assert (await rows_written(app), await count(app, AuditEntry)) == (before, entries)
    assert await count(app, Message, Message.consultation_id == uuid.UUID(cid)) == 0


async def test_events_and_audit_of_a_message(app, client, world):
    cid = (await open_consultation(client, world))["id"]

    message = await post(client, world.officer, cid, "Answer?", response_requested_by=in_days(1))

    (event,) = await events(app, "consultation.message_posted")
    assert event["message"]["id"] == message["id"]
    assert event["message"]["sha256"] == message["sha256"]
    assert event["consultation"]["status"] == "awaiting_response"
    assert await audit_actions(app, entity_id=message["id"]) == ["consultation.message_posted"]


async def test_a_permit_of_another_dialogue_cannot_be_linked(app, client, world):
    foreign = Permit(
        dialogue_id=world.other_dialogue_id,
        authority_id=world.orgs["GB-ECJU"].id,
        number="GB-1",
        number_key="gb-1",
        exporter="x",
        consignee="x",
        end_user="x",
        destination_country="FR",
        items=[],
        valid_from=date.today(),
        valid_until=date.today(),
    )
    async with app.state.database.sessions() as session:
        session.add(foreign)
        await session.commit()

    body = new_consultation(permit_ids=[str(foreign.id)])
    response = await client.post(dialogue_url(world), json=body, headers=world.officer.headers)

    assert assert_problem(response, 422)["unknown_permit_ids"] == [str(foreign.id)]
