"""Who takes part in the state machine, and what SPEC section 2 lets each of them do.

The table here is written from SPEC.md, not imported from the service: the model must be able
to disagree with ``service.dialogue.access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.parties import service as party_service
from service.parties.schemas import OrganizationCreate, UserCreate
from service.uow import UnitOfWork
from tests.assurances.helpers import add_foreign_permit
from tests.factories import PASSWORD, Persona, World, client_persona, user_persona

ALL_SCOPES = [
    "permits:read",
    "permits:write",
    "assurances:read",
    "assurances:write",
    "consultations:read",
    "consultations:write",
    "notices:read",
    "notices:write",
    "notices:acknowledge",
    "events:read",
    "audit:read",
]


@dataclass(frozen=True)
class Party:
    name: str
    org: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None  # set for API clients only

    def may(self, roles: frozenset[str], scope: str | None) -> bool:
        if self.scopes is not None:
            return scope is not None and scope in self.scopes
        return bool(self.roles & roles)


def user(name: str, org: str, *roles: str) -> Party:
    return Party(name, org, roles=frozenset(roles))


def client(name: str, org: str, scopes: list[str]) -> Party:
    return Party(name, org, scopes=frozenset(scopes))


AUTHORITY, COUNTERPART, OBSERVER, LATE_OBSERVER, OUTSIDER = (
    "CA-GAC",
    "TR-MFA",
    "CA-CBSA",
    "TR-SSB",
    "GB-ECJU",
)
PARTIES = {
    party.name: party
    for party in [
        user("officer", AUTHORITY, "officer"),
        user("approver", AUTHORITY, "approver"),
        user("lead", AUTHORITY, "officer", "approver"),  # drafts and approves: four-eyes bites
        user("auditor", AUTHORITY, "auditor"),
        user("host_admin", AUTHORITY, "admin"),
        client("permit_system", AUTHORITY, ["permits:read", "permits:write", "audit:read"]),
        client("gac_system", AUTHORITY, ALL_SCOPES),
        user("diplomat", COUNTERPART, "diplomat"),
        user("tr_officer", COUNTERPART, "officer"),
        user("tr_admin", COUNTERPART, "admin"),
        user("tr_auditor", COUNTERPART, "auditor"),
        client("tr_system", COUNTERPART, ALL_SCOPES),
        user("cbsa_officer", OBSERVER, "officer"),
        client("cbsa_system", OBSERVER, ["permits:read", "notices:read", "events:read"]),
        user("ssb_officer", LATE_OBSERVER, "officer"),
        user("other_admin", OUTSIDER, "admin"),
        user("other_auditor", OUTSIDER, "auditor"),
        client("gb_system", OUTSIDER, ALL_SCOPES),
    ]
}
ANY_ROLE = frozenset({"officer", "approver", "diplomat", "auditor", "admin"})
AUT, CTP, OBS = "authority", "counterpart", "observer"
EVERYONE = frozenset({AUT, CTP, OBS})
PARTNERS = frozenset({AUT, CTP})

# SPEC section 2: action -> (sides, user roles, client scope granting it; None: no client may)
ACCESS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "read_permits": (EVERYONE, ANY_ROLE, "permits:read"),
    "register": (frozenset({AUT}), frozenset({"officer"}), "permits:write"),
    "read_assurances": (PARTNERS, ANY_ROLE, "assurances:read"),
    "request": (frozenset({AUT}), frozenset({"officer"}), "assurances:write"),
    "submit": (frozenset({CTP}), frozenset({"officer", "diplomat"}), "assurances:write"),
    "decide": (frozenset({AUT}), frozenset({"officer"}), "assurances:write"),
    "read_consultations": (PARTNERS, ANY_ROLE, "consultations:read"),
    "consult": (PARTNERS, frozenset({"officer", "diplomat"}), "consultations:write"),
    "close": (PARTNERS, frozenset({"officer"}), "consultations:write"),
    "read_notices": (EVERYONE, ANY_ROLE, "notices:read"),
    "draft": (frozenset({AUT}), frozenset({"officer"}), "notices:write"),
    "issue": (frozenset({AUT}), frozenset({"approver"}), None),
    "acknowledge": (frozenset({CTP}), frozenset({"officer", "diplomat"}), "notices:acknowledge"),
}


def allowed(party: Party, side: str, action: str) -> bool:
    sides, roles, scope = ACCESS[action]
    return side in sides and party.may(roles, scope)


@dataclass
class Stage:
    """The running app, its client, the world of the seed case and a token per party."""

    app: Any
    client: Any
    world: World
    connection: Any
    people: dict[str, Persona]
    org_ids: dict[str, str]
    foreign_permit_id: str


async def build_stage(app: Any, client: Any, world: World, connection: Any) -> Stage:
    uow = UnitOfWork(app.state.database)
    admin = world.host_admin.principal
    data = OrganizationCreate(code=LATE_OBSERVER, name="Türkiye SSB", country="TR", kind="observer")
    world.orgs[LATE_OBSERVER] = await party_service.create_organization(uow, admin, data=data)
    people = dict(world.people)
    for party in PARTIES.values():
        if party.name in people:
            continue
        if party.scopes is not None:
            people[party.name] = await client_persona(app, world, party.org, sorted(party.scopes))
        else:
            people[party.name] = await new_user(app, uow, world, party)
    foreign = await add_foreign_permit(app, world)
    org_ids = {code: str(org.id) for code, org in world.orgs.items()}
    return Stage(app, client, world, connection, people, org_ids, str(foreign.id))


async def new_user(app: Any, uow: UnitOfWork, world: World, party: Party) -> Persona:
    username = party.name.replace("_", "-")
    data = UserCreate(
        organization_id=world.orgs[party.org].id,
        username=username,
        display_name=party.name,
        password=PASSWORD,
        roles=sorted(party.roles),
    )
    await party_service.create_user(uow, world.host_admin.principal, data=data)
    return await user_persona(app, uow, username)
