"""Free-text fields: the pattern the OpenAPI document gives is exactly what the service accepts.

Before, the document allowed any string of the right length, so a client (or schemathesis)
could send a control character or only blanks and meet a 422. Three kinds of text: stripped
and required (a name), stripped and optional (a webhook's description), kept verbatim (a
message body, whose SHA-256 must match the sender's).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from service.api.types import Text
from service.consultations.schemas import MessageBody

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
FIELDS = {
    "stripped": (("OrganizationCreate", "name"), Text(200)),
    "stripped or empty": (("WebhookCreate", "description"), Text(500, min_length=0)),
    "verbatim": (("MessageCreate", "body"), MessageBody),
}
# Any character but lone surrogates (refused too, but no JSON Schema regex can name them), and
# mixes of letters with every kind of white space and control character.
ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
MIXED = st.text(st.sampled_from(" \t\n\r\x00\x05\x0b\x0c\x1c\x1f\x7f\x85\xa0\u2003\u3000x"))


def documented(component: str, field: str) -> re.Pattern[str]:
    """The field's pattern in the committed document (which tests/test_openapi.py keeps current)."""
    schema = DOCUMENT["components"]["schemas"][component]["properties"][field]
    return re.compile(schema["pattern"])


def accepts(kind: type, value: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", FIELDS)
@settings(max_examples=300, deadline=None)
@given(value=ANY | MIXED.map(lambda text: text[:20]))
def test_the_documented_pattern_matches_what_the_service_accepts(name, value):
    (component, field), kind = FIELDS[name]
    assert bool(documented(component, field).fullmatch(value)) == accepts(kind, value), repr(value)
