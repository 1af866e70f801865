"""In French, the main pages show no English: none of the interface's source strings, and none of
the service's status codes, appear in the visible text.

The pages are those of fr-diplomat (FR-MEAE), whose only dialogue holds records written in
French, so any English on them comes from the interface. A source string the French catalog
translates by itself (a name such as "Entente") is not English left behind, and is skipped.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import get_args

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from playwright.async_api import Page, expect

from service.assurances.schemas import AssuranceStatus
from service.consultations.schemas import ConsultationStatus
from service.notices.schemas import NoticeStatus
from service.permits.schemas import PermitStatus
from tests.web.browser import signed_in, visit
from tests.web.seed import Scene

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service/web/translations/fr/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
MIN_LETTERS = 4  # "No", "Yes", "To": too short to tell from data reliably
# Status codes as the pages print them; "active" is French as well, so it proves nothing.
STATUS_CODES = sorted(
    {
        code.replace("_", " ")
        for kind in (AssuranceStatus, ConsultationStatus, NoticeStatus, PermitStatus)
        for code in get_args(kind)
    }
    - {"active"}
)
# Code-like text that is not language: event types, hashes, ids.
CODE_TEXT = """() => [...document.querySelectorAll('code, .mono, kbd, samp')]
    .map(e => e.innerText)"""


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def english_strings() -> dict[str, re.Pattern[str]]:
    """Each source string of the web client -> a pattern finding it (placeholders as wildcards)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(str(ROOT), method_map, options_map)
    messages = {m if isinstance(m, str) else m[0] for _f, _l, m, _c, _x in found if m}
    same_in_french = {msgid for msgid, msgstr in french().items() if msgid == msgstr}
    patterns = {}
    for message in messages - same_in_french:
        parts = PLACEHOLDER.split(spaced(message))
        if sum(ch.isalpha() for ch in "".join(parts)) < MIN_LETTERS:
            continue
        body = r".+?".join(re.escape(part) for part in parts)
        patterns[message] = re.compile(rf"(?<!\w){body}(?!\w)")
    return patterns


def french() -> dict[str, str]:
    if not CATALOG.exists():
        return {}
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    return {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id and m.string}


async def visible_words(page: Page, data: list[str]) -> str:
    """The page's visible text and title, less code-like text and the records' own data."""
    text = spaced(await page.title() + "\n" + await page.inner_text("body"))
    for removed in sorted([*await page.evaluate(CODE_TEXT), *data], key=len, reverse=True):
        if removed.strip():
            text = text.replace(spaced(removed), " ")
    return text


def english_in(text: str) -> list[str]:
    strings = [message for message, pattern in english_strings().items() if pattern.search(text)]
    codes = [code for code in STATUS_CODES if re.search(rf"(?<!\w){re.escape(code)}(?!\w)", text)]
    return sorted(strings) + [f"status code: {code}" for code in codes]


def french_pages(scene: Scene) -> dict[str, str]:
    return {
        "inbox": "/app/",
        "thread": f"/app/consultations/{scene.french['consultation']}",
        "notice": f"/app/notices/{scene.french['notice']}",
        "permits": "/app/permits",
        "permit": f"/app/permits/{scene.french['permit']}",
        "dialogue": f"/app/dialogues/{scene.french_dialogue_id}",
        "notices": "/app/notices",
        "assurances": "/app/assurances",
        "not found": f"/app/dialogues/{scene.dialogue_id}",
    }


async def test_the_french_pages_show_no_english(page: Page, scene: Scene):
    await signed_in(page, "fr-diplomat")
    async with page.expect_navigation():
        await page.get_by_label("Language").select_option("fr")
    if await page.locator("html[lang=fr]").count() == 0:  # without the script: the button
        async with page.expect_navigation():
            await page.get_by_role("button", name="Change language").click()
    await expect(page.locator("html")).to_have_attribute("lang", "fr")

    found = {}
    for name, path in french_pages(scene).items():
        await visit(page, path)
        await expect(page.locator("html")).to_have_attribute("lang", "fr")
        english = english_in(await visible_words(page, scene.french_data))
        if english:
            found[f"{name} ({path})"] = english
    report = "\n".join(f"{where}: {strings}" for where, strings in found.items())
    assert not found, f"English left in the French interface:\n{report}"
