"""The web client in a real browser: the counterpart's day, four-eyes issuing, who sees what,
payloads that stay text, forged forms, and signing out for good."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.async_api import Page, expect

from tests.web.browser import body_text, csrf_token, signed_in, visit
from tests.web.seed import Scene, xss

# Any element carrying an event handler attribute, or an image pointing at the payloads' "x".
INJECTED = """() => [...document.querySelectorAll('*')].filter(
    e => e.tagName === 'IMG' && e.getAttribute('src') === 'x'
      || [...e.attributes].some(a => a.name.startsWith('on'))
      || e.tagName === 'SCRIPT' && !e.src
).map(e => e.outerHTML.slice(0, 200))"""


async def awaiting_cards(page: Page) -> list[str]:
    region = page.get_by_role("region", name="Consultations awaiting your answer")
    return [text.strip() for text in await region.get_by_role("listitem").all_inner_texts()]


async def test_the_counterpart_answers_the_overdue_consultation_and_acknowledges_the_cancellation(
    page: Page, scene: Scene, new_browser_context
):
    subject = "Reports of MX-15D optics in a third country's armed conflict"
    consultation_id = scene.consultations["overdue"]
    await signed_in(page, "diplomat")

    cards = await awaiting_cards(page)
    overdue = [index for index, card in enumerate(cards) if "Overdue" in card]
    assert overdue, cards
    assert overdue == list(range(len(overdue))), f"overdue first: {cards}"
    assert any(subject in cards[index] for index in overdue), cards
    later = next(i for i, card in enumerate(cards) if "Maintenance visits" in card)
    assert later > max(overdue), cards

    await page.get_by_role("link", name=subject).click()
    await page.wait_for_url(f"**/app/consultations/{consultation_id}", wait_until="commit")
    await expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    reply = "The turrets remain with the end user; the inspection report follows by 30 June."
    await page.get_by_label("Message", exact=True).fill(reply)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Send the message").click()
    await page.wait_for_url(
        re.compile(rf"/app/consultations/{consultation_id}(#.*)?$"), wait_until="commit"
    )
    messages = page.get_by_role("region", name="Messages")
    await expect(messages).to_contain_text(reply)
    await expect(page.locator("main")).not_to_contain_text("Overdue")

    await page.get_by_role("link", name="Inbox").click()
    await page.wait_for_url("**/app/", wait_until="commit")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    assert not any(subject in card for card in await awaiting_cards(page))

    notice_id = scene.notices["cancellation"]
    to_acknowledge = page.get_by_role("region", name="Notices to acknowledge")
    await to_acknowledge.get_by_role("link", name="Cancellation of permit EXP-2020-0002").click()
    await page.wait_for_url(f"**/app/notices/{notice_id}", wait_until="commit")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Acknowledge receipt").click()
    await expect(page.get_by_role("button", name="Acknowledge receipt")).to_have_count(0)
    await expect(page.locator("main")).to_contain_text("Acknowledged")
    await visit(page, "/app/")
    await expect(page.get_by_role("region", name="Notices to acknowledge")).not_to_contain_text(
        "EXP-2020-0002"
    )

    authority = await (await new_browser_context()).new_page()
    await signed_in(authority, "officer")
    assert await visit(authority, f"/app/notices/{notice_id}") == 200
    facts = authority.locator("main dl")
    await expect(facts).to_contain_text("acknowledged")
    await expect(facts).to_contain_text(re.compile(r"Acknowledged\s.*by diplomat"))
    assert await visit(authority, f"/app/consultations/{consultation_id}") == 200
    await expect(authority.get_by_role("region", name="Messages")).to_contain_text(reply)


async def test_the_drafter_cannot_issue_their_own_notice_and_an_approver_issues_it(
    page: Page, scene: Scene, new_browser_context
):
    await signed_in(page, "dual-officer")  # officer and approver both
    await visit(page, f"/app/dialogues/{scene.dialogue_id}")
    await page.get_by_role("link", name="Draft a decision notice").click()
    await page.wait_for_url(
        f"**/app/dialogues/{scene.dialogue_id}/notices/new", wait_until="commit"
    )
    await page.get_by_label("Kind").select_option(label="Suspension")
    await page.get_by_role("checkbox", name="EXP-2020-0007").check()
    await page.get_by_label("Summary").fill("Suspension of permit EXP-2020-0007")
    await page.get_by_label("Rationale").fill("The turrets were seen outside the assured end use.")
    await page.get_by_label("Legal basis").fill("Export and Import Permits Act, s. 10(1)")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Save the draft").click()
    await page.wait_for_url(re.compile(r"/app/notices/[0-9a-f-]{36}$"), wait_until="commit")
    notice_path = urlsplit(page.url).path
    await expect(page.get_by_role("heading", level=1)).to_have_text("Draft decision notice")

    # No usable button (a disabled one, explained, is fine).
    await expect(page.get_by_role("button", name="Issue the notice", disabled=False)).to_have_count(
        0
    )
    await expect(page.locator("main")).to_contain_text("you may not issue it")
    refused = await page.request.post(
        f"{notice_path}/issue", form={"csrf_token": await csrf_token(page)}, max_redirects=0
    )
    assert refused.status == 403, f"the drafter issued their own notice: {refused.status}"
    assert "You may not do this" in await refused.text()
    await page.reload()
    await expect(page.locator("main dl")).to_contain_text("draft")

    officer = await (await new_browser_context()).new_page()
    await signed_in(officer, "officer")  # an officer only: no issuing at all
    await visit(officer, notice_path)
    await expect(officer.get_by_role("button", name="Issue the notice")).to_have_count(0)

    approver = await (await new_browser_context()).new_page()
    await signed_in(approver, "approver")
    await visit(approver, notice_path)
    async with approver.expect_navigation():
        await approver.get_by_role("button", name="Issue the notice").click()
    await expect(approver.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"Decision notice CA-GAC-\d{4}-\d{4}")
    )
    await expect(approver.locator("main dl")).to_contain_text("issued")
    await expect(approver.locator("main dl")).to_contain_text(re.compile(r"by approver"))
    await approver.get_by_role("link", name="EXP-2020-0007").click()
    await approver.wait_for_url(
        f"**/app/permits/{scene.permits['EXP-2020-0007']}", wait_until="commit"
    )
    await expect(approver.get_by_role("heading", level=1)).to_have_text("Permit EXP-2020-0007")
    await expect(approver.locator("main dl")).to_contain_text("suspended")


def dialogue_pages(scene: Scene) -> list[str]:
    return [
        f"/app/dialogues/{scene.dialogue_id}",
        f"/app/dialogues/{scene.dialogue_id}/notices/new",
        f"/app/consultations/{scene.consultations['later']}",
        f"/app/notices/{scene.notices['suspension']}",
        f"/app/notices/{scene.notices['draft']}",
        f"/app/permits/{scene.permits['EXP-2020-0001']}",
        f"/app/assurances/{scene.assurances['accepted']}",
        f"/app/permits?dialogue={scene.dialogue_id}",
        f"/app/assurances?dialogue={scene.dialogue_id}",
    ]


async def test_an_outsider_cannot_reach_the_dialogue_by_url(
    page: Page, scene: Scene, new_browser_context
):
    insider = await (await new_browser_context()).new_page()
    await signed_in(insider, "officer")
    for path in dialogue_pages(scene):
        assert await visit(insider, path) == 200, f"{path} should exist for its officer"

    await signed_in(page, "other-admin")  # GB-ECJU: another licensing authority
    for path in [*dialogue_pages(scene), f"/app/notices/{scene.notices['suspension']}/signed"]:
        status = await visit(page, path)
        assert status == 404, f"{path}: {status}\n{await body_text(page)}"
        await expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        await expect(page.locator("main")).not_to_contain_text("EXP-2020")
    await visit(page, "/app/permits")
    await expect(page.locator("main")).not_to_contain_text("EXP-2020")
    await visit(page, "/app/notices")
    await expect(page.locator("main")).not_to_contain_text("CA-GAC-")


# (path, payload names shown there) as seen by the hostile dialogue's authority officer.
def hostile_pages(scene: Scene) -> list[tuple[str, list[str]]]:
    hostile = scene.hostile
    return [
        ("/app/", ["display name", "dialogue title"]),
        (
            f"/app/dialogues/{hostile['dialogue']}",
            ["dialogue title", "organization name", "consultation subject", "notice summary"],
        ),
        (
            f"/app/consultations/{hostile['consultation']}",
            ["consultation subject", "message body", "dialogue title"],
        ),
        (
            f"/app/notices/{hostile['notice']}",
            ["notice summary", "notice rationale", "notice legal_basis", "notice classification"],
        ),
        ("/app/notices", ["notice summary"]),
        ("/app/permits", ["permit exporter", "permit end_user", "dialogue title"]),
        (
            f"/app/permits/{hostile['permit']}",
            ["permit exporter", "permit consignee", "permit end_user", "permit item"],
        ),
        ("/app/assurances", ["dialogue title"]),
        (
            f"/app/assurances/{hostile['assurance']}",
            [
                "assurance end_user",
                "assurance end_use",
                "assurance register_number",
                "signatory name",
                "signatory title",
                "rejection reason",
            ],
        ),
        (f"/app/dialogues/{hostile['dialogue']}/notices/new", ["dialogue title"]),
    ]


COUNTERPART_INBOX = ["consultation subject", "notice summary", "dialogue title"]


async def assert_inert(page: Page, path: str, payloads: list[str]) -> None:
    injected = await page.evaluate(INJECTED)
    assert injected == [], f"{path}: markup from user data became elements: {injected}"
    text = await page.inner_text("body")
    missing = [payload for payload in payloads if payload not in text]
    assert missing == [], f"{path}: payloads not shown as text: {missing}"


async def test_payloads_in_every_user_written_field_render_as_text(
    page: Page, scene: Scene, new_browser_context
):
    await signed_in(page, "xss-officer")
    for path, names in hostile_pages(scene):
        assert await visit(page, path) == 200, f"{path}: {await body_text(page)}"
        await assert_inert(page, path, [scene.payloads[name] for name in names])

    # Written through the forms themselves: a new consultation's subject, then a message.
    subject, body = xss("form-subject"), xss("form-body")
    await visit(page, f"/app/dialogues/{scene.hostile['dialogue']}")
    await page.get_by_label("Subject").fill(subject)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Open the consultation").click()
    await page.get_by_label("Message", exact=True).fill(body)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Send the message").click()
    await assert_inert(page, page.url, [subject, body])

    others = {
        "xss-diplomat": [("/app/", COUNTERPART_INBOX)],
        "xss-admin": [("/app/webhooks", ["webhook description"])],
        "xss-auditor": [("/app/audit", ["dialogue title"])],
    }
    for username, pages in others.items():
        other = await (await new_browser_context()).new_page()
        await signed_in(other, username)
        for path, names in pages:
            assert await visit(other, path) == 200, f"{path}: {await body_text(other)}"
            await assert_inert(other, path, [scene.payloads[name] for name in names])

    # A name typed at the sign-in form comes back in the form's value attribute.
    anonymous = await (await new_browser_context()).new_page()
    await visit(anonymous, "/app/login")
    await anonymous.get_by_label("Username").fill(xss("username"))
    await anonymous.get_by_label("Password").fill("not the password")
    async with anonymous.expect_navigation():
        await anonymous.get_by_role("button", name="Sign in").click()
    await assert_inert(anonymous, "/app/login", [])
    await expect(anonymous.get_by_label("Username")).to_have_value(xss("username"))

    seen = page.context.seen  # type: ignore[attr-defined]
    assert seen["csp"] == [], f"the policy had to block something: {seen['csp']}"
    assert seen["errors"] == [], f"script errors: {seen['errors']}"


async def test_a_form_without_the_csrf_token_is_refused(page: Page, scene: Scene):
    await visit(page, "/app/login")
    login_cookie = {c["name"]: c for c in await page.context.cookies()}["entente_login_csrf"]
    assert login_cookie["httpOnly"] is True
    assert login_cookie["sameSite"] == "Strict"
    forged_login = await page.request.post(
        "/app/login", form={"username": "officer", "password": "x"}, max_redirects=0
    )
    assert forged_login.status == 403, forged_login.status

    await signed_in(page, "officer")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["entente_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["path"] == "/app"

    consultation = f"/app/consultations/{scene.consultations['later']}"
    form = {"body": "A forged message.", "classification": "UNCLASSIFIED"}
    token = await csrf_token(page)
    attempts = {
        "no token": await page.request.post(f"{consultation}/messages", form=form),
        "wrong token": await page.request.post(
            f"{consultation}/messages", form=form | {"csrf_token": token[::-1]}
        ),
        "another site": await page.request.post(
            f"{consultation}/messages",
            form=form | {"csrf_token": token},
            headers={"Origin": "https://attacker.example"},
        ),
    }
    for name, response in attempts.items():
        assert response.status == 403, f"{name}: {response.status}"
        assert "You may not do this" in await response.text(), name

    await visit(page, consultation)
    status = await page.evaluate(
        """async (path) => (await fetch(path, {method: 'POST', body: new URLSearchParams(
            {body: 'A forged message.'})})).status""",
        f"{consultation}/messages",
    )
    assert status == 403
    await page.reload()
    await expect(page.get_by_role("region", name="Messages")).not_to_contain_text("forged")


async def test_signing_out_kills_the_session_cookie(page: Page, new_browser_context):
    await signed_in(page, "tr-auditor")
    stolen = await page.context.cookies()
    assert any(c["name"] == "entente_session" for c in stolen)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/app/login", wait_until="commit")
    await visit(page, "/app/")
    await page.wait_for_url(re.compile(r"/app/login"), wait_until="commit")

    replay = await new_browser_context()
    await replay.add_cookies(stolen)
    replayed = await replay.new_page()
    status = await visit(replayed, "/app/")
    assert status in (200, 401), status
    assert "/app/login" in replayed.url or status == 401
    if status == 401:
        await expect(replayed.get_by_role("heading", level=1)).to_have_text(
            "Your session has expired"
        )
    await expect(replayed.locator("main")).not_to_contain_text("Recent activity")
