"""The signed notice verifies offline against our JWKS, and only as issued."""

from __future__ import annotations

import base64
import json

import pytest
from jose import jws
from jose.exceptions import JWSError

from service.notices.schemas import SignedNotice
from tests.api.support import assert_problem
from tests.domain import add_assurance, add_permits
from tests.notices.helpers import draft, drafted_and_issued, events


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def verify(client, token: str) -> bytes:
    """The payload, verified with the key /.well-known/jwks.json publishes for the token's kid."""
    keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    kid = json.loads(b64decode(token.split(".")[0]))["kid"]
    [key] = [k for k in keys if k["kid"] == kid]
    return jws.verify(token, key, algorithms=["ES256"])


async def signed_notice(app, client, world):
    permits = await add_permits(app, world, 2)
    assurance = await add_assurance(app, world, [permits[0].id])
    issued = await drafted_and_issued(
        client, world, "cancellation", [p.id for p in permits],
        breached_assurance_ids=[str(assurance.id)], classification="PROTECTED A",
    )  # fmt: skip
    response = await client.get(
        f"/api/v1/notices/{issued['id']}/signed", headers=world.diplomat.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jose")
    return issued, response.text


async def test_the_jws_verifies_and_its_payload_is_the_notice(app, client, world):
    issued, token = await signed_notice(app, client, world)
    header = json.loads(b64decode(token.split(".")[0]))
    assert (header["alg"], header["typ"]) == ("ES256", "entente-notice+jws")
    payload = await verify(client, token)
    document = json.loads(payload)
    assert set(document) == set(SignedNotice.model_fields)
    assert document == {name: issued[name] for name in document}
    assert document["permits"][0]["to_status"] == "cancelled"
    # The canonical form: sorted keys, no whitespace, UTF-8.
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert payload == canonical.encode("utf-8")


async def test_the_jws_is_the_same_after_acknowledgement(app, client, world):
    issued, token = await signed_notice(app, client, world)
    url = f"/api/v1/notices/{issued['id']}"
    await client.post(f"{url}/acknowledge", json={}, headers=world.diplomat.headers)
    again = await client.get(f"{url}/signed", headers=world.cbsa_officer.headers)
    assert again.text == token


@pytest.mark.parametrize("position", [2, 40, -3])
async def test_one_altered_character_breaks_the_signature(app, client, world, position):
    _issued, token = await signed_notice(app, client, world)
    header, payload, signature = token.split(".")
    raw = bytearray(b64decode(payload))
    raw[position] = ord("X") if raw[position] != ord("X") else ord("Y")
    forged = ".".join([header, b64encode(bytes(raw)), signature])
    with pytest.raises(JWSError):
        await verify(client, forged)


async def test_the_issued_event_carries_the_same_jws(app, client, world):
    issued, token = await signed_notice(app, client, world)
    [event] = await events(app, "notice.issued")
    assert event.data["jws"] == token
    assert event.data["notice"] == issued
    assert json.loads(await verify(client, event.data["jws"]))["reference"] == issued["reference"]


async def test_a_draft_has_no_signed_form(app, client, world):
    [permit] = await add_permits(app, world, 1)
    notice = await draft(client, world, "suspension", [permit.id])
    response = await client.get(
        f"/api/v1/notices/{notice['id']}/signed", headers=world.officer.headers
    )
    assert_problem(response, 404)
