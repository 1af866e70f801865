"""The web client's record pages: permits, assurances, the audit trail and webhooks.

What a signed-in person sees and may do, through plain HTTP against the app (no browser).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.assurances.helpers import request_body
from tests.domain import add_assurance, add_permits, permit_body
from tests.factories import World
from tests.notices.helpers import assurance_status, drafted_and_issued, rows
from tests.web.clients import Browser, browser, sign_in  # noqa: F401 - the fixture
from tests.webhooks import admitting_loopback, subscribe

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def settings(settings):
    """Webhooks may point at a loopback receiver here (nothing is sent in these tests)."""
    return admitting_loopback(settings)


def csrf_of(page: httpx.Response, action: str) -> str:
    """The CSRF token inside the page's form that posts to ``action`` (the form must exist)."""
    pattern = rf'<form method="post" action="{re.escape(action)}".*?</form>'
    form = re.search(pattern, page.text, re.S)
    assert form, f"the page has no form posting to {action}"
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.group(0))
    assert token, f"the form posting to {action} has no CSRF token"
    assert token.group(1), f"the CSRF token of the form posting to {action} is empty"
    return token.group(1)


async def post_form(
    client: httpx.AsyncClient, page_url: str, action: str, **fields: Any
) -> httpx.Response:
    """Submit the form of ``page_url`` that posts to ``action``, as a browser would."""
    page = await client.get(page_url)
    return await client.post(action, data={"csrf_token": csrf_of(page, action), **fields})


async def post_forged(client: httpx.AsyncClient, action: str, **fields: Any) -> httpx.Response:
    """POST to ``action`` with the session's valid token, though no page offers that form."""
    token = csrf_of(await client.get("/app/"), "/app/logout")
    return await client.post(action, data={"csrf_token": token, **fields})


def table_actions(page: httpx.Response) -> list[str]:
    body = page.text.split("<tbody>", 1)[1]
    return [unescape(value) for value in re.findall(r"<td><code>([^<]*)</code></td>", body)]


async def requested(client: httpx.AsyncClient, world: World, permit_ids: list[Any]) -> str:
    response = await client.post(
        f"/api/v1/dialogues/{world.dialogue_id}/assurances",
        json=request_body(permit_ids),
        headers=world.officer.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def certificate_form(**overrides: str) -> dict[str, str]:
    today = date.today()
    fields = {
        "end_user": "Turkish Armed Forces",
        "end_use": "Own use on the armed forces' UAVs; no re-export.",
        "destination_country": "TR",
        "retransfer_clause": "yes",
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "signatory_name": "A. Diplomat",
        "signatory_title": "Director General",
        "register_number": "TR-EUC-2020-17",
        "issue_date": (today - timedelta(days=10)).isoformat(),
        "document_sha256": "",
        "consent_to_verification": "yes",
    }
    return fields | overrides


# Permits


async def test_permits_list_shows_the_dialogues_permits_and_filters_by_status(
    app, client, world, browser
):
    first, second = await add_permits(app, world, 2)
    await drafted_and_issued(client, world, "suspension", [second.id])
    officer = await browser("officer")

    page = await officer.get("/app/permits")
    assert page.status_code == 200
    assert first.number in page.text
    assert second.number in page.text
    assert "Wescam Optics Inc." in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in page.headers["content-security-policy"]

    only = await officer.get(
        "/app/permits", params={"dialogue": str(world.dialogue_id), "status": "suspended"}
    )
    assert second.number in only.text
    assert first.number not in only.text
    assert (await officer.get("/app/permits", params={"status": "lost"})).status_code == 422


async def test_a_permit_page_shows_items_and_the_history_with_its_notice(
    app, client, world, browser
):
    (permit,) = await add_permits(app, world, 1)
    notice = await drafted_and_issued(client, world, "suspension", [permit.id])
    page = await (await browser("diplomat")).get(f"/app/permits/{permit.id}")
    assert page.status_code == 200
    assert permit.number in page.text
    assert "imaging turret" in page.text
    assert "2-5.a" in page.text
    history = page.text.split("Status history", 1)[1]
    assert "status-active" in history
    assert "status-suspended" in history
    assert f'href="/app/notices/{notice["id"]}"' in history


async def test_permits_are_paged_per_dialogue(app, world, browser):
    await add_permits(app, world, 55)
    officer = await browser("officer")
    first = await officer.get("/app/permits", params={"dialogue": str(world.dialogue_id)})
    assert first.text.count('href="/app/permits/') == 50
    more = re.search(r'href="(/app/permits\?[^"]*cursor=[^"]+)"', first.text)
    assert more
    rest = await officer.get(unescape(more.group(1)))
    assert rest.text.count('href="/app/permits/') == 5


async def test_the_observer_sees_permits_but_never_assurances(app, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id])
    observer = await browser("cbsa-officer")

    assert permit.number in (await observer.get("/app/permits")).text
    assert (await observer.get(f"/app/permits/{permit.id}")).status_code == 200
    assert (await observer.get(f"/app/assurances/{assurance.id}")).status_code == 404
    scoped = await observer.get("/app/assurances", params={"dialogue": str(world.dialogue_id)})
    assert scoped.status_code == 404
    listing = await observer.get("/app/assurances")
    assert listing.status_code == 200
    assert str(assurance.id) not in listing.text


async def test_the_outsider_gets_404_for_the_dialogues_records(app, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id])
    outsider = await browser("other-admin")
    for path in (
        f"/app/permits/{permit.id}",
        f"/app/assurances/{assurance.id}",
        f"/app/permits?dialogue={world.dialogue_id}",
    ):
        response = await outsider.get(path)
        assert response.status_code == 404, path
        assert permit.number not in response.text
    assert permit.number not in (await outsider.get("/app/permits")).text


# Assurances


async def test_the_counterpart_submits_a_requested_assurance_and_the_officer_accepts_it(
    app, client, world, browser
):
    (permit,) = await add_permits(app, world, 1)
    assurance_id = await requested(client, world, [permit.id])
    page_url = f"/app/assurances/{assurance_id}"

    diplomat = await browser("diplomat")
    page = await diplomat.get(page_url)
    assert page.status_code == 200
    assert f"{page_url}/submit" in page.text
    assert f"{page_url}/accept" not in page.text
    assert permit.number in page.text
    response = await post_form(diplomat, page_url, f"{page_url}/submit", **certificate_form())
    assert response.status_code == 303
    assert response.headers["location"] == page_url
    assert (await assurance_status(app, assurance_id)).status == "submitted"

    officer = await browser("officer")
    page = await officer.get(page_url)
    assert "TR-EUC-2020-17" in page.text
    assert f"{page_url}/accept" in page.text
    assert f"{page_url}/submit" not in page.text
    response = await post_form(officer, page_url, f"{page_url}/accept")
    assert response.status_code == 303
    assert (await assurance_status(app, assurance_id)).status == "accepted"
    assert f"{page_url}/accept" not in (await officer.get(page_url)).text


async def test_an_invalid_submission_is_a_422_page_and_changes_nothing(app, client, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance_id = await requested(client, world, [permit.id])
    page_url = f"/app/assurances/{assurance_id}"
    diplomat = await browser("diplomat")
    for bad in (
        {"destination_country": "Turkey"},
        {"retransfer_clause": ""},
        {"valid_until": "soon"},
    ):
        response = await post_form(
            diplomat, page_url, f"{page_url}/submit", **certificate_form(**bad)
        )
        assert response.status_code == 422, bad
        assert "text/html" in response.headers["content-type"]
    assert (await assurance_status(app, assurance_id)).status == "requested"


async def test_the_counterpart_withdraws_a_submitted_assurance(app, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id], status="submitted")
    page_url = f"/app/assurances/{assurance.id}"
    diplomat = await browser("diplomat")
    response = await post_form(diplomat, page_url, f"{page_url}/withdraw")
    assert response.status_code == 303
    assert (await assurance_status(app, assurance.id)).status == "withdrawn"


async def test_only_the_authoritys_officer_decides(app, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id], status="submitted")
    page_url = f"/app/assurances/{assurance.id}"
    diplomat = await browser("diplomat")
    assert f"{page_url}/accept" not in (await diplomat.get(page_url)).text
    response = await post_forged(diplomat, f"{page_url}/accept")
    assert response.status_code == 403
    assert (await assurance_status(app, assurance.id)).status == "submitted"


async def test_a_reject_needs_a_reason_and_the_reason_is_shown_escaped(app, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id], status="submitted")
    page_url = f"/app/assurances/{assurance.id}"
    officer = await browser("officer")

    refused = await post_form(officer, page_url, f"{page_url}/reject", reason="   ")
    assert refused.status_code == 422
    assert (await assurance_status(app, assurance.id)).status == "submitted"

    response = await post_form(officer, page_url, f"{page_url}/reject", reason=XSS)
    assert response.status_code == 303
    stored = await assurance_status(app, assurance.id)
    assert (stored.status, stored.decision_reason) == ("rejected", XSS)
    for reader in (officer, await browser("diplomat")):
        page = await reader.get(page_url)
        assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert XSS not in page.text


async def test_assurances_list_shows_those_of_my_dialogues(app, client, world, browser):
    (permit,) = await add_permits(app, world, 1)
    accepted = await add_assurance(app, world, [permit.id])
    asked = await requested(client, world, [permit.id])
    page = await (await browser("diplomat")).get("/app/assurances")
    assert f"/app/assurances/{accepted.id}" in page.text
    assert f"/app/assurances/{asked}" in page.text
    only = await (await browser("officer")).get(
        "/app/assurances", params={"dialogue": str(world.dialogue_id), "status": "requested"}
    )
    assert f"/app/assurances/{asked}" in only.text
    assert f"/app/assurances/{accepted.id}" not in only.text


async def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, world, browser):
    (permit,) = await add_permits(app, world, 1)
    assurance = await add_assurance(app, world, [permit.id], status="submitted")
    officer = await browser("officer")
    for step, fields in (("accept", {}), ("reject", {"reason": "No."})):
        response = await officer.post(f"/app/assurances/{assurance.id}/{step}", data=fields)
        assert response.status_code == 403, step
    forged = await officer.post(
        f"/app/assurances/{assurance.id}/accept", data={"csrf_token": "forged"}
    )
    assert forged.status_code == 403
    assert (await assurance_status(app, assurance.id)).status == "submitted"


# Audit trail


async def test_the_auditor_sees_an_intact_chain_and_filters_entries(world, browser):
    auditor = await browser("auditor")
    page = await auditor.get("/app/audit")
    assert page.status_code == 200
    assert re.search(r"Chain intact: \d+ entries", page.text)
    assert "dialogue.opened" in table_actions(page)

    filtered = await auditor.get("/app/audit", params={"action": "dialogue.opened"})
    assert table_actions(filtered) == ["dialogue.opened"]  # not the other authority's dialogue
    by_actor = await auditor.get("/app/audit", params={"actor": "no such person"})
    assert table_actions(by_actor) == []
    scoped = await auditor.get("/app/audit", params={"dialogue": str(world.dialogue_id)})
    assert table_actions(scoped)
    assert "CA-GAC and TR-MFA" in scoped.text


async def test_the_audit_trail_pages_with_a_cursor(client, world, browser):
    bulk = {"permits": [permit_body(f"AUD-{index:03d}") for index in range(55)]}
    response = await client.post(
        f"/api/v1/dialogues/{world.dialogue_id}/permits/bulk",
        json=bulk,
        headers=world.officer.headers,
    )
    assert response.status_code == 201, response.text
    auditor = await browser("tr-auditor")
    first = await auditor.get("/app/audit", params={"action": "permit.registered"})
    assert table_actions(first) == ["permit.registered"] * 50
    link = re.search(r'href="(/app/audit\?[^"]+)" rel="next"', first.text)
    assert link
    assert "action=permit.registered" in link.group(1)
    rest = await auditor.get(unescape(link.group(1)))
    assert table_actions(rest) == ["permit.registered"] * 5
    assert 'rel="next"' not in rest.text


async def test_non_auditors_get_a_403_page(world, browser):
    for username in ("officer", "cbsa-officer", "gac-admin"):
        response = await (await browser(username)).get("/app/audit")
        assert response.status_code == 403, username
        assert "Chain" not in response.text


# Webhooks


async def test_the_admin_sees_webhooks_queues_a_test_and_rotates_the_secret_once(
    app, client, world, browser
):
    created = await subscribe(client, world.host_admin, description="customs feed")
    admin = await browser("gac-admin")
    page = await admin.get("/app/webhooks")
    assert page.status_code == 200
    assert created["url"] in page.text
    assert "notice.*" in page.text
    assert "customs feed" in page.text
    assert created["secret"] not in page.text

    action = f"/app/webhooks/{created['id']}/test"
    response = await post_form(admin, "/app/webhooks", action)
    assert response.status_code == 303
    [delivery] = await rows(app, select(WebhookDelivery))
    assert delivery.event_type == "webhook.test"
    assert "webhook.test" in (await admin.get(response.headers["location"])).text

    action = f"/app/webhooks/{created['id']}/rotate"
    rotated = await post_form(admin, "/app/webhooks", action)
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    [secret] = re.findall(r"whsec_[A-Za-z0-9+/=_-]+", rotated.text)
    assert secret != created["secret"]
    [row] = await rows(app, select(WebhookSubscription))
    assert app.state.secret_box.open(row.secret) == secret
    assert secret not in (await admin.get("/app/webhooks")).text


async def test_webhook_posts_need_the_csrf_token(app, client, world, browser):
    created = await subscribe(client, world.host_admin)
    admin = await browser("gac-admin")
    for step in ("rotate", "test"):
        response = await admin.post(f"/app/webhooks/{created['id']}/{step}", data={})
        assert response.status_code == 403, step
        assert "whsec_" not in response.text
    [row] = await rows(app, select(WebhookSubscription))
    assert app.state.secret_box.open(row.secret) == created["secret"]
    assert await rows(app, select(WebhookDelivery)) == []


async def test_others_webhooks_are_not_found_and_non_admins_are_refused(client, world, browser):
    created = await subscribe(client, world.host_admin)
    outsider = await browser("other-admin")
    assert created["url"] not in (await outsider.get("/app/webhooks")).text
    action = f"/app/webhooks/{created['id']}/rotate"
    assert (await post_forged(outsider, action)).status_code == 404
    officer = await browser("officer")
    assert (await officer.get("/app/webhooks")).status_code == 403
