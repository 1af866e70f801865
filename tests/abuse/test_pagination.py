"""SECURITY.md, Input and Access: ``limit`` out of range → 422; tampered cursors → 422; lists,
filters and cursors copied from another organization's response show only your rows. ∅ always."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime

import pytest

from service.api.pagination import encode_cursor
from tests.abuse.catalogue import Row, check, params

ORGS = "/api/v1/organizations"
LISTS = {
    "organizations": (ORGS, "host_admin"),
    "users": ("/api/v1/users", "host_admin"),
    "clients": ("/api/v1/clients", "host_admin"),
    "webhooks": ("/api/v1/webhooks", "host_admin"),
    "deliveries": ("/api/v1/webhooks/{our_webhook}/deliveries", "host_admin"),
    "dialogues": ("/api/v1/dialogues", "officer"),
    "permits": ("/api/v1/dialogues/{dialogue}/permits", "officer"),
    "assurances": ("/api/v1/dialogues/{dialogue}/assurances", "officer"),
    "consultations": ("/api/v1/dialogues/{dialogue}/consultations", "officer"),
    "messages": ("/api/v1/consultations/{our_consultation}/messages", "officer"),
    "notices": ("/api/v1/dialogues/{dialogue}/notices", "officer"),
    "audit": ("/api/v1/audit", "auditor"),
}


def forge(value: object) -> str:
    """A cursor in this service's format (base64 of JSON) around arbitrary content."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def forge_text(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def get(name: str, path: str, persona: str, expect: int = 422, **params) -> Row:
    return Row(name, "GET", path, expect, persona, params=params)


LIMITS = (
    [
        get(f"limit {limit} on organizations", ORGS, "host_admin", limit=limit)
        for limit in ["0", "201", "-1", "abc", "1e3", "1.5", "", "99999999999999999999", "\x00"]
    ]
    + [
        get(f"limit {limit} on {name}", path, persona, limit=limit)
        for name, (path, persona) in LISTS.items()
        for limit in ["0", "201"]
        if name != "organizations"
    ]
    + [
        get("limit repeated, the last out of range", ORGS, "host_admin", limit=["1", "500"]),
        get("limit repeated, the last in range", ORGS, "host_admin", 200, limit=["500", "1"]),
        get("events limit 0", "/api/v1/events", "officer", limit="0"),
    ]
)

TAMPERED = {
    "not-base64": "!!!not-base64!!!",
    "non-ascii": "é",
    "one-char": "a",
    "NUL": "\x00",
    "null": forge(None),
    "object": forge({}),
    "string": forge("ab"),
    "numbers": forge([1, 2]),
    "bad-uuid": forge(["2024-01-01T00:00:00+00:00", "not-a-uuid"]),
    "bad-time": forge(["yesterday", str(uuid.uuid4())]),
    "naive-time": forge(["2024-01-01T00:00:00", str(uuid.uuid4())]),
    "three-parts": forge(["2024-01-01T00:00:00+00:00", str(uuid.uuid4()), "extra"]),
    "numeric-id": forge(["2024-01-01T00:00:00+00:00", 123]),
    "list-id": forge(["2024-01-01T00:00:00+00:00", ["x"]]),
    "after-year-9999": forge(["9999-12-31T23:59:59-14:00", str(uuid.uuid4())]),
    "before-year-1": forge(["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]),
    "deeply-nested": forge_text("[" * 5000 + "]" * 5000)[:200],
    "too-long": "A" * 201,
}
POSITIONS = {
    "not-a-number": forge_text("ten"),
    "negative": forge_text("-1"),
    "beyond-int64": forge_text(str(2**63)),
    "a float": forge_text("1.5"),
    "not-base64": "!!!",
}

CURSORS = (
    [
        get(f"cursor {name} on organizations", ORGS, "host_admin", cursor=c)
        for name, c in TAMPERED.items()
    ]
    + [
        get(f"cursor {name} on {list_name}", path, persona, cursor=TAMPERED[name])
        for list_name, (path, persona) in LISTS.items()
        if list_name not in {"organizations", "audit"}
        for name in ("not-base64", "after-year-9999")
    ]
    + [
        get(f"audit cursor {name}", "/api/v1/audit", "auditor", cursor=c)
        for name, c in POSITIONS.items()
    ]
    + [
        get(f"events after {name}", "/api/v1/events", "officer", after=c)
        for name, c in POSITIONS.items()
    ]
)

FILTERS = [
    get("permit status unknown", LISTS["permits"][0], "officer", status="lost"),
    get("permit number NUL", LISTS["permits"][0], "officer", number="EXP\x00"),
    get("permit exporter NUL", LISTS["permits"][0], "officer", exporter="Wes\x00cam"),
    get("audit action NUL", "/api/v1/audit", "auditor", action="permit\x00"),
    get("event types NUL", "/api/v1/events", "officer", types="permit.*\x00"),
    get("permit number too long", LISTS["permits"][0], "officer", number="x" * 65),
    get("assurance status unknown", LISTS["assurances"][0], "officer", status="lost"),
    get("notice kind unknown", LISTS["notices"][0], "officer", kind="empire"),
    get("users of an org not a uuid", "/api/v1/users", "host_admin", organization_id="CA-GAC"),
    get("audit of a dialogue not a uuid", "/api/v1/audit", "auditor", dialogue_id="x"),
    get("audit action too long", "/api/v1/audit", "auditor", action="x" * 81),
    Row(
        "users of another organization",
        "GET",
        "/api/v1/users",
        403,
        "tr_admin",
        params={"organization_id": "{their_org}"},
        audit="access.denied",
    ),
    Row(
        "clients of another organization",
        "GET",
        "/api/v1/clients",
        403,
        "tr_admin",
        params={"organization_id": "{their_org}"},
        audit="access.denied",
    ),
    get("event types too long", "/api/v1/events", "officer", types="x" * 1001),
]


@pytest.mark.parametrize("row", params(LIMITS + CURSORS + FILTERS))
async def test_list_parameters(scene, row):
    await check(scene, row)


async def test_a_users_cursor_of_another_organization_shows_only_your_rows(scene):
    client, world = scene.client, scene.world
    host_page = await client.get(
        "/api/v1/users", params={"limit": 1}, headers=world.host_admin.headers
    )
    cursor = host_page.json()["next_cursor"]
    assert cursor is not None

    other = world.other_admin
    response = await client.get("/api/v1/users", params={"cursor": cursor}, headers=other.headers)
    assert response.status_code == 200, response.text
    orgs = {user["organization_id"] for user in response.json()["items"]}
    assert orgs <= {str(other.principal.org_id)}


async def test_an_organizations_cursor_reused_by_another_party(scene):
    client, world = scene.client, scene.world
    host_page = await client.get(ORGS, params={"limit": 1}, headers=world.host_admin.headers)
    cursor = host_page.json()["next_cursor"]
    headers = world.other_admin.headers
    visible = {org["id"] for org in (await client.get(ORGS, headers=headers)).json()["items"]}
    response = await client.get(ORGS, params={"cursor": cursor}, headers=headers)
    assert response.status_code == 200, response.text
    assert {org["id"] for org in response.json()["items"]} <= visible


@pytest.mark.parametrize("name", ["permits", "consultations", "notices"])
async def test_a_cursor_of_another_dialogue_shows_only_your_rows(scene, name):
    """The cursor our first row would give, used by a party of the other dialogue on theirs."""
    path, persona = LISTS[name]
    ours = scene.world.people[persona].headers
    [first] = (await scene.client.get(scene.path(path), headers=ours)).json()["items"]
    cursor = encode_cursor(datetime.fromisoformat(first["created_at"]), uuid.UUID(first["id"]))
    theirs = path.replace("{dialogue}", "{their_dialogue}")
    headers = scene.world.other_auditor.headers
    response = await scene.client.get(
        scene.path(theirs), params={"cursor": cursor}, headers=headers
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items, "their rows, made after ours, follow the cursor"
    assert {item["dialogue_id"] for item in items} == {scene.ids["their_dialogue"]}


async def test_the_audit_of_another_dialogue_by_filter_is_empty(scene):
    params = {"dialogue_id": scene.ids["dialogue"]}
    response = await scene.client.get(
        "/api/v1/audit", params=params, headers=scene.world.other_auditor.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
