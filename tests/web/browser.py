"""Debian's Chromium under Playwright, and what the browser tests do with it.

Playwright's own browser download cannot run here, so the tests drive the ``chromium`` Debian
package at ``/usr/bin/chromium`` (installed on first use when missing and we are root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
# Headless, no sandbox (root), and no background traffic: the tests reach 127.0.0.1 only.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
TIMEOUT_MS = 10_000  # every wait is bounded
# Starting Chromium while both suites load the two cores took over 10 s once in CI.
LAUNCH_TIMEOUT_MS = 90_000
LAUNCH_ATTEMPTS = 2
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGE_TEXT_LIMIT = 2000


def ensure_chromium() -> Path:
    """The Chromium binary, installed with apt-get if missing; skips when that is impossible."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        reason = f"{CHROMIUM} is missing; install the chromium Debian package (as root)"
        if os.environ.get("ENTENTE_REQUIRE_BROWSER") == "1":  # set by .ci/run
            pytest.fail(reason)
        pytest.skip(reason)
    # apt-get waits for a concurrent apt run rather than failing on its lock.
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    commands = [
        ["apt-get", *wait, "update", "-q"],
        ["apt-get", *wait, "install", "-y", "-q", "chromium"],
    ]
    for command in commands:
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=1200, check=False, env=APT_ENV
        )
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium, yet {CHROMIUM} is missing")
    return CHROMIUM


def watch(context: BrowserContext) -> dict[str, list[str]]:
    """Record what must never happen in these pages: dialogs (script ran), errors, CSP reports."""
    seen: dict[str, list[str]] = {"dialogs": [], "errors": [], "csp": []}

    async def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(f"{dialog.type}: {dialog.message} on {dialog.page.url}")
        await dialog.dismiss()

    def on_page(page: Page) -> None:
        page.on("pageerror", lambda error: seen["errors"].append(f"{page.url}: {error}"))
        page.on("console", lambda message: console(page, message))

    def console(page: Page, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            seen["csp"].append(f"{page.url}: {message.text}")

    context.on("dialog", on_dialog)
    context.on("page", on_page)
    return seen


async def signed_in(
    page: Page, username: str, next_path: str = "", password: str = PASSWORD
) -> Page:
    """Signs ``username`` in through the sign-in form; the page ends on the inbox (or next)."""
    target = "/app/login" + (f"?next={next_path}" if next_path else "")
    await page.goto(target)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Sign in").click()
    assert "/app/login" not in page.url, f"{username} could not sign in: {await body_text(page)}"
    return page


async def body_text(page: Page) -> str:
    return (await page.inner_text("body"))[:PAGE_TEXT_LIMIT]


async def visit(page: Page, path: str) -> int:
    """Loads ``path`` as a full navigation; its HTTP status."""
    response = await page.goto(path)
    assert response is not None, f"no response for {path}"
    return response.status


async def csrf_token(page: Page) -> str:
    """The session's CSRF token, from the sign-out form every signed-in page carries."""
    return await page.locator("form[action='/app/logout'] input[name=csrf_token]").input_value()


async def no_horizontal_scroll(page: Page, width: int) -> tuple[bool, int]:
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    return scroll_width <= width + 1, scroll_width


async def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list:
    """axe-core's violations of ``impacts`` on the page as it stands.

    ``page.evaluate`` runs through DevTools, which the page's CSP does not govern, so axe is
    injected without loosening the policy the page is tested under.
    """
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]


def describe_violations(path: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{path}: {len(violations)} serious or critical accessibility violations"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"  at {json.dumps(node['target'])}: {node.get('failureSummary', '')}")
    return "\n".join(lines)


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """docs/screenshots/<name>.png, the text caret hidden so that reruns differ only in data."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path
