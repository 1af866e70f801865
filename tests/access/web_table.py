"""Who may open each page of the web client and send each of its forms: route -> rule.

The web client follows the API's access table (SPEC.md section 2): a page of something the
caller's organization may not know is the 404 page, a form the caller's role may not send is the
403 page, and a stranger is sent to sign in. A form that succeeds answers 303 to the page that
shows its result. Only people use the web client; API clients have no session.
A route missing here fails tests/access/test_web_matrix.py by name.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.access.callers import AUT, CTP, OBS, Caller
from tests.access.rules import (
    ADMINS,
    ALL_SIDES,
    EVERYONE,
    PARTIES,
    Rule,
    granted,
    members,
    public,
    sides,
)
from tests.factories import PASSWORD

LOGIN_TOKEN = "matrix-login-token"  # the sign-in form's double-submit token, sent as a cookie too
DRAFT = {"notice_id": "draft_id"}
REQUESTED = {"assurance_id": "requested_id"}
WEBHOOK = {"subscription_id": "webhook_id"}
READERS = members((AUT, CTP, OBS))
CONSULTING = members((AUT, CTP), "officer", "diplomat")


def certificate(scene: Any, caller: Caller) -> dict[str, str]:
    today = date.today()
    return {
        "end_user": "Turkish Armed Forces",
        "end_use": "Own use on the armed forces' UAVs; no re-export.",
        "destination_country": "TR",
        "retransfer_clause": "yes",
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "signatory_name": "A. Diplomat",
        "signatory_title": "Director General",
        "register_number": "TR-EUC-2020-17",
        "issue_date": (today - timedelta(days=10)).isoformat(),
        "document_sha256": "",
        "consent_to_verification": "yes",
    }


def notice(scene: Any, caller: Caller) -> dict[str, Any]:
    return {
        "kind": "suspension",
        "permit_ids": [scene.ids["permit_id"]],
        "summary": "Suspension of one permit",
        "rationale": "Credible reports of diversion.",
        "legal_basis": "Export and Import Permits Act, s. 10(1)",
    }


def sign_in(scene: Any, caller: Caller) -> dict[str, str]:
    return {"username": "officer", "password": PASSWORD, "csrf_token": LOGIN_TOKEN}


TABLE: dict[tuple[str, str], Rule] = {
    # Before signing in.
    ("GET", "/"): public(307),
    ("GET", "/app/login"): public(),
    ("POST", "/app/login"): public(303, body=sign_in),  # whoever was signed in before
    ("POST", "/app/language"): public(303, body={"lang": "fr"}),
    # Every person signed in: the inbox, the lists (each holding only the caller's dialogues).
    ("GET", "/app/"): Rule(may=EVERYONE),
    ("POST", "/app/logout"): Rule(may=EVERYONE, ok=303),
    ("GET", "/app/permits"): Rule(may=EVERYONE),
    ("GET", "/app/notices"): Rule(may=EVERYONE),
    ("GET", "/app/assurances"): Rule(may=EVERYONE),
    ("GET", "/app/dialogues/{dialogue_id}"): Rule(sees=ALL_SIDES, may=READERS),
    ("GET", "/app/permits/{permit_id}"): Rule(sees=ALL_SIDES, may=READERS),
    # Assurances: never shown to observers.
    ("GET", "/app/assurances/{assurance_id}"): Rule(sees=PARTIES, may=READERS),
    ("POST", "/app/assurances/{assurance_id}/submit"): Rule(
        sees=PARTIES,
        may=members(CTP, "officer", "diplomat"),
        ok=303,
        ids=REQUESTED,
        body=certificate,
    ),
    ("POST", "/app/assurances/{assurance_id}/withdraw"): Rule(
        sees=PARTIES, may=members(CTP, "officer", "diplomat"), ok=303
    ),
    ("POST", "/app/assurances/{assurance_id}/accept"): Rule(
        sees=PARTIES, may=members(AUT, "officer"), ok=303
    ),
    ("POST", "/app/assurances/{assurance_id}/reject"): Rule(
        sees=PARTIES, may=members(AUT, "officer"), ok=303, body={"reason": "Wrong end user."}
    ),
    # Consultations: never shown to observers.
    ("POST", "/app/dialogues/{dialogue_id}/consultations"): Rule(
        sees=PARTIES,
        may=CONSULTING,
        ok=303,
        body={"subject": "Optics seen abroad", "topic": "end_use_inquiry"},
    ),
    ("GET", "/app/consultations/{consultation_id}"): Rule(sees=PARTIES, may=READERS),
    ("POST", "/app/consultations/{consultation_id}/messages"): Rule(
        sees=PARTIES, may=CONSULTING, ok=303, body={"body": "A question."}
    ),
    ("POST", "/app/consultations/{consultation_id}/close"): Rule(
        sees=PARTIES, may=members((AUT, CTP), "officer"), ok=303, body={"outcome": "resolved"}
    ),
    # Notices: drafts are the authority's alone.
    ("GET", "/app/dialogues/{dialogue_id}/notices/new"): Rule(
        sees=ALL_SIDES, may=members(AUT, "officer")
    ),
    ("POST", "/app/dialogues/{dialogue_id}/notices/new"): Rule(
        sees=ALL_SIDES, may=members(AUT, "officer"), ok=303, body=notice
    ),
    ("GET", "/app/notices/{notice_id}"): Rule(sees=ALL_SIDES, may=READERS),
    ("GET", "/app/notices/{notice_id}/signed"): Rule(sees=ALL_SIDES, may=READERS),
    ("GET", "/app/notices/{notice_id}/edit"): Rule(
        sees=sides(AUT), may=members(AUT, "officer"), ids=DRAFT
    ),
    ("POST", "/app/notices/{notice_id}/edit"): Rule(
        sees=sides(AUT), may=members(AUT, "officer"), ok=303, ids=DRAFT, body=notice
    ),
    ("POST", "/app/notices/{notice_id}/issue"): Rule(
        sees=sides(AUT), may=members(AUT, "approver"), ok=303, ids=DRAFT
    ),
    ("POST", "/app/notices/{notice_id}/acknowledge"): Rule(
        sees=ALL_SIDES, may=members(CTP, "officer", "diplomat"), ok=303
    ),
    # The audit trail and webhooks, as in the API.
    ("GET", "/app/audit"): Rule(may=granted("auditor")),
    ("GET", "/app/webhooks"): Rule(may=ADMINS),
    ("POST", "/app/webhooks/{subscription_id}/rotate"): Rule(
        sees=sides(AUT), may=ADMINS, ids=WEBHOOK, role_first=True
    ),
    ("POST", "/app/webhooks/{subscription_id}/test"): Rule(
        sees=sides(AUT), may=ADMINS, ok=303, ids=WEBHOOK, role_first=True
    ),
}
