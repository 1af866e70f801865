"""Queries of the audit trail, as an organization may read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from service.audit.models import AuditEntry
from service.auth.principal import Principal
from service.parties.models import Dialogue


def visible_entries(caller: Principal) -> Any:
    """Entries of dialogues the caller's organization is a party to, and of its own members
    (including their refused attempts on dialogues of others)."""
    org = caller.org_id
    party_dialogues = select(Dialogue.id).where(
        or_(Dialogue.authority_id == org, Dialogue.counterpart_id == org)
    )
    return select(AuditEntry).where(
        or_(
            AuditEntry.dialogue_id.in_(party_dialogues),
            AuditEntry.org_id == org,
        )
    )
