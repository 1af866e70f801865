"""Every table's model, imported in one place so the metadata (and Alembic) sees them all."""

from service.api.idempotency import IdempotencyRecord
from service.assurances.models import AssurancePermit, EndUseAssurance
from service.audit.models import AuditEntry, AuditHead
from service.consultations.models import (
    Consultation,
    ConsultationAssurance,
    ConsultationPermit,
    Message,
    ReadReceipt,
)
from service.db import Base
from service.events.models import OutboxEvent, OutboxHead
from service.notices.models import (
    DecisionNotice,
    NoticeBreachedAssurance,
    NoticeCounter,
    NoticePermit,
)
from service.parties.models import (
    ApiClient,
    Dialogue,
    DialogueObserver,
    Organization,
    SigninThrottle,
    User,
)
from service.permits.models import Permit, PermitStatusChange
from service.web.models import WebSession
from service.webhooks.models import (
    FanoutHead,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

metadata = Base.metadata

__all__ = [
    "ApiClient",
    "AssurancePermit",
    "AuditEntry",
    "AuditHead",
    "Consultation",
    "ConsultationAssurance",
    "ConsultationPermit",
    "DecisionNotice",
    "Dialogue",
    "DialogueObserver",
    "EndUseAssurance",
    "FanoutHead",
    "IdempotencyRecord",
    "Message",
    "NoticeBreachedAssurance",
    "NoticeCounter",
    "NoticePermit",
    "Organization",
    "OutboxEvent",
    "OutboxHead",
    "Permit",
    "PermitStatusChange",
    "ReadReceipt",
    "SigninThrottle",
    "User",
    "WebSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
