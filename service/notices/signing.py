"""The signed form of an issued notice: a compact JWS over its canonical JSON.

Canonical means sorted keys, no insignificant whitespace, UTF-8: whoever re-serializes the
payload they verified gets the same bytes, so a notice has exactly one signed form.
"""

from __future__ import annotations

import json
from typing import Any

from service.auth.tokens import TokenService
from service.notices.schemas import SignedNotice

TYP = "entente-notice+jws"
MEDIA_TYPE = "application/jose"


def canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign(tokens: TokenService, notice: SignedNotice) -> str:
    return tokens.sign_document(canonical(notice.model_dump(mode="json")), typ=TYP)
