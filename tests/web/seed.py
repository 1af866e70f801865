"""The scene the browser tests play in, written through the REST API as real clients would.

Three dialogues, kept apart so that each kind of check looks at pages holding only its data:

- CA-GAC ↔ TR-MFA (the seed case, CA-CBSA observing): the scenarios, the accessibility checks
  and the screenshots. Each scenario has records of its own, so test order does not matter.
- ZZ-EXPORT ↔ NL-MFA: every user-written field a payload, names and title included.
- GB-ECJU ↔ FR-MEAE: records written in French, so that English on the French pages can only
  come from the interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import update

from service.consultations.models import Consultation
from service.db import utcnow
from service.parties import dialogues
from service.parties import service as party_service
from service.parties.schemas import DialogueCreate, OrganizationCreate, UserCreate
from service.uow import UnitOfWork
from tests.domain import permit_body
from tests.factories import PASSWORD, Persona, World, build_world, client_persona, user_persona

API = "/api/v1"


def xss(tag: str) -> str:
    """A payload that runs ``alert`` if it is rendered as markup, in text or in an attribute."""
    return f"\"'><img src=x onerror=alert('{tag}')><script>alert('{tag}')</script>"


def short_xss(tag: str) -> str:
    return f"<svg onload=alert('{tag}')>"  # for fields of 40 characters


# Extra people beyond tests.factories.PEOPLE: (username, organization, roles, display name)
EXTRA_PEOPLE = [
    ("dual-officer", "CA-GAC", ["officer", "approver"], "Officer who also approves"),
    ("gb-officer", "GB-ECJU", ["officer"], "Agente d'exportation"),
    ("gb-approver", "GB-ECJU", ["approver"], "Directrice des exportations"),
    ("fr-diplomat", "FR-MEAE", ["diplomat"], "Conseillère d'ambassade"),
]
# The hostile dialogue's parties and people: everything they write is a payload.
HOSTILE_ORGS = [
    ("ZZ-EXPORT", "Export Authority of Zedland", "ZZ", "licensing_authority"),
    ("NL-MFA", xss("organization-name"), "NL", "counterpart_ministry"),
]
HOSTILE_PEOPLE = [
    ("xss-officer", "ZZ-EXPORT", ["officer"], xss("display-name")),
    ("xss-approver", "ZZ-EXPORT", ["approver"], "Approver of Zedland"),
    ("xss-admin", "ZZ-EXPORT", ["admin"], "Administrator of Zedland"),
    ("xss-auditor", "ZZ-EXPORT", ["auditor"], "Auditor of Zedland"),
    ("xss-diplomat", "NL-MFA", ["diplomat"], "Diplomat of the Netherlands"),
]


@dataclass
class Scene:
    world: World
    people: dict[str, Persona] = field(default_factory=dict)
    permits: dict[str, str] = field(default_factory=dict)  # number -> id
    consultations: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
    assurances: dict[str, str] = field(default_factory=dict)
    hostile: dict[str, str] = field(default_factory=dict)  # ids in the hostile dialogue
    payloads: dict[str, str] = field(default_factory=dict)  # field -> payload written there
    french: dict[str, str] = field(default_factory=dict)  # ids in the French dialogue
    # Words of the French dialogue that are data, not interface (names, titles, codes).
    french_data: list[str] = field(default_factory=list)

    @property
    def dialogue_id(self) -> UUID:
        assert self.world.dialogue_id is not None
        return self.world.dialogue_id

    @property
    def french_dialogue_id(self) -> UUID:
        assert self.world.other_dialogue_id is not None
        return self.world.other_dialogue_id


class Api:
    """The REST API in-process, as each persona."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, persona: Persona, method: str, path: str, body: Any = None) -> Any:
        response = await self.client.request(method, API + path, json=body, headers=persona.headers)
        assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
        return response.json()


def at(days: float) -> str:
    return (utcnow() + timedelta(days=days)).isoformat().replace("+00:00", "Z")


async def build_scene(app: Any, client: httpx.AsyncClient) -> Scene:
    world = await build_world(app, client)
    scene = Scene(world=world)
    api = Api(client)
    await add_people(app, scene, EXTRA_PEOPLE)
    await add_permits(api, scene)
    await add_assurance(api, scene)
    await add_consultations(app, api, scene)
    await add_notices(api, scene)
    await add_webhook(api, scene.world.host_admin, "Customs systems: notices and permit changes")
    await add_hostile_dialogue(app, api, scene)
    await add_french_dialogue(app, api, scene)
    return scene


async def add_people(app: Any, scene: Scene, people: list[tuple[str, str, list[str], str]]) -> None:
    world = scene.world
    uow = UnitOfWork(app.state.database).as_actor(world.host_admin.principal.as_actor())
    for username, org, roles, display_name in people:
        data = UserCreate(
            organization_id=world.orgs[org].id,
            username=username,
            display_name=display_name,
            password=PASSWORD,
            roles=roles,
        )
        await party_service.create_user(uow, world.host_admin.principal, data=data)
        scene.people[username] = await user_persona(app, uow, username)


async def add_permits(api: Api, scene: Scene) -> None:
    world = scene.world
    bodies = [permit_body(f"EXP-2020-{n:04d}") for n in range(1, 9)]
    path = f"/dialogues/{world.dialogue_id}/permits/bulk"
    created = await api(world.permit_system, "POST", path, {"permits": bodies})
    scene.permits = {row["number"]: row["id"] for row in created["items"]}


def assurance_certificate(permit_ids: list[str]) -> dict[str, Any]:
    today = utcnow().date()
    return {
        "permit_ids": permit_ids,
        "end_user": "Turkish Armed Forces",
        "end_use": "Own use on the armed forces' UAVs; no re-export.",
        "destination_country": "TR",
        "retransfer_clause": True,
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "signatory": {"name": "A. Diplomat", "title": "Director General"},
        "register_number": "TR-EUC-2020-17",
        "issue_date": (today - timedelta(days=10)).isoformat(),
        "consent_to_verification": True,
    }


async def add_assurance(api: Api, scene: Scene) -> None:
    world = scene.world
    path = f"/dialogues/{world.dialogue_id}/assurances"
    permits = [scene.permits["EXP-2020-0001"], scene.permits["EXP-2020-0008"]]
    accepted = await api(world.diplomat, "POST", path, assurance_certificate(permits))
    await api(world.officer, "POST", f"/assurances/{accepted['id']}/accept", {})
    scene.assurances["accepted"] = accepted["id"]


async def consult(
    api: Api, persona: Persona, dialogue_id: Any, subject: str, body: str, due_in_days: float
) -> str:
    path = f"/dialogues/{dialogue_id}/consultations"
    opened = await api(persona, "POST", path, {"subject": subject, "topic": "end_use_inquiry"})
    message = {"body": body, "response_requested_by": at(due_in_days)}
    await api(persona, "POST", f"/consultations/{opened['id']}/messages", message)
    return opened["id"]


CONSULTATIONS = [  # (key, subject, first message, answer due in days)
    (
        "later",
        "Maintenance visits to the turrets in 2021",
        "Please confirm the dates of the maintenance visits.",
        5,
    ),
    (
        "overdue",
        "Reports of MX-15D optics in a third country's armed conflict",
        "Please confirm that the turrets remain with the end user named in TR-EUC-2020-17.",
        2,
    ),
    (
        "overdue-kept",
        "Serial numbers of the delivered turrets",
        "Please send the serial numbers of the turrets delivered in 2020.",
        2,
    ),
]


async def add_consultations(app: Any, api: Api, scene: Scene) -> None:
    """Awaiting the counterpart's answer: one due later, two overdue (one stays so)."""
    for key, subject, body, days in CONSULTATIONS:
        scene.consultations[key] = await consult(
            api, scene.world.officer, scene.dialogue_id, subject, body, days
        )
    await make_overdue(
        app, {scene.consultations["overdue"]: 1, scene.consultations["overdue-kept"]: 2}
    )


async def make_overdue(app: Any, days_late: dict[str, float]) -> None:
    """Deadlines cannot be set in the past through the API: move them there."""
    async with app.state.database.sessions() as session:
        for consultation_id, days in days_late.items():
            await session.execute(
                update(Consultation)
                .where(Consultation.id == UUID(consultation_id))
                .values(response_due_at=utcnow() - timedelta(days=days))
            )
        await session.commit()


async def notice(
    api: Api, scene: Scene, kind: str, permits: list[str], *, issue: bool = True, **fields: Any
) -> str:
    body = {
        "kind": kind,
        "permit_ids": [scene.permits[number] for number in permits],
        "summary": f"{kind.capitalize()} of permit {', '.join(permits)}",
        "rationale": "Credible reports place the optics in a third country's armed conflict.",
        "legal_basis": "Export and Import Permits Act, s. 10(1)",
    } | fields
    world = scene.world
    drafted = await api(world.officer, "POST", f"/dialogues/{scene.dialogue_id}/notices", body)
    if issue:
        await api(world.approver, "POST", f"/notices/{drafted['id']}/issue", {})
    return drafted["id"]


async def add_notices(api: Api, scene: Scene) -> None:
    scene.notices["cancellation"] = await notice(
        api,
        scene,
        "cancellation",
        ["EXP-2020-0002"],
        breached_assurance_ids=[scene.assurances["accepted"]],
    )
    scene.notices["suspension"] = await notice(
        api, scene, "suspension", ["EXP-2020-0003", "EXP-2020-0004"]
    )
    scene.notices["acknowledged"] = await notice(api, scene, "suspension", ["EXP-2020-0005"])
    path = f"/notices/{scene.notices['acknowledged']}/acknowledge"
    await api(scene.world.diplomat, "POST", path, {})
    scene.notices["draft"] = await notice(
        api, scene, "cancellation", ["EXP-2020-0006"], issue=False
    )


async def add_webhook(api: Api, admin: Persona, description: str) -> None:
    body = {
        "url": "http://127.0.0.1:9/entente-hooks",
        "event_types": ["notice.*", "permit.status_changed"],
        "description": description,
    }
    await api(admin, "POST", "/webhooks", body)


async def add_hostile_dialogue(app: Any, api: Api, scene: Scene) -> None:
    """ZZ-EXPORT ↔ NL-MFA, where every user-written field is a payload."""
    world = scene.world
    admin = world.host_admin.principal
    uow = UnitOfWork(app.state.database).as_actor(admin.as_actor())
    for code, name, country, kind in HOSTILE_ORGS:
        data = OrganizationCreate(code=code, name=name, country=country, kind=kind)
        world.orgs[code] = await party_service.create_organization(uow, admin, data=data)
    await add_people(app, scene, HOSTILE_PEOPLE)
    people = scene.people
    title = xss("dialogue-title")
    opener = people["xss-admin"].principal
    dialogue = await dialogues.open_dialogue(
        uow.as_actor(opener.as_actor()),
        opener,
        data=DialogueCreate(
            title=title,
            authority_id=world.orgs["ZZ-EXPORT"].id,
            counterpart_id=world.orgs["NL-MFA"].id,
        ),
    )
    scene.hostile["dialogue"] = str(dialogue.id)
    scene.payloads |= {
        "organization name": HOSTILE_ORGS[1][1],
        "display name": HOSTILE_PEOPLE[0][3],
        "dialogue title": title,
    }
    await add_hostile_records(app, api, scene, dialogue.id)
    description = xss("webhook-description")
    await add_webhook(api, people["xss-admin"], description)
    scene.payloads["webhook description"] = description


async def add_hostile_records(app: Any, api: Api, scene: Scene, dialogue_id: UUID) -> None:
    people = scene.people
    officer, diplomat = people["xss-officer"], people["xss-diplomat"]
    fields = {
        "exporter": xss("permit-exporter"),
        "consignee": xss("permit-consignee"),
        "end_user": xss("permit-end-user"),
    }
    permit = permit_body("ZZ-XSS-0001", **fields, destination_country="NL")
    permit["items"][0]["description"] = xss("permit-item")
    system = await client_persona(app, scene.world, "ZZ-EXPORT", ["permits:write"])
    created = await api(system, "POST", f"/dialogues/{dialogue_id}/permits", permit)
    scene.hostile["permit"] = created["id"]
    scene.payloads |= {f"permit {name}": value for name, value in fields.items()}
    scene.payloads["permit item"] = permit["items"][0]["description"]

    fields = {
        "end_user": xss("assurance-end-user"),
        "end_use": xss("assurance-end-use"),
        "register_number": xss("register"),
        "signatory": {"name": xss("signatory-name"), "title": xss("signatory-title")},
        "destination_country": "NL",
    }
    body = assurance_certificate([created["id"]]) | fields
    submitted = await api(diplomat, "POST", f"/dialogues/{dialogue_id}/assurances", body)
    reason = xss("rejection-reason")
    await api(officer, "POST", f"/assurances/{submitted['id']}/reject", {"reason": reason})
    scene.hostile["assurance"] = submitted["id"]
    scene.payloads |= {
        "assurance end_user": fields["end_user"],
        "assurance end_use": fields["end_use"],
        "assurance register_number": fields["register_number"],
        "signatory name": fields["signatory"]["name"],
        "signatory title": fields["signatory"]["title"],
        "rejection reason": reason,
    }

    subject, message = xss("consultation-subject"), xss("message-body")
    scene.hostile["consultation"] = await consult(api, officer, dialogue_id, subject, message, 10)
    scene.payloads |= {"consultation subject": subject, "message body": message}

    fields = {
        "kind": "general",
        "permit_ids": [],
        "summary": xss("notice-summary"),
        "rationale": xss("notice-rationale"),
        "legal_basis": xss("notice-legal-basis"),
        "classification": short_xss("cls"),
    }
    drafted = await api(officer, "POST", f"/dialogues/{dialogue_id}/notices", fields)
    await api(people["xss-approver"], "POST", f"/notices/{drafted['id']}/issue", {})
    scene.hostile["notice"] = drafted["id"]
    scene.payloads |= {
        f"notice {name}": value for name, value in fields.items() if isinstance(value, str)
    }
    scene.payloads.pop("notice kind")


async def add_french_dialogue(app: Any, api: Api, scene: Scene) -> None:
    """GB-ECJU ↔ FR-MEAE, written in French: what fr-diplomat sees holds no English data."""
    world = scene.world
    dialogue_id = scene.french_dialogue_id
    system = await client_persona(app, world, "GB-ECJU", ["permits:write"])
    permit = permit_body(
        "GB-2021-0001",
        exporter="Optique Atlantique SA",
        consignee="Direction générale de l'armement",
        end_user="Forces armées françaises",
        destination_country="FR",
    )
    permit["items"][0]["description"] = "Tourelle d'imagerie et de visée"
    created = await api(system, "POST", f"/dialogues/{dialogue_id}/permits", permit)
    scene.french["permit"] = created["id"]
    officer, approver = scene.people["gb-officer"], scene.people["gb-approver"]
    opened = await api(
        officer,
        "POST",
        f"/dialogues/{dialogue_id}/consultations",
        {"subject": "Visites de maintenance des tourelles", "topic": "end_use_inquiry"},
    )
    message = {
        "body": "Merci de confirmer les dates des visites de maintenance.",
        "response_requested_by": at(7),
    }
    await api(officer, "POST", f"/consultations/{opened['id']}/messages", message)
    scene.french["consultation"] = opened["id"]
    body = {
        "kind": "suspension",
        "permit_ids": [created["id"]],
        "summary": "Suspension du permis GB-2021-0001",
        "rationale": "Des rapports crédibles situent les tourelles dans un conflit armé.",
        "legal_basis": "Loi de 2002 sur le contrôle des exportations, art. 6",
        "classification": "UNCLASSIFIED",
    }
    drafted = await api(officer, "POST", f"/dialogues/{dialogue_id}/notices", body)
    await api(approver, "POST", f"/notices/{drafted['id']}/issue", {})
    scene.french["notice"] = drafted["id"]
    orgs = [world.orgs[code].name for code in ("GB-ECJU", "FR-MEAE")]
    scene.french_data = [
        *orgs,
        "GB-ECJU and FR-MEAE",
        "GB-ECJU",
        "FR-MEAE",
        "UNCLASSIFIED",
    ]
