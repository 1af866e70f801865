"""axe-core on every main page: no serious or critical violation. And narrow screens scroll down,
never sideways."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.async_api import Page

from tests.web.browser import (
    axe_violations,
    body_text,
    describe_violations,
    no_horizontal_scroll,
    signed_in,
    visit,
)
from tests.web.seed import Scene

# name -> (who looks, which path); None is nobody signed in.
PAGES: dict[str, tuple[str | None, Callable[[Scene], str]]] = {
    "login": (None, lambda s: "/app/login"),
    "inbox": ("diplomat", lambda s: "/app/"),
    "dialogue": ("officer", lambda s: f"/app/dialogues/{s.dialogue_id}"),
    "consultation": ("officer", lambda s: f"/app/consultations/{s.consultations['overdue-kept']}"),
    "notices": ("officer", lambda s: "/app/notices"),
    "notice": ("officer", lambda s: f"/app/notices/{s.notices['suspension']}"),
    "notice to acknowledge": ("diplomat", lambda s: f"/app/notices/{s.notices['suspension']}"),
    "notice form": ("officer", lambda s: f"/app/dialogues/{s.dialogue_id}/notices/new"),
    "permits": ("officer", lambda s: "/app/permits"),
    "permit": ("officer", lambda s: f"/app/permits/{s.permits['EXP-2020-0003']}"),
    "assurances": ("officer", lambda s: "/app/assurances"),
    "assurance": ("officer", lambda s: f"/app/assurances/{s.assurances['accepted']}"),
    "audit": ("auditor", lambda s: "/app/audit"),
    "webhooks": ("gac-admin", lambda s: "/app/webhooks"),
    "not found": ("other-admin", lambda s: f"/app/dialogues/{s.dialogue_id}"),
}


@pytest.mark.parametrize("name", PAGES)
async def test_no_serious_accessibility_violation(page: Page, scene: Scene, name: str):
    username, path_of = PAGES[name]
    path = path_of(scene)
    if username:
        await signed_in(page, username)
    status = await visit(page, path)
    assert status == (404 if name == "not found" else 200), f"{path}: {await body_text(page)}"
    violations = await axe_violations(page)
    assert violations == [], describe_violations(f"{name} ({path})", violations)


@pytest.mark.parametrize(
    "name", ["inbox", "consultation", "notice to acknowledge", "permits", "assurances"]
)
async def test_a_360_px_screen_needs_no_horizontal_scroll(
    new_browser_context, scene: Scene, name: str
):
    context = await new_browser_context(viewport={"width": 360, "height": 740})
    page = await context.new_page()
    username, path_of = PAGES[name]
    await signed_in(page, username or "diplomat")
    path = path_of(scene)
    assert await visit(page, path) == 200
    fits, width = await no_horizontal_scroll(page, 360)
    assert fits, f"{path} is {width} px wide at a 360 px viewport"
