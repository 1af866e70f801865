"""Bad input is refused with 422 and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.db import utcnow
from tests.api.support import assert_problem
from tests.consultations.helpers import (
    dialogue_url,
    in_days,
    new_consultation,
    open_consultation,
    rows_written,
    url,
)

MAX_BODY = 20_000
BAD_CONSULTATIONS = {
    "unknown field": new_consultation(status="closed"),
    "NUL in subject": new_consultation(subject="Optics\x00"),
    "blank subject": new_consultation(subject="   "),
    "subject too long": new_consultation(subject="x" * 301),
    "unknown topic": new_consultation(topic="gossip"),
    "repeated permit": new_consultation(permit_ids=["6f1c6a3e-9f7b-4b1e-9a0e-3c2d1b0a9f8e"] * 2),
    "not a uuid": new_consultation(assurance_ids=["assurance-17"]),
}
BAD_MESSAGES = {
    "unknown field": {"body": "Hi", "sha256": "0" * 64},
    "NUL in body": {"body": "Hi\x00there"},
    "control character": {"body": "Hi\x07"},
    "too long body": {"body": "x" * (MAX_BODY + 1)},
    "blank body": {"body": " \n "},
    "missing body": {"classification": "UNCLASSIFIED"},
    "lower-case marking": {"body": "Hi", "classification": "protected b"},
    "marking with markup": {"body": "Hi", "classification": "<B>"},
    "past deadline": {"body": "Hi", "response_requested_by": in_days(-1)},
    "deadline without zone": {"body": "Hi", "response_requested_by": "2099-01-01T00:00:00"},
    "not a time": {"body": "Hi", "response_requested_by": "next Friday"},
}
BAD_CLOSINGS = {
    "unknown outcome": {"outcome": "won"},
    "unknown field": {"outcome": "resolved", "reason": "done"},
    "missing outcome": {},
}


@pytest.mark.parametrize("case", sorted(BAD_CONSULTATIONS))
async def test_bad_consultations(app, client, world, case):
    before = await rows_written(app)
    response = await client.post(
        dialogue_url(world), json=BAD_CONSULTATIONS[case], headers=world.officer.headers
    )
    assert_problem(response, 422)
    assert await rows_written(app) == before


async def test_bad_messages(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    before = await rows_written(app)
    for case, body in BAD_MESSAGES.items():
        response = await client.post(
            url(cid, "/messages"), json=body, headers=world.officer.headers
        )
        assert response.status_code == 422, (case, response.text)
        assert_problem(response, 422)
    assert await rows_written(app) == before


async def test_bad_closings(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    for case, body in BAD_CLOSINGS.items():
        response = await client.post(url(cid, "/close"), json=body, headers=world.officer.headers)
        assert response.status_code == 422, (case, response.text)
    consultation = await client.get(url(cid), headers=world.officer.headers)
    assert consultation.json()["status"] == "open"


async def test_the_longest_body_and_a_near_deadline_are_accepted(app, client, world):
    cid = (await open_consultation(client, world))["id"]
    soon = (utcnow() + timedelta(minutes=5)).isoformat()
    body = {
        "body": "é" * MAX_BODY,
        "response_requested_by": soon,
        "classification": "SECRET//REL CAN",
    }
    response = await client.post(url(cid, "/messages"), json=body, headers=world.officer.headers)
    assert response.status_code == 201, response.text


async def test_unknown_ids_and_bad_filters(app, client, world):
    missing = url("6f1c6a3e-9f7b-4b1e-9a0e-3c2d1b0a9f8e")
    assert_problem(await client.get(missing, headers=world.officer.headers), 404)
    assert_problem(await client.get(url("not-a-uuid"), headers=world.officer.headers), 422)
    filtered = await client.get(
        dialogue_url(world), params={"status": "pending"}, headers=world.officer.headers
    )
    assert_problem(filtered, 422)
    paged = await client.get(
        dialogue_url(world), params={"cursor": "garbage!"}, headers=world.officer.headers
    )
    assert_problem(paged, 422)
