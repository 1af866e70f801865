"""Who may do what with parties (SPEC section 2). Pure functions, no database."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from service.auth.principal import Principal
from service.errors import NotAllowed

# Which roles make sense in which kind of organization.
ROLES_BY_KIND = {
    "licensing_authority": {"officer", "approver", "diplomat", "auditor", "admin"},
    "counterpart_ministry": {"officer", "diplomat", "auditor", "admin"},
    "observer": {"officer", "admin"},
}


def require(allowed: bool, detail: str = "Your role does not allow this.") -> None:
    if not allowed:
        raise NotAllowed(detail)


def is_host_admin(caller: Principal) -> bool:
    return caller.org_is_host and caller.has_role("admin")


def can_create_organization(caller: Principal) -> bool:
    return is_host_admin(caller)


def can_manage_members(caller: Principal, org_id: UUID) -> bool:
    """Org admins manage their own users and clients; the host's admins any organization's."""
    return caller.has_role("admin") and (caller.org_id == org_id or caller.org_is_host)


def roles_fit(kind: str, roles: Iterable[str]) -> bool:
    return set(roles) <= ROLES_BY_KIND[kind]


def can_open_dialogue(caller: Principal, authority_id: UUID) -> bool:
    return (
        caller.has_role("admin")
        and caller.org_id == authority_id
        and caller.org_kind == "licensing_authority"
    )


def side(org_id: UUID, authority_id: UUID, counterpart_id: UUID) -> str:
    if org_id == authority_id:
        return "authority"
    return "counterpart" if org_id == counterpart_id else "observer"


def can_read_dialogues(caller: Principal) -> bool:
    """People read their organization's dialogues; its systems need ``dialogues:read``."""
    return caller.is_user or caller.has_scope("dialogues:read")


READ_DIALOGUES_ONLY = "This client lacks dialogues:read."


def can_read_audit(caller: Principal) -> bool:
    # Observers get no audit trail (SPEC 2): they have no auditors, and their systems' audit:read
    # must not open what their people cannot.
    if caller.org_kind == "observer":
        return False
    return caller.has_role("auditor") or caller.has_scope("audit:read")
