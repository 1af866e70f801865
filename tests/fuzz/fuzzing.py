"""How the fuzzer is set up: the run's size, the real ids it draws from, and what it checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.factories import Persona

EXAMPLES = 1  # per operation and party in the default run, beside the document's examples
DEEP_EXAMPLES = 200
STATEFUL = (3, 8)  # runs of the state machine, steps per run
DEEP_STATEFUL = (100, 40)
# Valid input may still meet a party without the right (403), an object it may not see (404)
# or one in another state (409); what it must never meet is 422 (or any other refusal).
ACCEPTED = ["2xx", "401", "403", "404", "409"]
# Invalid input is refused before it is read, too: a body over the limit answers 413.
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
# Cursors are signed: one the fuzzer makes up is well formed yet forged, and answers 422.
CURSORS = {"cursor", "after"}
# Rules JSON Schema cannot state (one field against another, or against the clock): the document
# says them in words, and data that looks valid but breaks one answers 422 with these words.
RULES = (
    "must be in the future",  # due_at, response_requested_by
    "must not be in the future",  # redelivering what failed since a moment
    "valid_from must not be after valid_until",  # a permit
    "issue_date is after its valid_until",  # an assurance's certificate
    "notice names at least one permit",  # every kind but general
    "The counterpart submits the full assurance",  # the caller's side picks the body's shape
    "The authority requests an assurance",
    # Ids in a body that name nothing the caller's dialogue holds:
    "No such permits in this dialogue",
    "These permits are not in this dialogue",
    "must exist in this dialogue",
    "does not exist or is inactive",
    # A webhook's host is resolved when registered; here nothing outside 127.0.0.1 resolves.
    "urn:entente:problem:webhook-url-refused",
)


OPENAPI = Path(__file__).parents[2] / "openapi" / "openapi.json"  # the app's, tests/test_openapi.py


@dataclass
class Run:
    """What this run fuzzes with; set before the fuzz tests are collected and their scene built."""

    deep: bool = False
    ids: dict[str, list[str]] = field(default_factory=dict)  # path parameter -> real object ids


RUN = Run()


def load_schema():
    config = SchemathesisConfig.from_dict(
        {
            "generation": {
                "max-examples": DEEP_EXAMPLES if RUN.deep else EXAMPLES,
                # Unknown query parameters are ignored, as HTTP APIs do; they are not invalid.
                "allow-extra-parameters": False,
                # Each request is made as a party; anonymous calls are the access matrix's part.
                "with-security-parameters": False,
            },
            "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REFUSED},
            },
            # The coverage phase (boundary values, every way to be invalid, undeclared methods)
            # sends thousands of requests per party: deep runs only.
            "phases": {"coverage": {"enabled": RUN.deep}},
            "operations": [
                {  # RFC 6749 5.2: an unknown grant_type is a 400 (unsupported_grant_type)
                    "include-path": "/oauth/token",
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, 400]}},
                }
            ],
        }
    )
    schema = schemathesis.openapi.from_path(OPENAPI, config=config)
    schema.hook("flatmap_path_parameters")(real_ids)
    return schema


def stateful_size() -> tuple[int, int]:
    return DEEP_STATEFUL if RUN.deep else STATEFUL


def real_ids(context, path_parameters: dict[str, Any]):
    """Most well-formed ids drawn are those of real objects, so requests reach them."""
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {name: choice(value, RUN.ids.get(name, [])) for name, value in path_parameters.items()}
    )


def choice(value: Any, real: list[str]):
    if not real or not is_uuid(value):
        return st.just(value)  # an ill-formed id stays: the 422 is what is tested
    return st.sampled_from([*real, value])


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def positive_data_accepted(ctx, response, case) -> bool | None:
    """Schemathesis's check, less the refusals by design: forged cursors and the RULES."""
    if CURSORS & set(case.query or {}):
        return None
    if response.status_code == 422 and any(rule in response.text for rule in RULES):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
    negative_data_rejection,
    positive_data_accepted,
]


class Sender:
    """Sends a case as one party over one HTTP session and runs the checks on the answer."""

    def __init__(self, session: requests.Session, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    def send(self, case, persona: Persona) -> None:
        fresh_idempotency_key(case)
        response = case.call(
            base_url=self.base_url, session=self.session, headers=persona.headers, timeout=30
        )
        case.validate_response(response, checks=CHECKS)


def fresh_idempotency_key(case) -> None:
    """A key drawn twice would replay, or refuse, an earlier request: one of its own each time."""
    headers = case.headers or {}
    key = headers.get("idempotency-key")
    if isinstance(key, str) and len(key) <= 255:
        headers["idempotency-key"] = str(uuid.uuid4())
