from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

from service.audit.service import Actor

# What an API client may be granted. Issuing a notice is deliberately absent: a human approver
# must sign off every decision (SPEC section 2).
SCOPES = frozenset(
    {
        "dialogues:read",
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
        "webhooks:manage",
    }
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user or an API client, always of one organization."""

    kind: Literal["user", "client"]
    id: UUID
    name: str
    org_id: UUID
    org_kind: str
    org_is_host: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    def has_role(self, *roles: str) -> bool:
        return self.is_user and any(role in self.roles for role in roles)

    def has_scope(self, scope: str) -> bool:
        return self.kind == "client" and scope in self.scopes

    def as_actor(self) -> Actor:
        return Actor(type=self.kind, id=self.id, name=self.name, org_id=self.org_id)
