"""Who may call each route of the API: SPEC.md section 2 as a table, route -> rule.

A route missing here fails tests/access/test_api_matrix.py by name: a new route needs a rule.
The scene's objects (tests/access/scene.py) fill the path; ``ids`` names another object where the
route needs one in another state (a draft to issue, a requested assurance to submit).
Where SPEC.md leaves the answer open, the comment beside the entry says what was chosen and why.
"""

from __future__ import annotations

from typing import Any

from tests.access.callers import AUT, CTP, OBS, OUT, Caller
from tests.access.rules import (
    ADMINS,
    ALL_SIDES,
    EVERYONE,
    HOST_ADMIN,
    PARTIES,
    Rule,
    Who,
    granted,
    members,
    public,
    sides,
)
from tests.assurances.helpers import certificate, request_body, submission
from tests.consultations.helpers import new_consultation
from tests.domain import permit_body
from tests.factories import PASSWORD
from tests.notices.helpers import notice_body
from tests.webhooks import URL

API = "/api/v1"
DIALOGUE = f"{API}/dialogues/{{dialogue_id}}"
ASSURANCE = f"{API}/assurances/{{assurance_id}}"
CONSULTATION = f"{API}/consultations/{{consultation_id}}"
NOTICE = f"{API}/notices/{{notice_id}}"
WEBHOOK = f"{API}/webhooks/{{webhook_id}}"
DELIVERY = f"{WEBHOOK}/deliveries/{{delivery_id}}"

DRAFT = {"notice_id": "draft_id"}
REQUESTED = {"assurance_id": "requested_id"}


def org(scene: Any, code: str) -> str:
    return str(scene.world.orgs[code].id)


def new_assurance(scene: Any, caller: Caller) -> dict[str, Any]:
    """The authority asks for an assurance; the counterpart sends one unasked (SPEC 8)."""
    permits = [scene.ids["permit_id"]]
    return submission(permits) if caller.side == CTP else request_body(permits)


def new_notice(scene: Any, caller: Caller) -> dict[str, Any]:
    return notice_body("suspension", [scene.ids["permit_id"]])


def new_member(scene: Any, caller: Caller) -> dict[str, Any]:
    return {
        "organization_id": org(scene, "TR-MFA"),
        "username": "new-diplomat",
        "display_name": "New diplomat",
        "password": PASSWORD,
        "roles": ["diplomat"],
    }


def new_client(scene: Any, caller: Caller) -> dict[str, Any]:
    return {"organization_id": org(scene, "TR-MFA"), "name": "archive", "scopes": ["audit:read"]}


def new_dialogue(scene: Any, caller: Caller) -> dict[str, Any]:
    authority, counterpart = org(scene, "CA-GAC"), org(scene, "FR-MEAE")
    return {"title": "CA and FR", "authority_id": authority, "counterpart_id": counterpart}


def new_observer(scene: Any, caller: Caller) -> dict[str, Any]:
    return {"observer_ids": [scene.ids["new_observer_id"]]}


def token_form(scene: Any, caller: Caller) -> dict[str, Any]:
    world = scene.world
    return {
        "grant_type": "client_credentials",
        "client_id": world.client_id,
        "client_secret": world.client_secret,
    }


ORGANIZATION = {"code": "DE-BAFA", "name": "Federal Office", "country": "DE", "kind": "observer"}
# The counterpart's user (its diplomat) and API client: theirs to manage, and the host's.
COUNTERPART_ADMINS = members(CTP, "admin") | HOST_ADMIN
ITSELF = Who("the user itself", lambda caller: caller.name == "ctp_diplomat")
WEBHOOK_MANAGERS = granted("admin", scope="webhooks:manage")
AUDITORS = members((AUT, CTP, OUT), "auditor", scope="audit:read")


def reads(kind: str, seen_by: Who = ALL_SIDES, **options: Any) -> Rule:
    """Reading ``kind``: every role of the sides that see it, and systems with ``kind:read``."""
    return Rule(sees=seen_by, may=members((AUT, CTP, OBS), scope=f"{kind}:read"), **options)


def webhook(ok: int = 200, **options: Any) -> Rule:
    # An organization's own webhooks: its admins and its systems with webhooks:manage. The role
    # is refused before the webhook is looked up, so a non-manager learns nothing either way
    # (403 for a real id and a random one alike); another organization's manager gets 404.
    return Rule(sees=sides(AUT), may=WEBHOOK_MANAGERS, ok=ok, role_first=True, **options)


TABLE: dict[tuple[str, str], Rule] = {
    # Public: what a client needs before it has a token, and what operators' probes read.
    ("POST", "/oauth/token"): public(body=token_form, form=True),
    ("GET", "/.well-known/jwks.json"): public(),
    ("GET", "/healthz"): public(),
    ("GET", "/readyz"): public(),
    ("GET", "/metrics"): public(),  # ENTENTE_METRICS_TOKEN guards it where set
    ("GET", f"{API}/openapi.json"): public(),
    ("GET", f"{API}/docs"): public(),
    ("GET", "/docs/oauth2-redirect"): public(),
    # Identity: organizations, users and API clients (SPEC 2, last paragraph).
    ("GET", f"{API}/me"): Rule(may=EVERYONE),
    ("POST", f"{API}/organizations"): Rule(may=HOST_ADMIN, ok=201, body=ORGANIZATION),
    ("GET", f"{API}/organizations"): Rule(may=EVERYONE),
    ("GET", f"{API}/organizations/{{org_id}}"): Rule(sees=ALL_SIDES, may=EVERYONE),
    ("PATCH", f"{API}/organizations/{{org_id}}"): Rule(
        sees=ALL_SIDES, may=HOST_ADMIN, body={"name": "Ministry of Foreign Affairs"}
    ),
    # Users and clients of an organization are its admins' (and the host's) to manage. SPEC is
    # silent on who else may look one up by id: the service shows a user only to itself and to
    # those managers, and a client only to those managers; to anyone else, its own colleagues
    # included, it does not exist (404), which tells a probing caller the least.
    ("POST", f"{API}/users"): Rule(sees=ALL_SIDES, may=COUNTERPART_ADMINS, ok=201, body=new_member),
    ("GET", f"{API}/users"): Rule(may=ADMINS),  # their own organization's
    ("GET", f"{API}/users/{{user_id}}"): Rule(
        sees=COUNTERPART_ADMINS | ITSELF, may=COUNTERPART_ADMINS | ITSELF
    ),
    # Nor does SPEC give members self-service: the user itself sees its record but changes it
    # through an admin (403), as roles and deactivation must never be self-granted.
    ("PATCH", f"{API}/users/{{user_id}}"): Rule(
        sees=COUNTERPART_ADMINS | ITSELF, may=COUNTERPART_ADMINS, body={"display_name": "A. D."}
    ),
    ("POST", f"{API}/clients"): Rule(
        sees=ALL_SIDES, may=COUNTERPART_ADMINS, ok=201, body=new_client
    ),
    ("GET", f"{API}/clients"): Rule(may=ADMINS),  # their own organization's
    ("GET", f"{API}/clients/{{client_id}}"): Rule(sees=COUNTERPART_ADMINS, may=COUNTERPART_ADMINS),
    ("DELETE", f"{API}/clients/{{client_id}}"): Rule(
        sees=COUNTERPART_ADMINS, may=COUNTERPART_ADMINS, ok=204
    ),
    # Dialogues: opened by the authority's admin, who also adds observers.
    ("POST", f"{API}/dialogues"): Rule(may=HOST_ADMIN, ok=201, body=new_dialogue),
    ("GET", f"{API}/dialogues"): Rule(may=granted(scope="dialogues:read")),
    ("GET", DIALOGUE): Rule(sees=ALL_SIDES, may=members((AUT, CTP, OBS), scope="dialogues:read")),
    ("POST", f"{DIALOGUE}/observers"): Rule(
        sees=ALL_SIDES, may=members(AUT, "admin"), body=new_observer
    ),
    # Permits: registered by the authority's officers, read by every side.
    ("POST", f"{DIALOGUE}/permits"): Rule(
        sees=ALL_SIDES,
        may=members(AUT, "officer", scope="permits:write"),
        ok=201,
        body=permit_body("MATRIX-NEW"),
    ),
    ("POST", f"{DIALOGUE}/permits/bulk"): Rule(
        sees=ALL_SIDES,
        may=members(AUT, "officer", scope="permits:write"),
        ok=201,
        body={"permits": [permit_body("MATRIX-BULK")]},
    ),
    ("GET", f"{DIALOGUE}/permits"): reads("permits"),
    ("GET", f"{API}/permits/{{permit_id}}"): reads("permits"),
    ("GET", f"{API}/permits/{{permit_id}}/history"): reads("permits"),
    # Assurances: never seen by observers.
    ("POST", f"{DIALOGUE}/assurances"): Rule(
        sees=PARTIES,
        may=members(AUT, "officer", scope="assurances:write")
        | members(CTP, "officer", "diplomat", scope="assurances:write"),
        ok=201,
        body=new_assurance,
    ),
    ("GET", f"{DIALOGUE}/assurances"): reads("assurances", PARTIES),
    ("GET", ASSURANCE): reads("assurances", PARTIES),
    ("POST", f"{ASSURANCE}/submit"): Rule(
        sees=PARTIES,
        may=members(CTP, "officer", "diplomat", scope="assurances:write"),
        ids=REQUESTED,
        body=certificate(),
    ),
    ("POST", f"{ASSURANCE}/withdraw"): Rule(
        sees=PARTIES, may=members(CTP, "officer", "diplomat", scope="assurances:write"), body={}
    ),
    ("POST", f"{ASSURANCE}/accept"): Rule(
        sees=PARTIES, may=members(AUT, "officer", scope="assurances:write"), body={}
    ),
    ("POST", f"{ASSURANCE}/reject"): Rule(
        sees=PARTIES,
        may=members(AUT, "officer", scope="assurances:write"),
        body={"reason": "The end user is not the one on the permit."},
    ),
    # Consultations: both parties' officers and diplomats; never seen by observers.
    ("POST", f"{DIALOGUE}/consultations"): Rule(
        sees=PARTIES,
        may=members((AUT, CTP), "officer", "diplomat", scope="consultations:write"),
        ok=201,
        body=new_consultation(),
    ),
    ("GET", f"{DIALOGUE}/consultations"): reads("consultations", PARTIES),
    ("GET", CONSULTATION): reads("consultations", PARTIES),
    ("GET", f"{CONSULTATION}/messages"): reads("consultations", PARTIES),
    ("POST", f"{CONSULTATION}/messages"): Rule(
        sees=PARTIES,
        may=members((AUT, CTP), "officer", "diplomat", scope="consultations:write"),
        ok=201,
        body={"body": "A question about the end user."},
    ),
    # SPEC records "each side's reading" without naming who marks it: those who take part in
    # the consultation (who may post), not those who only read it (auditors, approvers).
    ("POST", f"{CONSULTATION}/read"): Rule(
        sees=PARTIES, may=members((AUT, CTP), "officer", "diplomat", scope="consultations:write")
    ),
    ("POST", f"{CONSULTATION}/close"): Rule(
        sees=PARTIES,
        may=members((AUT, CTP), "officer", scope="consultations:write"),
        body={"outcome": "resolved"},
    ),
    # Notices: drafts are the authority's alone; issued ones are seen by every side.
    ("POST", f"{DIALOGUE}/notices"): Rule(
        sees=ALL_SIDES,
        may=members(AUT, "officer", scope="notices:write"),
        ok=201,
        body=new_notice,
    ),
    ("GET", f"{DIALOGUE}/notices"): reads("notices"),
    ("GET", NOTICE): reads("notices"),
    ("PATCH", NOTICE): Rule(
        sees=sides(AUT),
        may=members(AUT, "officer", scope="notices:write"),
        ids=DRAFT,
        body={"summary": "Suspension (revised)"},
    ),
    # No scope issues a notice: a human approver signs off every decision (SPEC 2).
    ("POST", f"{NOTICE}/issue"): Rule(
        sees=sides(AUT), may=members(AUT, "approver"), ids=DRAFT, body={}
    ),
    ("POST", f"{NOTICE}/acknowledge"): Rule(
        sees=ALL_SIDES,
        may=members(CTP, "officer", "diplomat", scope="notices:acknowledge"),
        body={},
    ),
    ("GET", f"{NOTICE}/signed"): reads("notices"),
    # Events and the audit trail: each caller's own share of them.
    ("GET", f"{API}/events"): Rule(may=granted(scope="events:read")),
    # SPEC gives observers no audit trail: they have no auditors, nor do their systems read it
    # whatever scope they were given. An unrelated organization's auditors read their own.
    ("GET", f"{API}/audit"): Rule(may=AUDITORS),
    ("GET", f"{API}/audit/verify"): Rule(may=AUDITORS),
    # Webhooks: an organization's own, managed by its admins (SPEC 2, every side alike).
    ("POST", f"{API}/webhooks"): Rule(
        may=WEBHOOK_MANAGERS, ok=201, body={"url": URL, "event_types": ["notice.*"]}
    ),
    ("GET", f"{API}/webhooks"): Rule(may=WEBHOOK_MANAGERS),
    ("GET", WEBHOOK): webhook(),
    ("PATCH", WEBHOOK): webhook(body={"description": "Border systems"}),
    ("DELETE", WEBHOOK): webhook(204),
    ("POST", f"{WEBHOOK}/rotate-secret"): webhook(body={}),
    ("POST", f"{WEBHOOK}/test"): webhook(202),
    ("GET", f"{WEBHOOK}/deliveries"): webhook(),
    ("GET", DELIVERY): webhook(),
    ("POST", f"{DELIVERY}/redeliver"): webhook(202),
    ("POST", f"{WEBHOOK}/redeliver-failed"): webhook(202, body={"since": "2020-01-01T00:00:00Z"}),
}
