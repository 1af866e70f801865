"""A long consultation thread in the web client: the latest page first, earlier ones a link away.

Plain HTTP against the app as a signed-in person (no browser needed).
"""

from __future__ import annotations

import re
from html import unescape

import httpx

from service.web.pages.consultations import THREAD_PAGE
from tests.consultations.helpers import open_consultation, post
from tests.web.clients import Browser, browser  # noqa: F401 - the fixture
from tests.web.test_pages_dialogue import text_of

EARLIER = re.compile(r'<a href="([^"]+)" rel="prev">Earlier messages</a>')
OLDER = 5  # messages beyond one page


def body(index: int) -> str:
    return f"Message number {index:03d}."


def shown(page: httpx.Response) -> list[str]:
    """The message bodies on the page, top to bottom."""
    return re.findall(r"Message number \d{3}\.", page.text)


async def long_thread(client, world) -> str:
    """A thread of ``THREAD_PAGE + OLDER`` messages; only the second carries PROTECTED B."""
    consultation = await open_consultation(client, world)
    for index in range(THREAD_PAGE + OLDER):
        marking = "PROTECTED B" if index == 1 else "UNCLASSIFIED"
        await post(client, world.officer, consultation["id"], body(index), classification=marking)
    return f"/app/consultations/{consultation['id']}"


async def test_a_long_thread_shows_its_latest_page_and_earlier_ones_by_a_link(
    client, world, browser: Browser
):
    url = await long_thread(client, world)
    diplomat = await browser("diplomat")

    latest = await diplomat.get(url)
    assert latest.status_code == 200
    newest = [body(i) for i in range(OLDER, THREAD_PAGE + OLDER)]
    assert shown(latest) == newest  # the newest page, oldest of it at the top
    assert body(0) not in latest.text
    assert f'action="{url}/messages"' in latest.text  # the reply form, below the newest
    # The banner: the highest marking of the whole thread, though no message shown carries it.
    assert '<p class="classification">PROTECTED B</p>' not in latest.text
    assert "Highest classification in this consultation: PROTECTED B" in text_of(latest)
    assert "Latest messages" not in latest.text
    link = EARLIER.search(latest.text)
    assert link, "no link to the earlier messages"

    earlier = await diplomat.get(unescape(link.group(1)))
    assert earlier.status_code == 200
    assert shown(earlier) == [body(i) for i in range(OLDER)]
    assert body(THREAD_PAGE + OLDER - 1) not in earlier.text
    assert not EARLIER.search(earlier.text)  # nothing older than the first message
    assert f'<a href="{url}">Latest messages</a>' in earlier.text
    assert '<p class="classification">PROTECTED B</p>' in earlier.text


async def test_viewing_the_latest_page_still_marks_the_thread_read(client, world, browser: Browser):
    url = await long_thread(client, world)
    officer = await browser("officer")
    page = await officer.get(url)
    assert "Read by Counterpart ministry" not in text_of(page)
    diplomat = await browser("diplomat")
    link = EARLIER.search(page.text)
    assert link
    # An earlier page does not show the newest messages, so it does not claim them read.
    assert (await diplomat.get(unescape(link.group(1)))).status_code == 200
    assert "Read by Counterpart ministry" not in text_of(await officer.get(url))

    await diplomat.get(url)
    seen = await officer.get(url)
    assert "Read by Counterpart ministry" in text_of(seen)
    newest = seen.text.rsplit(body(THREAD_PAGE + OLDER - 1), 1)[1]
    assert "Read by the other side at" in newest.split("</article>", 1)[0]


async def test_a_short_thread_has_no_link_to_earlier_messages(client, world, browser: Browser):
    consultation = await open_consultation(client, world)
    for index in range(2):
        await post(client, world.officer, consultation["id"], body(index))
    page = await (await browser("diplomat")).get(f"/app/consultations/{consultation['id']}")
    assert shown(page) == [body(0), body(1)]
    assert "Earlier messages" not in page.text
    assert "Latest messages" not in page.text


async def test_a_garbled_link_to_earlier_messages_is_a_friendly_page(
    client, world, browser: Browser
):
    consultation = await open_consultation(client, world)
    await post(client, world.officer, consultation["id"], body(0))
    url = f"/app/consultations/{consultation['id']}"
    diplomat = await browser("diplomat")
    for garbage in ("not-a-cursor", "WyJ5ZXN0ZXJkYXkiLCAiMSJd", "%00", "x" * 300):
        page = await diplomat.get(url, params={"before": garbage})
        assert page.status_code == 422, garbage
        assert "Please check what you entered" in page.text
        assert body(0) not in page.text

    page = await diplomat.get(url, params={"before": "not-a-cursor"})
    assert "This link to earlier messages is not valid." in page.text
    french = await diplomat.get(
        url, params={"before": "not-a-cursor"}, headers={"Accept-Language": "fr"}
    )
    assert french.status_code == 422
    assert "Ce lien vers les messages précédents n\u2019est pas valide." in unescape(french.text)
