"""Who calls in the access matrix: one caller per role of each side, API clients, strangers.

The dialogue is the seed case's (tests/factories.py): CA-GAC, the licensing authority (and the
host, so its admin is also the host's admin), TR-MFA its counterpart, CA-CBSA observing; GB-ECJU
is an organization of another dialogue. API clients hold every scope there is, or every scope
but the one a route needs (made once per organization and missing scope).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.auth.principal import SCOPES
from service.uow import UnitOfWork
from tests.factories import Persona, World, client_persona, user_persona

AUT, CTP, OBS, OUT = "authority", "counterpart", "observer", "unrelated"
SHORT = {AUT: "aut", CTP: "ctp", OBS: "obs", OUT: "out"}
ORG_OF_SIDE = {AUT: "CA-GAC", CTP: "TR-MFA", OBS: "CA-CBSA", OUT: "GB-ECJU"}


@dataclass(frozen=True)
class Caller:
    name: str
    side: str | None = None  # None: anonymous
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] | None = None  # None: a person, not an API client

    @property
    def anonymous(self) -> bool:
        return self.side is None

    @property
    def is_client(self) -> bool:
        return self.scopes is not None

    @property
    def host_admin(self) -> bool:
        return self.side == AUT and "admin" in self.roles


ANONYMOUS = Caller("anonymous")
# (caller name, side, role, their persona in the World; None: made here)
USERS = [
    ("aut_officer", AUT, "officer", "officer"),
    ("aut_approver", AUT, "approver", "approver"),
    ("aut_diplomat", AUT, "diplomat", None),
    ("aut_auditor", AUT, "auditor", "auditor"),
    ("aut_admin", AUT, "admin", "host_admin"),
    ("ctp_officer", CTP, "officer", None),
    ("ctp_diplomat", CTP, "diplomat", "diplomat"),
    ("ctp_auditor", CTP, "auditor", "tr_auditor"),
    ("ctp_admin", CTP, "admin", "tr_admin"),
    ("obs_officer", OBS, "officer", "cbsa_officer"),
    ("obs_admin", OBS, "admin", None),
    ("out_officer", OUT, "officer", None),
    ("out_admin", OUT, "admin", "other_admin"),
    ("out_auditor", OUT, "auditor", "other_auditor"),
]
PEOPLE = [ANONYMOUS] + [Caller(name, side, frozenset({role})) for name, side, role, _ in USERS]


def client(side: str, without: str | None = None) -> Caller:
    """An API client of ``side`` holding every scope, or every scope but ``without``."""
    name = f"{SHORT[side]}_client" + (f"_without_{without}" if without else "")
    return Caller(name, side, scopes=SCOPES - {without} if without else SCOPES)


def clients_for(scope: str | None, admitted: Callable[[Caller], bool]) -> list[Caller]:
    """The API clients that call a route needing ``scope``: one of each organization with every
    scope, and, where that one is admitted, one of the same organization without ``scope``."""
    everything = [client(side) for side in (AUT, CTP, OBS, OUT)]
    if scope is None:
        return everything
    return everything + [client(c.side, without=scope) for c in everything if admitted(c)]


@dataclass
class Cast:
    """Tokens of the people and of the clients made so far."""

    app: Any
    world: World
    personas: dict[str, Persona] = field(default_factory=dict)

    async def persona(self, caller: Caller) -> Persona:
        if caller.name not in self.personas:
            org = ORG_OF_SIDE[caller.side]
            self.personas[caller.name] = await client_persona(
                self.app, self.world, org, sorted(caller.scopes)
            )
        return self.personas[caller.name]

    async def headers(self, caller: Caller) -> dict[str, str]:
        return {} if caller.anonymous else (await self.persona(caller)).headers


async def cast(app: Any, world: World) -> Cast:
    """Every person of ``USERS``, made where the world has none yet."""
    found = Cast(app, world)
    uow = UnitOfWork(app.state.database)
    for name, side, role, known in USERS:
        if known is None:
            username = await new_user(app, world, name, ORG_OF_SIDE[side], role)
            found.personas[name] = await user_persona(app, uow, username)
        else:
            found.personas[name] = getattr(world, known)
    return found


async def new_user(app: Any, world: World, name: str, org_code: str, role: str) -> str:
    from service.parties import service as party_service
    from service.parties.schemas import UserCreate
    from tests.factories import PASSWORD

    username = name.replace("_", "-")
    data = UserCreate(
        organization_id=world.orgs[org_code].id,
        username=username,
        display_name=name,
        password=PASSWORD,
        roles=[role],
    )
    await party_service.create_user(
        UnitOfWork(app.state.database), world.host_admin.principal, data=data
    )
    return username
