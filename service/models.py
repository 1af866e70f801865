"""Every table's model, imported in one place so the metadata (and Alembic) sees them all."""

from service.api.idempotency import IdempotencyRecord
from service.audit.models import AuditEntry, AuditHead
from service.db import Base
from service.parties.models import (
    ApiClient,
    Dialogue,
    DialogueObserver,
    Organization,
    SigninThrottle,
    User,
)

metadata = Base.metadata

__all__ = [
    "ApiClient",
    "AuditEntry",
    "AuditHead",
    "Dialogue",
    "DialogueObserver",
    "IdempotencyRecord",
    "Organization",
    "SigninThrottle",
    "User",
    "metadata",
]
