"""English and French. Strings go through gettext; catalogs are Babel ``.po`` files.

The ``.po`` files are compiled in memory at first use, so no binary ``.mo`` is committed and a
translator's change needs no build step. English is the source language.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT = "en"
COOKIE = "entente_lang"
CATALOGS = Path(__file__).parent / "translations"


@cache
def translations(language: str) -> gettext.NullTranslations:
    path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The remembered choice, else the browser's first supported language, else English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT
