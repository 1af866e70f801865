from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Discriminator, Field, StrictBool, StringConstraints, Tag

from service.api.types import Input, Instant, Output, Text

AssuranceStatus = Literal["requested", "submitted", "accepted", "rejected", "withdrawn", "breached"]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Signatory(Input):
    name: Text(200)  # type: ignore[valid-type]
    title: Text(200)  # type: ignore[valid-type]


class AssuranceRequest(Input):
    """The authority asks the counterpart for an assurance covering these permits."""

    permit_ids: list[UUID] = Field(min_length=1, max_length=500)
    due_at: Instant


class AssuranceFields(Input):
    """The certificate the counterpart gives (SPEC section 3)."""

    end_user: Text(200)  # type: ignore[valid-type]
    end_use: Text(2000)  # type: ignore[valid-type]
    destination_country: Country
    retransfer_clause: StrictBool = Field(
        description="No re-export without the authority's prior written consent."
    )
    valid_until: date
    signatory: Signatory
    document_sha256: Sha256 | None = None
    register_number: Text(100)  # type: ignore[valid-type]
    issue_date: date
    consent_to_verification: StrictBool


class AssuranceSubmit(AssuranceFields):
    """Submitting without a prior request names the permits it covers."""

    permit_ids: list[UUID] = Field(min_length=1, max_length=500)


class AssuranceDecision(Input):
    reason: Text(2000)  # type: ignore[valid-type]


class SignatoryRead(Output):
    name: str | None
    title: str | None


class AssuranceRead(Output):
    id: UUID
    dialogue_id: UUID
    status: AssuranceStatus
    permit_ids: list[UUID]
    due_at: datetime | None
    end_user: str | None
    end_use: str | None
    destination_country: str | None
    retransfer_clause: bool | None
    valid_until: date | None
    signatory: SignatoryRead
    document_sha256: str | None
    register_number: str | None
    issue_date: date | None
    consent_to_verification: bool | None
    requested_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_reason: str | None
    breached_by_notice_id: UUID | None
    created_at: datetime
    updated_at: datetime
    requested_by: UUID | None = Field(default=None, description="User or API client that asked.")
    submitted_by: UUID | None = Field(default=None, description="User or API client that gave it.")
    decided_by: UUID | None = Field(default=None, description="User or API client that decided.")


class AssuranceAccept(Input):
    """Accepting takes no fields: the assurance as submitted is what the authority accepts."""


class AssuranceWithdraw(Input):
    """Withdrawing takes no fields."""


CERTIFICATE_FIELDS = frozenset(AssuranceFields.model_fields)


def assurance_shape(body: Any) -> str | None:
    """A body carrying certificate fields is a submission; otherwise it is a request.

    Deciding by the fields present (not by trying both) keeps a typo in a submission from
    also being reported as a dozen errors of the request shape.
    """
    if isinstance(body, AssuranceFields | AssuranceRequest):
        return "submit" if isinstance(body, AssuranceFields) else "request"
    if not isinstance(body, dict):
        return None
    return "submit" if CERTIFICATE_FIELDS & body.keys() else "request"


AssuranceCreate = Annotated[
    Annotated[AssuranceRequest, Tag("request")] | Annotated[AssuranceSubmit, Tag("submit")],
    Discriminator(assurance_shape),
]
