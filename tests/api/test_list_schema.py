"""Lists that refuse a repeated value say so in the OpenAPI document (``uniqueItems``).

Before, the document allowed repeats that the service answered with 422 (schemathesis ST202).
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from service.consultations.schemas import ConsultationCreate
from service.notices.schemas import NoticeUpdate
from service.parties.schemas import ClientCreate, UserUpdate
from service.webhooks.schemas import WebhookUpdate

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
SAME = str(uuid4())
CASES = [
    (ConsultationCreate, "permit_ids", [SAME, SAME]),
    (NoticeUpdate, "breached_assurance_ids", [SAME, SAME]),
    (UserUpdate, "roles", ["officer", "officer"]),
    (ClientCreate, "scopes", ["permits:read", "permits:read"]),
    (WebhookUpdate, "event_types", ["notice.*", "notice.*"]),
]


@pytest.mark.parametrize(("model", "field", "repeated"), CASES)
def test_a_list_without_repeats_is_documented_so(model, field, repeated):
    schema = DOCUMENT["components"]["schemas"][model.__name__]["properties"][field]
    assert schema["uniqueItems"] is True
    with pytest.raises(ValidationError, match=r"(?i)repeat|twice|same|duplicate"):
        model.model_validate({field: repeated})
