"""The web client's dialogue pages: a dialogue, consultation threads and decision notices.

What a signed-in person sees and may do, through plain HTTP against the app (no browser).
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import select

from service.consultations.models import Message
from service.notices.models import DecisionNotice
from tests.consultations.helpers import open_consultation, post
from tests.domain import add_assurance, add_permits
from tests.factories import World
from tests.notices.helpers import assurance_status, new_user, rows, statuses
from tests.web.clients import Browser, browser, sign_in  # noqa: F401 - the fixture


def csrf_of(page: httpx.Response, action: str | None = None) -> str:
    """The CSRF token of the page's form posting to ``action`` (any signed-in page's if None)."""
    form = rf'<form[^>]*action="{re.escape(action)}"[^>]*>(?:(?!</form>).)*?' if action else ""
    match = re.search(form + r'name="csrf_token" value="([^"]+)"', page.text, re.DOTALL)
    assert match, f"the page has no form to {action} with a CSRF token"
    return match.group(1)


async def submit(
    client: httpx.AsyncClient, page_url: str, action: str, **fields: Any
) -> httpx.Response:
    """Send the form of ``page_url`` that posts to ``action``, as a browser would."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_of(page, action), **fields})


def text_of(page: httpx.Response) -> str:
    """The page's text, tags removed and entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page.text)).split())


async def messages_in(app) -> int:
    return len(await rows(app, select(Message.id)))


# Dialogue


async def test_the_dialogue_page_lists_parties_consultations_and_notices(app, world, browser):
    officer = await browser("officer")
    page = await officer.get(f"/app/dialogues/{world.dialogue_id}")
    assert page.status_code == 200
    seen = text_of(page)
    assert "Global Affairs Canada" in seen
    assert "Türkiye MFA" in seen
    assert "Canada Border Services Agency" in seen
    assert f'href="/app/permits?dialogue={world.dialogue_id}"' in page.text
    assert f'href="/app/assurances?dialogue={world.dialogue_id}"' in page.text
    assert f'href="/app/dialogues/{world.dialogue_id}/notices/new"' in page.text

    action = f"/app/dialogues/{world.dialogue_id}/consultations"
    opened = await submit(
        officer,
        f"/app/dialogues/{world.dialogue_id}",
        action,
        subject="Optics seen in a third country",
        topic="allegation",
    )
    assert opened.status_code == 303
    assert opened.headers["location"].startswith("/app/consultations/")

    listed = text_of(await officer.get(f"/app/dialogues/{world.dialogue_id}"))
    assert "Optics seen in a third country" in listed
    assert "Allegation" in listed


async def test_an_observer_sees_the_dialogue_without_consultations_or_forms(client, world, browser):
    await open_consultation(client, world, subject="Private to the two parties")
    page = await (await browser("cbsa-officer")).get(f"/app/dialogues/{world.dialogue_id}")
    assert page.status_code == 200
    assert "Private to the two parties" not in page.text
    assert "/consultations" not in page.text
    assert "notices/new" not in page.text
    assert "/app/assurances?" not in page.text


# Consultations


async def test_the_diplomat_reads_the_thread_and_replies(app, client, world, browser):
    consultation = await open_consultation(client, world)
    first = await post(client, world.officer, consultation["id"], "Please confirm\nthe end user.")
    diplomat = await browser("diplomat")
    url = f"/app/consultations/{consultation['id']}"

    page = await diplomat.get(url)
    assert page.status_code == 200
    assert "Please confirm\nthe end user." in page.text  # whitespace kept, shown by CSS
    assert first["sha256"] in page.text
    assert '<p class="classification">UNCLASSIFIED</p>' in page.text
    assert "officer" in text_of(page)
    assert "Global Affairs Canada" in text_of(page)

    reply = await submit(diplomat, url, f"{url}/messages", body="Confirmed, it stays.")
    assert reply.status_code == 303
    assert reply.headers["location"].startswith(url)
    assert "Confirmed, it stays." in (await diplomat.get(url)).text

    # The diplomat's visit left a receipt: the officer sees the message read by the other side.
    seen = text_of(await (await browser("officer")).get(url))
    assert "Read by the other side at" in seen
    assert "Read by Counterpart ministry" in seen


async def test_message_text_is_shown_escaped_never_run(client, world, browser):
    consultation = await open_consultation(client, world)
    diplomat = await browser("diplomat")
    url = f"/app/consultations/{consultation['id']}"
    await submit(diplomat, url, f"{url}/messages", body="<script>alert(1)</script>")
    await submit(diplomat, url, f"{url}/messages", body="javascript:alert(2)")

    page = await (await browser("officer")).get(url)
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "javascript:alert(2)" in page.text
    assert 'href="javascript:' not in page.text


async def test_a_reply_can_ask_for_an_answer_by_a_utc_time(client, world, browser):
    consultation = await open_consultation(client, world)
    officer = await browser("officer")
    url = f"/app/consultations/{consultation['id']}"
    await submit(
        officer,
        url,
        f"{url}/messages",
        body="Answer by then, please.",
        classification="PROTECTED B",
        response_requested_by="2099-05-01T12:00",
    )
    seen = text_of(await officer.get(url))
    assert "awaiting response" in seen
    assert "2099-05-01 12:00 UTC" in seen
    assert "PROTECTED B" in seen


async def test_an_officer_closes_a_consultation_and_it_takes_no_reply(client, world, browser):
    consultation = await open_consultation(client, world)
    officer = await browser("officer")
    url = f"/app/consultations/{consultation['id']}"
    page = await officer.get(url)
    assert f'action="{url}/close"' in page.text

    closed = await submit(officer, url, f"{url}/close", outcome="resolved")
    assert closed.status_code == 303
    page = await officer.get(url)
    assert "Resolved" in text_of(page)
    assert f'action="{url}/messages"' not in page.text
    assert f'action="{url}/close"' not in page.text
    # The diplomat may reply but not close: the close form was never theirs.
    assert f'action="{url}/close"' not in (await (await browser("diplomat")).get(url)).text


async def test_invalid_input_is_a_422_page_and_changes_nothing(app, client, world, browser):
    consultation = await open_consultation(client, world)
    officer = await browser("officer")
    url = f"/app/consultations/{consultation['id']}"
    before = await messages_in(app)
    for fields in ({"body": "   "}, {"body": "ok", "classification": "<b>"}):
        refused = await submit(officer, url, f"{url}/messages", **fields)
        assert refused.status_code == 422
        assert "Please check what you entered" in refused.text
    late = await submit(
        officer, url, f"{url}/messages", body="ok", response_requested_by="yesterday"
    )
    assert late.status_code == 422
    assert await messages_in(app) == before


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    app, client, world, browser
):
    consultation = await open_consultation(client, world)
    diplomat = await browser("diplomat")
    url = f"/app/consultations/{consultation['id']}"
    await diplomat.get(url)
    before = await messages_in(app)
    for data in ({"body": "Forged"}, {"body": "Forged", "csrf_token": "not-the-token"}):
        refused = await diplomat.post(f"{url}/messages", data=data)
        assert refused.status_code == 403
        assert "You may not do this" in refused.text
    assert await messages_in(app) == before
    assert "Forged" not in (await diplomat.get(url)).text


# Notices


async def draft_through_the_form(
    user: httpx.AsyncClient, world: World, permits: list[Any], assurances: list[Any]
) -> str:
    form_url = f"/app/dialogues/{world.dialogue_id}/notices/new"
    form = await user.get(form_url)
    assert form.status_code == 200
    assert all(permit.number in form.text for permit in permits)
    drafted = await submit(
        user,
        form_url,
        form_url,
        kind="suspension",
        permit_ids=[str(permit.id) for permit in permits],
        summary="Suspension of the optics permits",
        rationale="Credible reports place the optics\nin a third country's armed conflict.",
        legal_basis="Export and Import Permits Act, s. 10(1)",
        breached_assurance_ids=[str(each.id) for each in assurances],
        classification="UNCLASSIFIED",
    )
    assert drafted.status_code == 303, drafted.text
    location = drafted.headers["location"]
    assert location.startswith("/app/notices/")
    return location.rsplit("/", 1)[1]


async def test_a_suspension_is_drafted_issued_by_another_and_acknowledged(app, world, browser):
    permits = await add_permits(app, world, 2)
    assurance = await add_assurance(app, world, [permits[0].id])
    officer = await browser("officer")
    notice_id = await draft_through_the_form(officer, world, permits, [assurance])
    url = f"/app/notices/{notice_id}"

    page = await officer.get(url)
    seen = text_of(page)
    assert "Draft decision notice" in seen
    assert "Suspension" in seen
    assert "Drafted by officer." in seen
    assert "Must be issued by an approver who did not draft or edit it." in seen
    assert "active → suspended" in seen
    assert f'action="{url}/issue"' not in page.text  # no issue action for the drafter
    refused = await officer.post(f"{url}/issue", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    assert (await statuses(app, [p.id for p in permits])) == {p.number: "active" for p in permits}

    approver = await browser("approver")
    assert f'action="{url}/issue"' in (await approver.get(url)).text
    issued = await submit(approver, url, f"{url}/issue")
    assert issued.status_code == 303
    seen = text_of(await approver.get(url))
    [notice] = await rows(app, select(DecisionNotice).where(DecisionNotice.id == UUID(notice_id)))
    assert notice.status == "issued"
    assert notice.reference in seen
    assert "Issued" in seen
    assert "by approver" in seen
    assert (await statuses(app, [p.id for p in permits])) == {
        p.number: "suspended" for p in permits
    }
    assert (await assurance_status(app, assurance.id)).status == "breached"

    diplomat = await browser("diplomat")
    page = await diplomat.get(url)
    assert f'action="{url}/acknowledge"' in page.text
    acknowledged = await submit(diplomat, url, f"{url}/acknowledge")
    assert acknowledged.status_code == 303
    seen = text_of(await diplomat.get(url))
    assert "acknowledged" in seen
    assert "by diplomat" in seen

    signed = await diplomat.get(f"{url}/signed")
    assert signed.status_code == 200
    assert signed.headers["content-type"] == "application/jose"
    assert f'filename="{notice.reference}.jws"' in signed.headers["content-disposition"]
    assert signed.text == notice.signed_jws
    assert signed.text.count(".") == 2

    listed = text_of(await diplomat.get("/app/notices"))
    assert notice.reference in listed
    assert "Suspension of the optics permits" in listed


async def test_an_approver_who_drafted_sees_why_the_issue_button_is_off(
    app, client, world, browser
):
    await new_user(app, client, world, "officer-approver", ["officer", "approver"])
    permits = await add_permits(app, world, 1)
    both = await browser("officer-approver")
    notice_id = await draft_through_the_form(both, world, permits, [])
    url = f"/app/notices/{notice_id}"

    page = await both.get(url)
    assert f'action="{url}/issue"' not in page.text
    assert "another approver must" in text_of(page)
    refused = await both.post(f"{url}/issue", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403
    assert (await statuses(app, [permits[0].id])) == {permits[0].number: "active"}


async def test_the_drafter_edits_a_draft_and_no_one_else_may(app, world, browser):
    permits = await add_permits(app, world, 2)
    officer = await browser("officer")
    notice_id = await draft_through_the_form(officer, world, permits[:1], [])
    url = f"/app/notices/{notice_id}"
    edit = await officer.get(f"{url}/edit")
    assert edit.status_code == 200
    assert "Suspension of the optics permits" in edit.text

    saved = await submit(
        officer,
        f"{url}/edit",
        f"{url}/edit",
        kind="cancellation",
        permit_ids=[str(p.id) for p in permits],
        summary="Cancellation, revised",
        rationale="Revised.",
        legal_basis="s. 10(1)",
        classification="PROTECTED A",
    )
    assert saved.status_code == 303
    seen = text_of(await officer.get(url))
    assert "Cancellation, revised" in seen
    assert "PROTECTED A" in seen
    assert permits[1].number in seen
    assert "active → cancelled" in seen

    assert (await (await browser("approver")).get(f"{url}/edit")).status_code == 403
    assert (await (await browser("diplomat")).get(url)).status_code == 404  # drafts stay home


async def test_outsiders_get_the_not_found_page(app, client, world, browser):
    consultation = await open_consultation(client, world)
    permits = await add_permits(app, world, 1)
    officer = await browser("officer")
    notice_id = await draft_through_the_form(officer, world, permits, [])
    outsider = await browser("other-admin")
    for url in (
        f"/app/dialogues/{world.dialogue_id}",
        f"/app/consultations/{consultation['id']}",
        f"/app/notices/{notice_id}",
        f"/app/notices/{notice_id}/signed",
        f"/app/dialogues/{world.dialogue_id}/notices/new",
    ):
        page = await outsider.get(url)
        assert page.status_code == 404, url
        assert "not visible to your organization" in page.text

    observer = await browser("cbsa-officer")
    assert (await observer.get(f"/app/consultations/{consultation['id']}")).status_code == 404
    assert (await observer.get(f"/app/notices/{notice_id}")).status_code == 404
