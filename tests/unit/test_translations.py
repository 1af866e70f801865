"""Every string of the web client has a French translation that keeps its placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "service/web/translations/fr/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_strings() -> set[str]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = extract_from_dir(ROOT, method_map, options_map)
    return {message for _file, _line, message, _comments, _context in found if message}


def french() -> dict[str, str]:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_web_string_is_translated_into_french():
    missing = sorted(source_strings() - set(french()))
    assert missing == [], f"untranslated: {missing}"


def test_translations_keep_their_placeholders():
    broken = [
        msgid
        for msgid, msgstr in french().items()
        if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(msgstr))
    ]
    assert broken == []
