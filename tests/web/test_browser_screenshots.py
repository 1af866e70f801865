"""Screenshots of the main pages for the README, saved under docs/screenshots/.

Taken only when ENTENTE_SCREENSHOTS=1 (``make screenshots``), on the browser tests' scene.
"""

from __future__ import annotations

import os

import pytest
from playwright.async_api import Page, expect

from tests.web.browser import body_text, screenshot, signed_in, visit
from tests.web.seed import Scene

pytestmark = pytest.mark.skipif(
    os.environ.get("ENTENTE_SCREENSHOTS") != "1",
    reason="screenshots are taken by `make screenshots` (ENTENTE_SCREENSHOTS=1)",
)

# file name -> (who looks, path, whole page or the first screen only)
SHOTS = {
    "login": (None, lambda s: "/app/login", True),
    "inbox": ("diplomat", lambda s: "/app/", True),
    "dialogue": ("officer", lambda s: f"/app/dialogues/{s.dialogue_id}", True),
    "consultation": (
        "diplomat",
        lambda s: f"/app/consultations/{s.consultations['overdue-kept']}",
        True,
    ),
    "notice": ("diplomat", lambda s: f"/app/notices/{s.notices['cancellation']}", True),
    "permits": ("officer", lambda s: "/app/permits", True),
    "audit": ("auditor", lambda s: "/app/audit", False),
    "webhooks": ("gac-admin", lambda s: "/app/webhooks", True),
}


@pytest.mark.parametrize("name", SHOTS)
async def test_screenshot(page: Page, scene: Scene, name: str):
    username, path_of, whole = SHOTS[name]
    if username:
        await signed_in(page, username)
    path = path_of(scene)
    assert await visit(page, path) == 200, f"{path}: {await body_text(page)}"
    await page.wait_for_load_state("networkidle")
    saved = await screenshot(page, name, full_page=whole)
    assert saved.stat().st_size > 0


async def test_screenshot_of_the_inbox_in_french(page: Page):
    await signed_in(page, "diplomat")
    async with page.expect_navigation():
        await page.get_by_label("Language").select_option("fr")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await page.wait_for_load_state("networkidle")
    await screenshot(page, "inbox-fr")


async def test_screenshot_of_the_thread_on_a_phone(new_browser_context, scene: Scene):
    context = await new_browser_context(viewport={"width": 360, "height": 740})
    page = await context.new_page()
    await signed_in(page, "diplomat")
    await visit(page, f"/app/consultations/{scene.consultations['overdue-kept']}")
    await page.wait_for_load_state("networkidle")
    await screenshot(page, "consultation-360")
