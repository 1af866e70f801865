"""Registering, reading, changing, rotating and removing webhooks through the API."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from service.audit.models import AuditEntry
from service.db import utcnow
from service.webhooks.models import WebhookSubscription
from tests.api.support import assert_problem
from tests.factories import audit_actions, client_persona
from tests.webhooks import URL, WEBHOOKS, admitting_loopback, stable, subscribe


@pytest.fixture
def allow_http() -> bool:
    return True


@pytest.fixture
def settings(settings, allow_http):
    return admitting_loopback(settings, allow_http=allow_http)


async def stored(app) -> list[WebhookSubscription]:
    async with app.state.database.sessions() as session:
        return list((await session.scalars(select(WebhookSubscription))).all())


async def test_the_secret_is_shown_once(client, world):
    created = await subscribe(client, world.host_admin, description="customs feed")
    assert created["secret"].startswith("whsec_")
    assert created["url"] == URL
    assert created["enabled"] is True
    assert created["organization_id"] == str(world.orgs["CA-GAC"].id)
    headers = world.host_admin.headers
    one = await client.get(f"{WEBHOOKS}/{created['id']}", headers=headers)
    listing = await client.get(WEBHOOKS, headers=headers)
    for shown in (one.json(), *listing.json()["items"]):
        assert shown == {key: value for key, value in created.items() if key != "secret"}
    for response in (one, listing):
        assert created["secret"] not in response.text
    assert one.json()["description"] == "customs feed"


async def test_the_secret_is_stored_encrypted(app, client, world):
    created = await subscribe(client, world.host_admin)
    [row] = await stored(app)
    assert created["secret"] not in row.secret
    assert app.state.secret_box.open(row.secret) == created["secret"]


async def test_each_organization_lists_only_its_own(client, world):
    ours = await subscribe(client, world.host_admin)
    theirs = await subscribe(client, world.other_admin)
    listed = await client.get(WEBHOOKS, headers=world.host_admin.headers)
    assert [item["id"] for item in listed.json()["items"]] == [ours["id"]]
    listed = await client.get(WEBHOOKS, headers=world.other_admin.headers)
    assert [item["id"] for item in listed.json()["items"]] == [theirs["id"]]


async def test_the_list_pages_oldest_first(client, world):
    ids = [(await subscribe(client, world.tr_admin))["id"] for _ in range(3)]
    first = (await client.get(WEBHOOKS, params={"limit": 2}, headers=world.tr_admin.headers)).json()
    rest = await client.get(
        WEBHOOKS, params={"cursor": first["next_cursor"]}, headers=world.tr_admin.headers
    )
    assert [item["id"] for item in first["items"] + rest.json()["items"]] == ids


FOREIGN_CALLS = [
    ("GET", "", None),
    ("PATCH", "", {"description": "mine now"}),
    ("DELETE", "", None),
    ("POST", "/rotate-secret", {}),
    ("POST", "/test", None),
    ("GET", "/deliveries", None),
    ("POST", "/redeliver-failed", {"since": "2020-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), FOREIGN_CALLS)
async def test_another_organizations_webhook_answers_like_a_random_id(
    client, world, method, suffix, body
):
    theirs = await subscribe(client, world.other_admin)
    headers = world.host_admin.headers
    foreign = await client.request(
        method, f"{WEBHOOKS}/{theirs['id']}{suffix}", json=body, headers=headers
    )
    random = await client.request(
        method, f"{WEBHOOKS}/{uuid.uuid4()}{suffix}", json=body, headers=headers
    )
    assert stable(assert_problem(foreign, 404)) == stable(assert_problem(random, 404))
    assert theirs["id"] not in str(stable(foreign.json()))
    still = await client.get(f"{WEBHOOKS}/{theirs['id']}", headers=world.other_admin.headers)
    assert still.json() == {key: value for key, value in theirs.items() if key != "secret"}


async def test_a_probe_of_another_organizations_webhook_is_audited(app, client, world):
    theirs = await subscribe(client, world.other_admin)
    await client.get(f"{WEBHOOKS}/{theirs['id']}", headers=world.host_admin.headers)
    assert await audit_actions(app, action="access.denied", entity_id=theirs["id"]) == [
        "access.denied"
    ]


@pytest.mark.parametrize("persona", ["officer", "auditor", "diplomat", "permit_system"])
async def test_only_admins_and_clients_with_the_scope_manage_webhooks(app, client, world, persona):
    headers = world.people[persona].headers
    body = {"url": URL, "event_types": ["notice.*"]}
    assert_problem(await client.post(WEBHOOKS, json=body, headers=headers), 403)
    assert_problem(await client.get(WEBHOOKS, headers=headers), 403)
    assert await stored(app) == []


async def test_a_client_with_the_scope_manages_its_organizations_webhooks(app, client, world):
    system = await client_persona(app, world, "CA-CBSA", ["webhooks:manage"])
    created = await subscribe(client, system, event_types=["permit.*"])
    assert created["organization_id"] == str(world.orgs["CA-CBSA"].id)
    listed = await client.get(WEBHOOKS, headers=system.headers)
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]


REFUSED_URLS = [
    "http://10.0.0.1/",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "https://user:pw@127.0.0.1/",
    "ftp://127.0.0.1/hook",
    "http://0x7f000002/",  # 127.0.0.2, spelled in hex: loopback, and not the one listed
    "http://0.0.0.0:9/hook",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_unreachable_or_malformed_urls_are_refused(app, client, world, url):
    body = {"url": url, "event_types": ["notice.*"]}
    response = await client.post(WEBHOOKS, json=body, headers=world.host_admin.headers)
    problem = assert_problem(response, 422)
    assert problem["code"] == "webhook-url-refused", problem
    assert problem["detail"]
    assert await stored(app) == []
    assert "webhook.created" not in await audit_actions(app)


@pytest.mark.parametrize("allow_http", [False])
async def test_plain_http_is_refused_unless_the_operator_allows_it(app, client, world):
    body = {"url": URL, "event_types": ["notice.*"]}
    response = await client.post(WEBHOOKS, json=body, headers=world.host_admin.headers)
    problem = assert_problem(response, 422)
    assert problem["code"] == "webhook-url-refused"
    assert "https" in problem["detail"]
    assert await stored(app) == []
    await subscribe(client, world.host_admin, url="https://127.0.0.1:9/hook")


@pytest.mark.parametrize(
    "event_types", [["notice.published"], ["spam.*"], ["*"], [], ["notice.*"] * 2]
)
async def test_event_types_must_be_known_and_distinct(app, client, world, event_types):
    body = {"url": URL, "event_types": event_types}
    response = await client.post(WEBHOOKS, json=body, headers=world.host_admin.headers)
    assert_problem(response, 422)
    assert await stored(app) == []


async def test_the_document_lists_the_types_a_subscription_accepts(app, client, world):
    listed = app.openapi()["components"]["schemas"]["WebhookCreate"]["properties"]
    names = listed["event_types"]["items"]["enum"]
    assert {"notice.issued", "notice.*", "webhook.*"} <= set(names)
    created = await subscribe(client, world.host_admin, event_types=names)
    assert created["event_types"] == names


async def test_every_family_and_type_is_accepted(client, world):
    types = ["webhook.*", "permit.*", "notice.issued", "consultation.response_overdue"]
    created = await subscribe(client, world.host_admin, event_types=types)
    assert created["event_types"] == types


async def test_dialogues_must_be_the_organizations_own(app, client, world):
    headers = world.host_admin.headers
    answers = []
    for dialogue_id in (world.other_dialogue_id, uuid.uuid4()):
        body = {"url": URL, "event_types": ["notice.*"], "dialogue_ids": [str(dialogue_id)]}
        answers.append(assert_problem(await client.post(WEBHOOKS, json=body, headers=headers), 422))
    assert answers[0]["detail"] == answers[1]["detail"]
    assert await stored(app) == []
    mine = await subscribe(client, world.host_admin, dialogue_ids=[str(world.dialogue_id)])
    assert mine["dialogue_ids"] == [str(world.dialogue_id)]
    observer = await client_persona(app, world, "CA-CBSA", ["webhooks:manage"])
    await subscribe(client, observer, dialogue_ids=[str(world.dialogue_id)])


@pytest.mark.parametrize(
    "extra",
    [
        {"id": str(uuid.uuid4())},
        {"secret": "whsec_bXlvd24="},
        {"organization_id": str(uuid.uuid4())},
        {"disabled_at": "2026-01-01T00:00:00Z"},
        {"failing_since": None},
    ],
)
async def test_server_owned_fields_cannot_be_set(app, client, world, extra):
    body = {"url": URL, "event_types": ["notice.*"], **extra}
    assert_problem(await client.post(WEBHOOKS, json=body, headers=world.host_admin.headers), 422)
    created = await subscribe(client, world.host_admin)
    patched = await client.patch(
        f"{WEBHOOKS}/{created['id']}", json=extra, headers=world.host_admin.headers
    )
    assert_problem(patched, 422)
    assert len(await stored(app)) == 1


async def test_rotation_gives_a_new_secret_and_keeps_the_old_one_for_the_overlap(
    app, client, world
):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    response = await client.post(
        url, json={"overlap_seconds": 3600}, headers=world.host_admin.headers
    )
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    assert timedelta(minutes=59) < expires - utcnow() <= timedelta(hours=1)
    [row] = await stored(app)
    assert app.state.secret_box.open(row.previous_secret) == created["secret"]
    shown = await client.get(f"{WEBHOOKS}/{created['id']}", headers=world.host_admin.headers)
    assert shown.json()["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    assert rotated["secret"] not in shown.text


async def test_rotation_without_overlap_keeps_no_previous_secret(app, client, world):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    response = await client.post(url, json={"overlap_seconds": 0}, headers=world.host_admin.headers)
    assert response.json()["previous_secret_expires_at"] is None
    [row] = await stored(app)
    assert row.previous_secret is None
    assert row.previous_secret_until is None


async def test_rotation_defaults_to_the_configured_overlap(app, client, world):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    rotated = (await client.post(url, headers=world.host_admin.headers)).json()
    expires = datetime.fromisoformat(rotated["previous_secret_expires_at"])
    overlap = timedelta(seconds=app.state.settings.webhook_rotation_overlap_seconds)
    assert overlap - timedelta(minutes=1) < expires - utcnow() <= overlap


async def test_an_overlap_written_as_a_whole_float_is_the_integer_it_is(client, world):
    # JSON Schema's integer includes 3600.0, so clients generated from the document may send it.
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    response = await client.post(
        url, json={"overlap_seconds": 3600.0}, headers=world.host_admin.headers
    )
    assert response.status_code == 200, response.text
    expires = datetime.fromisoformat(response.json()["previous_secret_expires_at"])
    assert timedelta(minutes=59) < expires - utcnow() <= timedelta(hours=1)


@pytest.mark.parametrize("overlap", [-1, 604801, "3600", 1.5, True])
async def test_rotation_overlap_is_bounded(client, world, overlap):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    response = await client.post(
        url, json={"overlap_seconds": overlap}, headers=world.host_admin.headers
    )
    assert_problem(response, 422)


async def test_a_second_rotation_keeps_only_the_latest_previous_secret(app, client, world):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}/rotate-secret"
    first = (await client.post(url, json={}, headers=world.host_admin.headers)).json()
    await client.post(url, json={}, headers=world.host_admin.headers)
    [row] = await stored(app)
    assert app.state.secret_box.open(row.previous_secret) == first["secret"]


async def test_patch_changes_only_what_it_names(client, world):
    created = await subscribe(client, world.host_admin, description="before")
    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}",
        json={"event_types": ["permit.*"], "dialogue_ids": [str(world.dialogue_id)]},
        headers=world.host_admin.headers,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["event_types"] == ["permit.*"]
    assert changed["dialogue_ids"] == [str(world.dialogue_id)]
    assert changed["description"] == "before"
    assert changed["url"] == URL
    assert changed["updated_at"] is not None


@pytest.mark.parametrize(
    "change",
    [
        {"url": "http://10.0.0.1/"},
        {"event_types": ["notice.unknown"]},
        {"dialogue_ids": ["00000000-0000-0000-0000-000000000001"]},
        {"url": None},
        {"enabled": "yes"},
    ],
)
async def test_patch_checks_like_create_and_changes_nothing_when_refused(
    app, client, world, change
):
    created = await subscribe(client, world.host_admin)
    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}", json=change, headers=world.host_admin.headers
    )
    assert_problem(response, 422)
    shown = await client.get(f"{WEBHOOKS}/{created['id']}", headers=world.host_admin.headers)
    assert shown.json() == {key: value for key, value in created.items() if key != "secret"}


async def test_turning_a_disabled_webhook_on_clears_why_it_stopped(app, client, world):
    created = await subscribe(client, world.host_admin)
    async with (
        app.state.database.sessions() as session
    ):  # as the worker does after days of failures
        await session.execute(
            update(WebhookSubscription).values(
                enabled=False,
                failing_since=utcnow() - timedelta(days=5),
                disabled_at=utcnow(),
                disabled_reason="Every attempt failed for 5 days.",
            )
        )
        await session.commit()
    url = f"{WEBHOOKS}/{created['id']}"
    response = await client.patch(url, json={"enabled": True}, headers=world.host_admin.headers)
    assert response.status_code == 200, response.text
    enabled = response.json()
    assert enabled["enabled"] is True
    assert enabled["disabled_at"] is None
    assert enabled["disabled_reason"] is None
    assert enabled["failing_since"] is None
    assert enabled["updated_at"] is not None


async def test_turning_a_webhook_off_says_so(client, world):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}"
    off = (
        await client.patch(url, json={"enabled": False}, headers=world.host_admin.headers)
    ).json()
    assert off["enabled"] is False
    assert off["disabled_at"] is not None
    assert off["disabled_reason"]


async def test_delete_removes_the_webhook(app, client, world):
    created = await subscribe(client, world.host_admin)
    url = f"{WEBHOOKS}/{created['id']}"
    response = await client.delete(url, headers=world.host_admin.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url, headers=world.host_admin.headers), 404)
    assert_problem(await client.delete(url, headers=world.host_admin.headers), 404)
    assert await stored(app) == []


async def test_every_change_is_audited_without_secrets_or_query_strings(app, client, world):
    headers = world.host_admin.headers
    created = await subscribe(client, world.host_admin, url=f"{URL}?token=s3cr3t")
    url = f"{WEBHOOKS}/{created['id']}"
    await client.patch(url, json={"url": f"{URL}?token=0th3r"}, headers=headers)
    rotated = (await client.post(f"{url}/rotate-secret", json={}, headers=headers)).json()
    await client.delete(url, headers=headers)
    actions = await audit_actions(app, entity_id=created["id"])
    assert actions == [
        "webhook.created",
        "webhook.updated",
        "webhook.secret_rotated",
        "webhook.deleted",
    ]
    async with app.state.database.sessions() as session:
        query = select(AuditEntry.details).where(AuditEntry.entity_id == created["id"])
        details = str((await session.scalars(query)).all())
    assert URL in details
    for secret in ("s3cr3t", "0th3r", created["secret"], rotated["secret"], "whsec_"):
        assert secret not in details


async def test_nothing_is_audited_for_a_refused_change(app, client, world):
    created = await subscribe(client, world.host_admin)
    await client.patch(
        f"{WEBHOOKS}/{created['id']}",
        json={"url": "http://10.0.0.1/"},
        headers=world.host_admin.headers,
    )
    assert await audit_actions(app, entity_id=created["id"]) == ["webhook.created"]
    async with app.state.database.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(WebhookSubscription))
    assert count == 1
