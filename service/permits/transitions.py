"""The one way a permit's status changes: through an issued notice, or through expiry.

Each change is kept as history with the notice that caused it, audited, and announced as a
``permit.status_changed`` event, all in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from service.db import utcnow
from service.permits.models import Permit, PermitStatusChange
from service.permits.schemas import PermitRead, PermitStatusChanged
from service.uow import Transaction

# notice kind -> {from status: to status} (SPEC section 3)
BY_NOTICE_KIND: dict[str, dict[str, str]] = {
    "suspension": {"active": "suspended"},
    "reinstatement": {"suspended": "active"},
    "cancellation": {"active": "cancelled", "suspended": "cancelled"},
    "general": {},
}
EXPIRABLE = ("active", "suspended")


def target_status(kind: str, current: str) -> str | None:
    """Where a notice of ``kind`` moves a permit now ``current``; None if it cannot."""
    return BY_NOTICE_KIND.get(kind, {}).get(current)


def change_status(tx: Transaction, permit: Permit, to_status: str, *, notice: Any = None) -> None:
    from_status, now = permit.status, utcnow()
    permit.status, permit.updated_at = to_status, now
    notice_id = notice.id if notice is not None else None
    tx.session.add(
        PermitStatusChange(
            permit_id=permit.id,
            from_status=from_status,
            to_status=to_status,
            notice_id=notice_id,
            at=now,
        )
    )
    reference = getattr(notice, "reference", None)
    tx.emit(
        "permit.status_changed",
        PermitStatusChanged(
            permit=PermitRead.model_validate(permit),
            from_status=from_status,
            to_status=to_status,
            notice_id=notice_id,
            notice_reference=reference,
        ),
        dialogue_id=permit.dialogue_id,
    )
    tx.audit(
        "permit.status_changed",
        permit,
        details={
            "from": from_status,
            "to": to_status,
            "notice_id": str(notice_id) if notice_id else None,
            "number": permit.number,
        },
    )
